"""Shared contracts of citysense: readings, units, topics, districts, devices, VN_AQI, standards.

Pure Python, no I/O at import time. Every service imports this package; it imports none of them.
"""

SCHEMA_VERSION = 1
