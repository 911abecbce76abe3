"""Tell the payload format from the content."""

from __future__ import annotations

from telemetry.formats import native, ngsi, senml
from telemetry.reading import PayloadFormat
from telemetry.rejections import Reason, Rejected


def detect(value: object) -> PayloadFormat:
    if native.looks_native(value):
        return PayloadFormat.NATIVE
    if ngsi.looks_ngsi(value):
        return PayloadFormat.NGSI_LD
    if senml.looks_senml(value):
        return PayloadFormat.SENML
    if isinstance(value, dict):
        raise Rejected(
            Reason.MISSING_FIELD,
            "unknown payload: expected native {ts, metrics}, a SenML array, or an NGSI-LD entity "
            f"of type {', '.join(ngsi.ENTITY_TYPES)}",
        )
    if isinstance(value, list):
        what = "an empty array" if not value else "an array that is not SenML (records with n, u and v)"
        raise Rejected(Reason.WRONG_TYPE, f"payload is {what}: expected a native object, a SenML array or an "
                       "NGSI-LD entity")
    kinds = {str: "string", bool: "boolean", int: "number", float: "number", type(None): "null"}
    kind = kinds.get(type(value), "value")
    raise Rejected(Reason.WRONG_TYPE, f"payload is a JSON {kind}, not an object or array")
