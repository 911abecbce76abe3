"""Running aggregates: energy mean of decibels, vector mean of directions, count-weighted speed."""

import math

import pytest

from streams import aggregation as agg


def build(metric, values, weights=None):
    a = agg.new()
    for i, v in enumerate(values):
        agg.add(a, metric, v, None if weights is None else weights[i])
    return a


def test_basic_statistics():
    a = build("pm2_5", [10, 20, 60])
    assert agg.summary(a, "pm2_5") == {"count": 3, "min": 10, "max": 60, "sum": 90, "mean": 30}


def test_noise_is_averaged_as_energy():
    a = build("noise_laeq", [60.0, 70.0])
    expected = 10 * math.log10((10**6 + 10**7) / 2)  # 67.40 dB, not 65
    assert agg.mean(a, "noise_laeq") == pytest.approx(expected)
    assert agg.summary(a, "noise_laeq")["arithmetic_mean"] == 65.0


def test_wind_direction_is_a_vector_mean():
    assert agg.mean(build("wind_direction", [350, 10]), "wind_direction") == pytest.approx(0.0, abs=1e-9)
    assert agg.mean(build("wind_direction", [80, 100]), "wind_direction") == pytest.approx(90.0)
    assert agg.mean(build("wind_direction", [90, 270]), "wind_direction") is None


def test_speed_is_weighted_by_vehicle_counts():
    a = build("avg_speed", [60.0, 20.0], weights=[10, 30])
    assert agg.mean(a, "avg_speed") == pytest.approx((60 * 10 + 20 * 30) / 40)
    assert agg.summary(a, "avg_speed")["vehicles"] == 40
    assert agg.mean(build("avg_speed", [60.0, 20.0], weights=[0, 0]), "avg_speed") == 40.0


def test_merge_equals_one_pass():
    one = build("noise_laeq", [55, 61, 72, 48])
    two = agg.merge(build("noise_laeq", [55, 61]), build("noise_laeq", [72, 48]))
    assert agg.summary(two, "noise_laeq") == pytest.approx(agg.summary(one, "noise_laeq"))
