"""Which sharing interface a call belongs to, for the access log and the report."""

from __future__ import annotations

import pytest

from api.access import interface_of

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("path, interface", [
    ("/open/v1/aqi", "open-data"), ("/open/v1/aqi.geojson", "open-data"), ("/ngsi-ld/v1/entities", "ngsi-ld"),
    ("/odata/Readings", "odata"), ("/odata", "odata"), ("/api/v1/exports/readings.csv", "export"),
    ("/api/v1/areas", "api"), ("/api/v1/exportsx", "api"), ("/opendata", "api"), ("/", "api"),
])
def test_interface_of(path, interface):
    assert interface_of(path) == interface
