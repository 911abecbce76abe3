"""/api/v1/me and /api/v1/reference: who the caller is (consumer and role, so that a page shows an
operator's buttons and not a viewer's), and the reference tables a screen draws with — VN_AQI
categories (Decision 1459/QĐ-TCMT: colours, health advice), QCVN 05:2023 air limits, QCVN 26:2010
noise limits, the metric catalogue — from the same data the streams use, never a second copy."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import Viewer
from api.problems import documented
from telemetry.aqi.levels import LEVELS
from telemetry.metrics import catalogue
from telemetry.standards import tables

router = APIRouter(prefix="/api/v1", tags=["reference"], responses=documented(401, 403))


class Me(BaseModel):
    key_id: str
    consumer: str
    role: str


@router.get("/me", response_model=Me, summary="the caller behind the key: consumer and role")
async def me(caller: Viewer) -> dict:
    return {"key_id": caller.key_id, "consumer": caller.consumer, "role": str(caller.role)}


@router.get("/reference", summary="AQI categories, national limits and the metric catalogue")
async def reference(_: Viewer) -> dict:
    return {
        "aqi_levels": [{"low": lv.low, "high": lv.high, "vi": lv.vi, "en": lv.en, "colour": list(lv.rgb),
                        "health_vi": lv.health_vi, "health_en": lv.health_en} for lv in LEVELS],
        **tables(),
        "metrics": {m.name: {"unit": m.unit, "description": m.description, "kinds": sorted(m.kinds)}
                    for m in catalogue().values()},
    }
