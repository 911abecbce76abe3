"""JSON Schema of the native payload format, generated from its pydantic model."""

from __future__ import annotations

import json

from telemetry.formats.native import NativePayload


def native_schema() -> dict:
    schema = NativePayload.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://citysense.example/schemas/native-telemetry.v1.json"
    return schema


def native_schema_text() -> str:
    return json.dumps(native_schema(), indent=2, ensure_ascii=False) + "\n"
