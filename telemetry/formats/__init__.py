"""Payload formats accepted from devices: native JSON, SenML (RFC 8428), FIWARE NGSI-LD.

Each parser turns a parsed JSON value into `Observation`s (time, raw values with their units,
sequence, status); `telemetry.validation` checks and converts them into `Reading`s.
"""
