"""Convert what devices really send into each metric's canonical unit.

Gases: ppm/ppb -> µg/m³ at 25 °C and 1 atm (molar volume 24.45 L/mol), per gas molar mass;
mg/m³ -> µg/m³; °F and K -> °C; m and mm -> cm; fraction -> %; km/h <-> m/s.
Unit spellings include UN/CEFACT codes (FIWARE `unitCode`) and SenML names.
"""

from __future__ import annotations

from collections.abc import Callable

from telemetry.metrics import metric
from telemetry.rejections import Reason, Rejected

MOLAR_VOLUME_L = 24.45  # L/mol at 25 °C, 101.325 kPa
MOLAR_MASS_G = {"co": 28.010, "no2": 46.0055, "so2": 64.066, "o3": 47.997}

# Spelling -> canonical unit name used below.
ALIASES: dict[str, str] = {
    # mass concentration
    "µg/m³": "ug/m3", "µg/m3": "ug/m3", "μg/m³": "ug/m3", "μg/m3": "ug/m3", "ug/m3": "ug/m3", "ug/m^3": "ug/m3",
    "gq": "ug/m3",
    "mg/m³": "mg/m3", "mg/m3": "mg/m3", "mg/m^3": "mg/m3", "gp": "mg/m3",
    "ppm": "ppm", "59": "ppm", "ppb": "ppb", "61": "ppb",
    # temperature
    "°c": "degC", "degc": "degC", "c": "degC", "cel": "degC", "celsius": "degC",
    "°f": "degF", "degf": "degF", "f": "degF", "fah": "degF", "fahrenheit": "degF",
    "k": "K", "kel": "K", "kelvin": "K",
    # ratios
    "%": "%", "percent": "%", "p1": "%", "%rh": "%", "rh": "%",
    "fraction": "fraction", "ratio": "fraction", "1": "fraction", "/": "fraction", "c62": "fraction",
    # lengths
    "cm": "cm", "cmt": "cm", "m": "m", "mtr": "m", "mm": "mm", "mmt": "mm",
    # speeds
    "m/s": "m/s", "mts": "m/s", "km/h": "km/h", "kmh": "km/h", "kmh-1": "km/h", "kph": "km/h",
    # others
    "db(a)": "dB(A)", "dba": "dB(A)", "db": "dB(A)", "2n": "dB(A)",
    "deg": "deg", "°": "deg", "degrees": "deg", "dd": "deg",
    "count": "count", "vehicles": "count", "veh": "count", "{vehicles}": "count",
}

Converter = Callable[[float], float]


def _gas(metric_name: str, per_ppm: float) -> Converter:
    factor = MOLAR_MASS_G[metric_name] * per_ppm / MOLAR_VOLUME_L
    return lambda v: v * factor


def _conversions(metric_name: str) -> dict[str, Converter]:
    """Accepted source units of a metric and how to convert each into its canonical unit."""
    same: Converter = lambda v: v  # noqa: E731
    canon = metric(metric_name)
    assert canon is not None
    target = {"µg/m³": "ug/m3", "°C": "degC"}.get(canon.unit, canon.unit)
    table: dict[str, Converter] = {target: same}
    if target == "ug/m3":
        table["mg/m3"] = lambda v: v * 1000.0
        if metric_name in MOLAR_MASS_G:
            table["ppm"] = _gas(metric_name, 1000.0)
            table["ppb"] = _gas(metric_name, 1.0)
    elif target == "degC":
        table["degF"] = lambda v: (v - 32.0) * 5.0 / 9.0
        table["K"] = lambda v: v - 273.15
    elif target == "%":
        table["fraction"] = lambda v: v * 100.0
    elif target == "cm":
        table["m"] = lambda v: v * 100.0
        table["mm"] = lambda v: v / 10.0
    elif target == "m/s":
        table["km/h"] = lambda v: v / 3.6
    elif target == "km/h":
        table["m/s"] = lambda v: v * 3.6
    return table


_CACHE: dict[str, dict[str, Converter]] = {}


def normalise_unit(unit: str) -> str | None:
    return ALIASES.get(unit.strip().lower()) or ALIASES.get(unit.strip())


def to_canonical(metric_name: str, value: float, unit: str | None) -> float:
    """`value` in `unit` (None = already canonical) expressed in the metric's canonical unit.

    Raises Rejected(bad_unit) for a unit the metric cannot be converted from.
    """
    if unit is None:
        return value
    table = _CACHE.get(metric_name)
    if table is None:
        table = _CACHE[metric_name] = _conversions(metric_name)
    key = normalise_unit(unit) if isinstance(unit, str) else None
    if key is None or key not in table:
        canon = metric(metric_name)
        raise Rejected(
            Reason.BAD_UNIT,
            f"unit {unit!r} cannot be converted to {canon.unit if canon else '?'} for metric {metric_name!r}; "
            f"accepted: {', '.join(sorted(table))}",
        )
    return table[key](value)
