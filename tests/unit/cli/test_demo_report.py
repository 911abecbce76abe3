"""The demo's closing table as a terminal shows it: AQI cells on the decision's colours."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from cli.demo_report import render

pytestmark = pytest.mark.unit

GROUPS = [(288, "Thành phố Hải Dương (cũ)", "group", 172, "Xấu", "Bad", [255, 0, 0], "pm2_5", "Phường Chí Linh", 99.5,
           1200.0, 31.0, 2),
          (31, "Thành phố Hải Phòng", "city", 60, "Trung bình", "Moderate", [255, 255, 0], "pm2_5", "Xã A", 30.0,
           None, None, 0)]
WORST = [(10546, "Phường Chí Linh", "Thành phố Chí Linh (cũ)", 172, "Xấu", "Bad", [255, 0, 0], "pm2_5", 111.3)]
SIM = {"published": 10, "acked_by_broker": 10}


@pytest.mark.parametrize("colour", [True, False])
def test_the_table_renders_with_and_without_colour(colour):
    text = render(datetime(2026, 12, 7, 9, tzinfo=timezone.utc), GROUPS, WORST, SIM, 9, 0, {"out_of_range": 1},
                  colour=colour)
    assert "the hour 2026-12-07 16:00–17:00 (UTC+7)" in text and "lost 0" in text
    red_on_white = "\x1b[48;2;255;0;0m\x1b[97m172 Xấu / Bad"  # white letters on red
    black_on_yellow = "\x1b[48;2;255;255;0m\x1b[30m 60 Trung bình / Moderate"  # black on yellow
    assert (red_on_white in text and black_on_yellow in text) is colour
    assert ("\x1b[" in text) is colour
