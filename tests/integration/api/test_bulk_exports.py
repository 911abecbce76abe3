"""Bulk exports for the data warehouse against the API's known data set (pages of 7 rows): a day and
a month as CSV and Parquet equal SQL over the same local day (both ways); a CSV resumed after its
25th row gives the rest, nothing twice, nothing missing; each call is in the access log with the rows
it sent, recorded when the stream ended."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import psycopg
import pyarrow.parquet as pq
import pytest

from tests.integration.api.conftest import T
from tests.integration.helpers import wait_for

pytestmark = pytest.mark.integration
LOCAL = timezone(timedelta(hours=7))
DAY = T.astimezone(LOCAL).date()  # T is 07:00 in Vietnam: its local day
START = datetime(DAY.year, DAY.month, DAY.day, tzinfo=LOCAL)


def stored(api, query: str, params) -> list[tuple]:
    with psycopg.connect(api.dsn) as conn:
        return conn.execute(query, params).fetchall()


def csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_a_day_as_csv_and_parquet_equals_sql(module_api):
    sql = stored(module_api, "SELECT ts, device_id, pm2_5 FROM readings WHERE ts >= %s AND ts < %s "
                             "ORDER BY ts, device_id, status", (START, START + timedelta(days=1)))
    assert len(sql) == 60
    r = module_api.get(f"/api/v1/exports/bulk/readings/{DAY.isoformat()}.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert f'filename="readings-{DAY.isoformat()}.csv"' in r.headers["content-disposition"]
    got = csv_rows(r.text)
    assert [(datetime.fromisoformat(g["ts"]), g["device_id"], float(g["pm2_5"])) for g in got] == sql
    p = module_api.get(f"/api/v1/exports/bulk/readings/{DAY.isoformat()}.parquet")
    assert p.status_code == 200 and p.headers["content-type"] == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(p.content))
    assert table.num_rows == 60 and str(table.schema.field("ts").type) == "timestamp[us, tz=UTC]"
    assert list(zip(table.column("ts").to_pylist(), table.column("device_id").to_pylist(),
                    table.column("pm2_5").to_pylist())) == sql
    month = csv_rows(module_api.get(f"/api/v1/exports/bulk/readings/{DAY.isoformat()[:7]}.csv").text)
    in_month = stored(module_api, "SELECT count(*) FROM readings WHERE ts >= %s AND ts < %s",
                      (datetime(DAY.year, DAY.month, 1, tzinfo=LOCAL),
                       datetime(DAY.year + DAY.month // 12, DAY.month % 12 + 1, 1, tzinfo=LOCAL)))[0][0]
    assert len(month) == in_month == 60
    # the day before and after hold none of them: local days, not UTC days
    for other in (DAY - timedelta(days=1), DAY + timedelta(days=1)):
        assert csv_rows(module_api.get(f"/api/v1/exports/bulk/readings/{other.isoformat()}.csv").text) == []


def test_aqi_and_hourly_aggregates_of_a_day(module_api):
    aqi = csv_rows(module_api.get(f"/api/v1/exports/bulk/aqi/{DAY.isoformat()}.csv").text)
    assert sorted((int(a["district"]), int(a["aqi"])) for a in aqi) == sorted(
        stored(module_api, "SELECT district, aqi FROM aqi WHERE start >= %s AND start < %s",
               (START, START + timedelta(days=1)))) == [(288, 160), (10507, 120), (10525, 160)]
    hours = pq.read_table(io.BytesIO(module_api.get(f"/api/v1/exports/bulk/aggregates/{DAY.isoformat()}.parquet")
                                     .content))
    assert hours.column("mean").to_pylist() == [60.0, 70.0] and set(hours.column("metric").to_pylist()) == {
        "noise_laeq"}


def test_a_csv_resumes_after_its_last_complete_row(module_api):
    whole = csv_rows(module_api.get(f"/api/v1/exports/bulk/readings/{DAY.isoformat()}.csv").text)
    held = whole[:25]
    last = held[-1]
    rest = module_api.get(f"/api/v1/exports/bulk/readings/{DAY.isoformat()}.csv",
                          after=f"{last['ts']},{last['device_id']},{last['status']}")
    assert rest.status_code == 200
    text = module_api.get(f"/api/v1/exports/bulk/readings/{DAY.isoformat()}.csv").text
    first_part = "".join(text.splitlines(keepends=True)[:26])  # the header and 25 rows, as a broken download
    assert first_part + rest.text == text  # appended, the parts are the file: no second header, no row twice
    assert held + csv_rows(text.splitlines(keepends=True)[0] + rest.text) == whole
    for bad in ("nonsense", "2026-01-01T00:00:00,aq-a,measuring", f"{last['ts']},aq-a"):
        assert module_api.get(f"/api/v1/exports/bulk/readings/{DAY.isoformat()}.csv", after=bad).status_code == 400
    assert module_api.get(f"/api/v1/exports/bulk/readings/{DAY.isoformat()}.parquet",
                          after=f"{last['ts']},{last['device_id']},{last['status']}").status_code == 400
    for period in ("2026-13", "2026-02-30", "20261204", "2026", "9999-12", "0000-01"):
        assert module_api.get(f"/api/v1/exports/bulk/readings/{period}.csv").status_code == 400, period


def test_each_export_is_traced_with_the_rows_it_sent(module_api):
    assert module_api.get(f"/api/v1/exports/bulk/readings/{DAY.isoformat()}.csv", role="admin").status_code == 200
    assert module_api.get("/api/v1/exports/readings.csv", role="admin", area=288,
                          **{"from": T.isoformat(), "to": (T + timedelta(hours=1)).isoformat()}).status_code == 200

    def traced() -> list[tuple]:
        return stored(module_api, "SELECT route, interface, entity_type, rows FROM api_access_log "
                                  "WHERE consumer = 'admin-team' AND route LIKE '/api/v1/exports/%%' ORDER BY at", ())

    wait_for(lambda: len(traced()) == 2, 10, what="both exports in the access log")
    assert traced() == [("/api/v1/exports/bulk/{dataset}/{period}.{fmt}", "export", "Reading", 60),
                        ("/api/v1/exports/readings.{fmt}", "export", "Reading", 60)]
