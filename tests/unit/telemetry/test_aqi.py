"""VN_AQI per Decision 1459/QĐ-TCMT: breakpoint edges, worked example, NowCast, daily O3 rule."""

from __future__ import annotations

import pytest

from telemetry.aqi import daily_aqi, hourly_aqi, level_for, nowcast, sub_index
from telemetry.aqi.breakpoints import COLUMNS, table

INDEX = [0, 50, 100, 150, 200, 300, 400, 500]


@pytest.mark.parametrize("column", COLUMNS)
def test_every_breakpoint_maps_to_its_index(column):
    for bp, index in table()[column]:
        value, beyond = sub_index(column, bp)
        assert value == pytest.approx(index) and not beyond


def test_breakpoint_table_is_the_decisions():
    assert table()["pm2_5"] == list(zip([0, 25, 50, 80, 150, 250, 350, 500], INDEX))
    assert table()["pm10"] == list(zip([0, 50, 150, 250, 350, 420, 500, 600], INDEX))
    assert table()["o3_8h"] == list(zip([0, 100, 120, 170, 210, 400], INDEX[:6]))
    assert table()["co"][-1] == (150000, 500) and table()["no2"][3] == (700, 150)


def test_linear_between_breakpoints():
    assert sub_index("pm2_5", 37.5)[0] == pytest.approx(75.0)
    assert sub_index("pm10", 200)[0] == pytest.approx(125.0)
    assert sub_index("so2", 125.0001)[0] == pytest.approx(50.0, abs=1e-3)


def test_decisions_worked_example_no2():
    # The decision's example: NO2 = 118.7 µg/m³. The formula gives 59.35 (the text prints 60).
    assert sub_index("no2", 118.7)[0] == pytest.approx(59.35)
    assert hourly_aqi({"pm2_5": [10, 10, 10]}, {"no2": 118.7}).sub_indices["no2"] == 59


def test_above_top_breakpoint_is_capped_and_flagged():
    assert sub_index("pm2_5", 800) == (500.0, True)
    r = hourly_aqi({"pm2_5": [800, 800]}, {})
    assert r.aqi == 500 and r.beyond_index
    assert sub_index("o3_8h", 401) is None


def test_levels_and_colours():
    assert level_for(50).en == "Good" and level_for(51).vi == "Trung bình"
    assert level_for(150).vi == "Kém" and level_for(151).vi == "Xấu" and level_for(151).rgb == (255, 0, 0)
    assert level_for(300).en == "Very bad" and level_for(301).vi == "Nguy hại" and level_for(500).rgb == (126, 0, 35)


def test_nowcast_weights():
    # Steady: NowCast equals the concentration.
    assert nowcast([40.0] * 12) == pytest.approx(40.0)
    # w* = 40/60 > 1/2 -> w = 2/3.
    w = 40 / 60
    assert nowcast([40, 50, 60]) == pytest.approx((40 + w * 50 + w**2 * 60) / (1 + w + w**2))
    # w* = 10/100 ≤ 1/2 -> w = 1/2, normalised over the hours present.
    assert nowcast([100, 10, 50]) == pytest.approx((100 + 0.5 * 10 + 0.25 * 50) / 1.75)


def test_nowcast_with_missing_hours():
    # A missing hour has weight 0: hours c1, c3 present (2 of the first 3 suffice).
    assert nowcast([60, None, 40]) == pytest.approx((60 + (40 / 60) ** 2 * 40) / (1 + (40 / 60) ** 2))
    assert nowcast([60, None, None, 40, 40]) is None  # only 1 of c1..c3
    assert nowcast([None, 30, 30] + [None] * 9) == pytest.approx(30.0)
    assert nowcast([0, 0, 0]) == 0.0


def test_nowcast_full_day_agrees_with_the_texts_unnormalised_form():
    c = [120, 20, 30, 25, 20, 15, 10, 12, 14, 16, 18, 20]
    text_form = sum(0.5 ** (i + 1) * x for i, x in enumerate(c))
    assert nowcast(c) == pytest.approx(text_form, rel=3e-4)


def test_hourly_needs_pm():
    r = hourly_aqi({}, {"o3": 250, "no2": 80})
    assert r.aqi is None and r.sub_indices == {"o3": 125, "no2": 40}


def test_hourly_dominant_pollutant():
    r = hourly_aqi({"pm2_5": [30, 30, 30], "pm10": [40, 40, 40]}, {"o3": 350, "co": 5000})
    assert r.dominant == "o3" and r.aqi == 175
    assert r.sub_indices == {"pm2_5": 60, "pm10": 40, "o3": 175, "co": 25}


def test_daily_o3_takes_the_larger_sub_index():
    r = daily_aqi({"pm2_5": 20, "o3_1h_max": 150, "o3_8h_max": 130})
    # 1h: 150 -> 46.9; 8h: 130 -> 110 -> the 8 h one counts
    assert r.sub_indices["o3"] == 110 and r.dominant == "o3" and r.aqi == 110


def test_daily_o3_8h_above_400_is_skipped():
    r = daily_aqi({"pm10": 50, "o3_1h_max": 300, "o3_8h_max": 450})
    assert r.sub_indices["o3"] == 150  # the 1 h sub-index, as the 8 h one is not used above 400


def test_daily_uses_means_and_maxima():
    r = daily_aqi({"pm2_5": 45.0, "pm10": 80.0, "co_1h_max": 12000, "so2_1h_max": 50, "no2_1h_max": 150})
    assert r.sub_indices == {"pm2_5": 90, "pm10": 65, "co": 55, "so2": 20, "no2": 75}
    assert r.aqi == 90 and r.dominant == "pm2_5"


def test_rounding_is_half_up():
    # PM2.5 25.25 -> 50.5 -> 51 (Moderate), not banker's 50.
    assert hourly_aqi({"pm2_5": [25.25, 25.25, 25.25]}, {}).aqi == 51
