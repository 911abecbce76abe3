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


def output_schemas() -> dict[str, str]:
    """{file name in docs/schemas: JSON Schema text} of the streams' output messages (schema 2)."""
    from telemetry.outputs import AggregateMessage, AqiMessage

    out = {}
    for name, model in (("aggregate.v2.json", AggregateMessage), ("aqi.v2.json", AqiMessage)):
        schema = model.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"https://citysense.example/schemas/{name}"
        out[name] = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    return out
