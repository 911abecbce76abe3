"""/api/v1/alerts: open and past alerts, one alert with its timeline, and what operators do about
them (acknowledge, assign, comment, close), recorded with who and when and sent to Kafka
(api/outbox.py). The stream's lifecycle (open → update → resolved / no data) stays the stream's;
the operators' actions are a second dimension on the same alert id."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from api import sql
from api.access import trace
from api.deps import Operator, Reader, Viewer
from api.models import Action, Alert, AlertDetail
from api.params import NO_NUL, AlertPath, AreaQuery, Word
from api.problems import Problem, documented

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"], responses=documented(400, 401, 403, 404))


@router.get("", response_model=list[Alert], summary="alerts, newest first")
async def alerts(request: Request, conn: Reader, _: Viewer, state: Literal["open", "all"] = "open",
                 area: AreaQuery = None, rule: Word = None, since: datetime | None = Query(None, alias="from"),
                 until: datetime | None = Query(None, alias="to"),
                 limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict]:
    within = await sql.subtree(conn, area) if area is not None else None
    rows = await (await conn.execute(
        f"SELECT {sql.ALERT_COLUMNS} FROM alerts a {sql.ALERT_OPERATOR} "
        "WHERE (%(open)s = false OR a.resolved_at IS NULL) AND (%(within)s::int[] IS NULL OR a.district = ANY(%(within)s)) "
        "AND (%(rule)s::text IS NULL OR a.rule = %(rule)s) AND (%(since)s::timestamptz IS NULL OR a.updated_at >= %(since)s) "
        "AND (%(until)s::timestamptz IS NULL OR a.opened_at < %(until)s) "
        "ORDER BY a.opened_at DESC, a.alert_id LIMIT %(limit)s",
        {"open": state == "open", "within": within, "rule": rule, "since": since, "until": until,
         "limit": limit})).fetchall()
    trace(request, "Alert", len(rows))
    return rows


async def _detail(conn, alert_id: str) -> dict:
    alert = await (await conn.execute(f"SELECT {sql.ALERT_COLUMNS} FROM alerts a {sql.ALERT_OPERATOR} "
                                      "WHERE a.alert_id = %s", (alert_id,))).fetchone()
    if alert is None:
        raise Problem(404, f"no alert {alert_id!r}")
    actions = await (await conn.execute(
        "SELECT action_id, action, actor, assignee, comment, reason, at, published_at IS NOT NULL AS published "
        "FROM alert_actions WHERE alert_id = %s ORDER BY at, action_id", (alert_id,))).fetchall()
    timeline = [{"at": alert["opened_at"], "kind": "stream", "what": "open"}]
    if alert["updated_at"] != alert["opened_at"] and alert["resolved_at"] is None:
        timeline.append({"at": alert["updated_at"], "kind": "stream", "what": alert["state"]})
    if alert["resolved_at"] is not None:
        timeline.append({"at": alert["resolved_at"], "kind": "stream", "what": alert["state"]})
    for a in actions:
        detail = a["assignee"] or a["comment"] or a["reason"]
        timeline.append({"at": a["at"], "kind": "operator", "what": a["action"], "by": a["actor"], "detail": detail})
    timeline.sort(key=lambda e: (e["at"], e["kind"] == "operator"))
    return {**alert, "actions": actions, "timeline": timeline}


@router.get("/{alert_id}", response_model=AlertDetail, summary="one alert, its operators' actions and timeline")
async def alert(conn: Reader, _: Viewer, alert_id: AlertPath) -> dict:
    return await _detail(conn, alert_id)


class Assign(BaseModel):
    assignee: str = Field(min_length=1, max_length=200, pattern=NO_NUL, description="a named person or team")


class Comment(BaseModel):
    comment: str = Field(min_length=1, max_length=4000, pattern=NO_NUL)


class Close(BaseModel):
    reason: str = Field(min_length=1, max_length=1000, pattern=NO_NUL)


async def _act(request: Request, caller, alert_id: str, action: str, *, assignee: str | None = None,
               comment: str | None = None, reason: str | None = None) -> dict:
    async with request.app.state.actions_pool.connection() as conn:
        async with conn.transaction():
            found = await (await conn.execute("SELECT 1 FROM alerts WHERE alert_id = %s",
                                              (alert_id,))).fetchone()
            if found is None:
                raise Problem(404, f"no alert {alert_id!r}")
            closed = await (await conn.execute("SELECT 1 FROM alert_actions WHERE alert_id = %s AND action = 'close'",
                                               (alert_id,))).fetchone()
            if closed and action != "comment":
                raise Problem(409, f"alert {alert_id!r} was closed by an operator; only comments may follow")
            row = await (await conn.execute(
                "INSERT INTO alert_actions (alert_id, action, actor, key_id, assignee, comment, reason) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING action_id, action, actor, assignee, comment, reason, "
                "at, false AS published", (alert_id, action, caller.consumer, caller.key_id, assignee, comment,
                                           reason))).fetchone()
    request.app.state.outbox.wake.set()
    return row


@router.post("/{alert_id}/acknowledge", response_model=Action, status_code=201, summary="acknowledge an alert",
             responses=documented(409))
async def acknowledge(request: Request, caller: Operator, alert_id: AlertPath) -> dict:
    return await _act(request, caller, alert_id, "acknowledge")


@router.post("/{alert_id}/assign", response_model=Action, status_code=201, summary="assign an alert",
             responses=documented(409))
async def assign(request: Request, caller: Operator, alert_id: AlertPath, body: Assign) -> dict:
    return await _act(request, caller, alert_id, "assign", assignee=body.assignee)


@router.post("/{alert_id}/comment", response_model=Action, status_code=201, summary="comment on an alert")
async def comment(request: Request, caller: Operator, alert_id: AlertPath, body: Comment) -> dict:
    return await _act(request, caller, alert_id, "comment", comment=body.comment)


@router.post("/{alert_id}/close", response_model=Action, status_code=201, summary="close an alert with a reason",
             responses=documented(409))
async def close(request: Request, caller: Operator, alert_id: AlertPath, body: Close) -> dict:
    return await _act(request, caller, alert_id, "close", reason=body.reason)
