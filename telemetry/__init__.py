"""Shared contracts of citysense: readings, units, topics, districts, devices, VN_AQI, standards.

Pure Python, no I/O at import time. Every service imports this package; it imports none of them.
"""

SCHEMA_VERSION = 1  # readings, rejects, device health, security events
# The streams' outputs (aggregates, AQI, alerts, late readings): 2 since areas have levels
# (`area`, `level`, `parent`; docs/contracts.md).
OUTPUT_SCHEMA_VERSION = 2
