"""The dashboard's Content-Security-Policy: its own origin only, plus a configured tile server's."""

from __future__ import annotations

import pytest

from api.settings import ApiSettings
from api.web import policy

pytestmark = pytest.mark.unit


def directives(text: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in text.split(";"))


def test_no_tile_server_means_no_other_origin():
    got = directives(policy(ApiSettings()))
    assert got["img-src"] == "'self' data:" and got["connect-src"] == "'self'" and got["default-src"] == "'self'"
    assert "http" not in policy(ApiSettings())


def test_a_tile_server_is_allowed_for_images_only():
    got = directives(policy(ApiSettings(tile_url="https://{s}.tiles.example.vn/{z}/{x}/{y}.png")))
    assert got["img-src"] == "'self' data: https://a.tiles.example.vn"
    assert got["connect-src"] == "'self'" and got["script-src"] == "'self'"
