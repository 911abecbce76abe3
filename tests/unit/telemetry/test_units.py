"""Every unit conversion into canonical units."""

from __future__ import annotations

import pytest

from telemetry.rejections import Rejected
from telemetry.units import to_canonical


@pytest.mark.parametrize(("metric", "value", "unit", "expected"), [
    # ppm -> µg/m³ at 25 °C, 1 atm: µg/m³ = ppm × M × 1000 / 24.45
    ("co", 1.0, "ppm", 28.010 * 1000 / 24.45),
    ("no2", 1.0, "ppm", 46.0055 * 1000 / 24.45),
    ("so2", 1.0, "ppm", 64.066 * 1000 / 24.45),
    ("o3", 1.0, "ppm", 47.997 * 1000 / 24.45),
    # ppb -> µg/m³
    ("co", 1000.0, "ppb", 28.010 * 1000 / 24.45),
    ("no2", 100.0, "ppb", 100 * 46.0055 / 24.45),
    ("so2", 10.0, "ppb", 10 * 64.066 / 24.45),
    ("o3", 50.0, "ppb", 50 * 47.997 / 24.45),
    # mg/m³ -> µg/m³ (also the FIWARE unitCode GP)
    ("co", 1.5, "mg/m3", 1500.0), ("co", 1.5, "GP", 1500.0), ("pm10", 0.05, "mg/m³", 50.0),
    ("pm2_5", 12.0, "µg/m³", 12.0), ("pm2_5", 12.0, "ug/m3", 12.0), ("pm2_5", 12.0, "GQ", 12.0),
    # °F and K -> °C
    ("temperature", 212.0, "°F", 100.0), ("temperature", 32.0, "degF", 0.0), ("temperature", -40.0, "FAH", -40.0),
    ("temperature", 273.15, "K", 0.0), ("temperature", 21.0, "Cel", 21.0), ("temperature", 21.0, "CEL", 21.0),
    # m, mm -> cm
    ("water_level", 3.25, "m", 325.0), ("water_level", 3.25, "MTR", 325.0), ("water_level", 1250, "mm", 125.0),
    # fraction -> %
    ("humidity", 0.54, "fraction", 54.0), ("occupancy", 0.76, "C62", 76.0), ("humidity", 54, "%RH", 54.0),
    ("humidity", 54, "P1", 54.0),
    # speeds
    ("wind_speed", 36.0, "km/h", 10.0), ("avg_speed", 10.0, "m/s", 36.0), ("avg_speed", 52.6, "KMH", 52.6),
    ("noise_laeq", 61.0, "dB(A)", 61.0), ("noise_laeq", 61.0, "dB", 61.0),
    ("pm2_5", 7.0, None, 7.0),
])
def test_conversion(metric, value, unit, expected):
    assert to_canonical(metric, value, unit) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("metric", "ppm", "published_ug_m3", "rel"), [
    # Published conversion factors at 25 °C and 1 atm (US EPA's conversion tables, as used by AirNow),
    # three significant figures, so agreement to 0.4 %:
    # 1 ppm CO = 1.145 mg/m³, 1 ppb NO2 = 1.88 µg/m³, 1 ppb SO2 = 2.62 µg/m³, 1 ppb O3 = 1.96 µg/m³.
    ("co", 1.0, 1145.0, 0.004),
    ("no2", 1.0, 1880.0, 0.004),
    ("so2", 1.0, 2620.0, 0.004),
    ("o3", 1.0, 1960.0, 0.004),
    # WHO Air Quality Guidelines for Europe (2000) print the 1-hour CO guideline as "30 mg/m³ (26 ppm)":
    # two significant figures, so 1 %
    ("co", 26.0, 30_000.0, 0.01),
])
def test_conversion_matches_published_factors(metric, ppm, published_ug_m3, rel):
    # a figure printed in a table, not the formula again: agreement to the table's own rounding
    assert to_canonical(metric, ppm, "ppm") == pytest.approx(published_ug_m3, rel=rel)
    assert to_canonical(metric, ppm * 1000, "ppb") == pytest.approx(published_ug_m3, rel=rel)


@pytest.mark.parametrize(("metric", "unit"), [
    ("pm2_5", "ppm"),  # a particle mass has no molar mass
    ("temperature", "m"),
    ("water_level", "°C"),
    ("noise_laeq", "%"),
    ("co", "bananas"),
])
def test_impossible_conversion_is_bad_unit(metric, unit):
    with pytest.raises(Rejected) as exc:
        to_canonical(metric, 1.0, unit)
    assert exc.value.rejection.reason == "bad_unit"
