"""Measure the serialization of a Reading: stdlib json vs orjson (and pydantic's own JSON), and the
validation cost per message. Run: `.venv/bin/python -m bench.codec`."""

from __future__ import annotations

import json
import statistics
import time
from datetime import datetime, timezone

import orjson

from telemetry.devices import sample_registry
from telemetry.reading import Reading
from telemetry.validation import validate

N = 20_000


def per_call_us(fn, n: int = N, repeats: int = 5) -> float:
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        runs.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(runs)


def main() -> None:
    ts = datetime.now(timezone.utc).isoformat()
    payload = json.dumps({"ts": ts, "seq": 1, "metrics": {
        "pm2_5": 41.3, "pm10": 60.2, "co": 1.2, "no2": 40.1, "so2": 10.4, "o3": 50.0, "temperature": 21.5,
        "humidity": 70.0}, "units": {"co": "mg/m3"}}).encode()
    registry = sample_registry()
    topic = "citysense/v1/288/aq-288-01/telemetry"
    reading = validate(topic, payload, registry).readings[0]
    as_dict = reading.model_dump(mode="python")
    as_json_dict = reading.model_dump(mode="json")
    encoded = reading.to_json()
    results = {
        "validate (native, 8 metrics, one unit conversion)": per_call_us(lambda: validate(topic, payload, registry)),
        "encode: orjson.dumps(model_dump())": per_call_us(lambda: orjson.dumps(reading.model_dump(),
                                                                              option=orjson.OPT_UTC_Z)),
        "encode: pydantic model_dump_json()": per_call_us(reading.model_dump_json),
        "encode: json.dumps(model_dump(mode='json'))": per_call_us(lambda: json.dumps(reading.model_dump(mode="json"))),
        "encode only: orjson.dumps(dict)": per_call_us(lambda: orjson.dumps(as_dict, option=orjson.OPT_UTC_Z)),
        "encode only: json.dumps(dict)": per_call_us(lambda: json.dumps(as_json_dict)),
        "decode: Reading.model_validate_json": per_call_us(lambda: Reading.model_validate_json(encoded)),
        "decode only: orjson.loads": per_call_us(lambda: orjson.loads(encoded)),
        "decode only: json.loads": per_call_us(lambda: json.loads(encoded)),
    }
    print(f"{len(payload)}-byte payload, {len(encoded)}-byte Kafka message; median of 5 × {N} calls")
    for name, us in results.items():
        print(f"  {name:55s} {us:7.2f} µs")


if __name__ == "__main__":
    main()
