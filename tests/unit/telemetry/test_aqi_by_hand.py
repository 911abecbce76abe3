"""The tests' own VN_AQI (tests/aqi_by_hand.py) against values worked out by hand from the decision's
tables, and the platform's calculator against both."""

import pytest

from telemetry.aqi import hourly_aqi
from tests.aqi_by_hand import hourly, nowcast, sub_index


def test_hand_values():
    assert sub_index("pm2_5", 25) == 50 and sub_index("pm2_5", 150) == 200
    assert sub_index("pm2_5", 108.5714) == pytest.approx(150 + 50 / 70 * 28.5714)  # 170.41
    assert sub_index("o3_1h", 80) == 25  # 50 / 160 x 80
    assert sub_index("no2", 118.7) == pytest.approx(59.35)  # the decision's example prints 60 (its rounding)
    assert nowcast([120, 120, 40]) == pytest.approx((120 + 60 + 10) / 1.75)
    assert nowcast([120, None, None]) is None  # 2 of the last 3 hours needed
    assert hourly({"pm2_5": [120, 120, 40]}, {"o3": 80}) == 170


@pytest.mark.parametrize("history", [[30.0], [160.0, 30.0], [200.0, 160.0, 30.0], [20.0, 200.0, 160.0, 30.0],
                                     [20.0, 20.0, 200.0, 160.0, 30.0], [55.0, None, 12.0, 80.0]])
def test_the_platform_agrees_with_the_hand_written_one(history):
    ours = hourly_aqi({"pm2_5": history, "pm10": [50.0] * len(history)}, {"o3": 60.0}).aqi
    want = hourly({"pm2_5": history, "pm10": [50.0] * len(history)}, {"o3": 60.0}) \
        if nowcast(history) is not None else None
    assert ours == want
