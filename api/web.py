"""The operations centre's dashboard: the page at `/` and its files under `/static` (api/web/,
libraries vendored there: no CDN, no external font), with a Content-Security-Policy that lets the
page reach only this API (and the tile server, when one is configured), and the page's settings at
`/dashboard/config.json`. The page itself asks for an API key and uses the API like any client."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from api.settings import ApiSettings
from telemetry.areas import boundaries_notice

WEB = Path(__file__).with_name("web")


def policy(settings: ApiSettings) -> str:
    """The page's Content-Security-Policy: itself, plus the tile server's origin for images."""
    tiles = ""
    if settings.tile_url:
        url = urlsplit(settings.tile_url.replace("{s}", "a"))
        tiles = f" {url.scheme}://{url.netloc}"
    return ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; font-src 'self'; "
            f"img-src 'self' data:{tiles}; connect-src 'self'; media-src 'self' data:; object-src 'none'; "
            "base-uri 'none'; form-action 'self'")


def install(app: FastAPI, settings: ApiSettings) -> None:
    credit = boundaries_notice()
    headers = {"Content-Security-Policy": policy(settings), "Cache-Control": "no-cache",
               "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(WEB / "index.html", media_type="text/html; charset=utf-8", headers=headers)

    @app.get("/dashboard/config.json", include_in_schema=False)
    async def config() -> JSONResponse:
        return JSONResponse({"tile_url": settings.tile_url, "tile_attribution": settings.tile_attribution,
                             "wall_rotate_s": settings.wall_rotate_s, "stale_after_h": settings.stale_after_h,
                             "boundaries_credit": credit},
                            headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=WEB), name="static")
