"""Today's territory end to end (hai-phong-2025): devices in four communes of two former districts,
one of them still publishing on its former district's topic, through Mosquitto, the gateway,
Kafka, the streams worker and the sink. The stored windows of every commune, of both groups and of
the city equal SQL over the stored raw readings (noise as energy, wind as vectors, speed weighted
by vehicles), both ways; a group's and the city's hourly AQI is their worst commune's, naming it;
the legacy-topic device's readings land in its commune; and the AQI alert those readings raise
reaches an operator's live screen (the API's Server-Sent Events) within seconds; and the API's
series, device, state, completeness and rejects resources give what was published (computed here
from the published values: energy means, vector means by local day, raw quarter hours)."""

from __future__ import annotations

import json
import math
import threading
from datetime import datetime, timedelta, timezone

import httpx
import psycopg
import pytest

from streams.windows import WindowConfig
from telemetry.areas import AreaRegistry
from telemetry.devices import Device, DeviceRegistry
from telemetry.topics import uplink_topic
from tests.integration.e2e.conftest import running_platform
from tests.integration.helpers import Publisher, wait_for
from tests.integration.oracle import check_rollups, closed_by, compare_both_ways, sql_windows

pytestmark = pytest.mark.integration

AREAS = AreaRegistry.named()
CFG = WindowConfig(sizes_s=(60, 900, 3600), lateness_s=30)
THANH_DONG, HAI_DUONG, LE_THANH_NGHI, CHI_LINH = 10507, 10525, 10532, 10546  # groups 288, 288, 288, 290
DEVICES = [
    Device(device_id="aq-10507", district=THANH_DONG, kind="air_quality"),
    Device(device_id="nz-10507", district=THANH_DONG, kind="noise", zone="normal"),
    Device(device_id="ws-10507", district=THANH_DONG, kind="weather"),
    Device(device_id="aq-10525", district=HAI_DUONG, kind="air_quality"),
    Device(device_id="nz-10525", district=HAI_DUONG, kind="noise", zone="normal"),
    Device(device_id="tf-10525", district=HAI_DUONG, kind="traffic", road="QL5"),
    Device(device_id="aq-legacy", district=LE_THANH_NGHI, kind="air_quality"),  # still on topic 288
    Device(device_id="aq-10546", district=CHI_LINH, kind="air_quality"),
    Device(device_id="ws-10546", district=CHI_LINH, kind="weather"),
]
PM = {"aq-10507": 40.0, "aq-10525": 90.0, "aq-legacy": 130.0, "aq-10546": 60.0}
HOURS, STEP_S = 3, 120


def metrics(device: str, i: int) -> dict:
    if device.startswith("aq-"):
        return {"pm2_5": PM[device] + i % 5, "pm10": 2 * PM[device], "o3": 50.0 + i % 3}
    if device.startswith("nz-"):
        return {"noise_laeq": (55.0 if device == "nz-10507" else 72.0) + i % 7}
    if device.startswith("ws-"):  # directions either side of north: only a vector mean gets them right
        return {"wind_direction": (350.0 + 7 * (i % 4)) % 360.0, "wind_speed": 1.0 + i % 4, "temperature": 24.0}
    return {"avg_speed": 20.0 + 9 * (i % 5), "vehicles_car": 5 + i % 11, "vehicles_motorbike": 30 + i % 13}


class AlertScreen:
    """An SSE client of /api/v1/events (alerts of an area), in a thread."""

    def __init__(self, url: str, key: str, area: int) -> None:
        self.events: list[dict] = []
        self.open = threading.Event()
        self.closing = False
        self.thread = threading.Thread(target=self._run, args=(url, key, area), daemon=True)
        self.thread.start()
        assert self.open.wait(15), "the live events stream did not open"

    def _run(self, url: str, key: str, area: int) -> None:
        with httpx.stream("GET", url + "/api/v1/events", params={"area": area, "kind": "alert"},
                          headers={"Authorization": f"Bearer {key}"}, timeout=httpx.Timeout(5, read=None)) as r:
            for line in r.iter_lines():
                self.open.set()
                if self.closing:
                    return
                if line.startswith("data: "):
                    self.events.append(json.loads(line[6:]))

    def close(self) -> None:
        self.closing = True


def rows(dsn: str, query: str, params=None) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query, params).fetchall()


def stored_windows(dsn: str, level: str) -> list[dict]:
    return [{"district": d, "metric": m, "window_s": w, "window_start": s.isoformat().replace("+00:00", "Z"),
             "count": c, "min": lo, "max": hi, "sum": sm, "mean": mean, "excluded": ex, "level": level}
            for d, m, w, s, c, lo, hi, sm, mean, ex in rows(
                dsn, "SELECT district, metric, window_s, window_start, count, min, max, sum, mean, excluded "
                     "FROM aggregates WHERE level = %s", (level,))]


@pytest.mark.timeout(600)
def test_communes_groups_and_the_city_equal_sql_over_the_raw_readings(tmp_path, unique, database_url, mqtt_access,
                                                                       kafka_bootstrap):
    t0 = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=HOURS + 1)
    with running_platform(tmp_path, unique, database_url, mqtt_access, kafka_bootstrap, DeviceRegistry(DEVICES),
                          with_api=True) as p:
        dsn, root = p["dsn"], p["root"]
        # an operator's screen, live: alerts of the former city of Hải Dương over the API's SSE stream
        screen = AlertScreen(f"http://127.0.0.1:{p['ports']['api']}", p["viewer_key"], area=288)
        pub = Publisher(*mqtt_access.service, f"areas-pub-{unique}", *mqtt_access.bridge)
        sent = 0
        for i in range(HOURS * 3600 // STEP_S + 2):  # the last ones, after t0 + 3 h + lateness, close hour 3
            ts = (t0 + timedelta(seconds=i * STEP_S + 7)).isoformat()
            for d in DEVICES:
                topic_area = 288 if d.device_id == "aq-legacy" else d.district
                pub.publish(uplink_topic(topic_area, d.device_id, root),
                            json.dumps({"ts": ts, "seq": i, "metrics": metrics(d.device_id, i)}))
                sent += 1
        for i in range(2):  # two rejects in group 290, none in 288
            pub.publish(uplink_topic(CHI_LINH, "aq-10546", root),
                        json.dumps({"ts": (t0 + timedelta(minutes=1)).isoformat(), "seq": 1000 + i,
                                    "metrics": {"pm2_5": -5.0}}))
        pub.wait_all()
        pub.close()
        wait_for(lambda: rows(dsn, "SELECT count(*) FROM readings")[0][0] == sent, 180, what="every reading stored")

        # The legacy-topic device: accepted, stored in its commune, its topic remembered.
        assert rows(dsn, "SELECT DISTINCT district, topic_area FROM readings WHERE device_id = 'aq-legacy'") == [
            (LE_THANH_NGHI, 288)]

        watermarks = closed_by(dsn, CFG.lateness_s)
        expected = sql_windows(dsn, CFG.sizes_s)
        must_close = [k for k, w in expected.items() if w["end"] <= watermarks[k[0]]]
        wait_for(lambda: rows(dsn, "SELECT count(*) FROM aggregates WHERE level = 'commune'")[0][0] >= len(must_close),
                 120, what=f"the {len(must_close)} commune windows stored")
        groups_hour = "SELECT count(*) FROM aqi WHERE level = 'city' AND period = 'hour' AND areas = 2"
        wait_for(lambda: rows(dsn, groups_hour)[0][0] >= 2, 120, what="the city's hourly AQI from both groups")

        assert compare_both_ways(expected, stored_windows(dsn, "commune"), watermarks) == []
        assert {k[0] for k in must_close} == {THANH_DONG, HAI_DUONG, LE_THANH_NGHI, CHI_LINH}
        compared = {}
        for level in ("group", "city"):
            wait_for(lambda: not check_rollups(dsn, CFG.sizes_s, stored_windows(dsn, level), watermarks, AREAS,
                                               level)[0], 60, what=f"the {level} roll-ups complete")
            problems, compared[level] = check_rollups(dsn, CFG.sizes_s, stored_windows(dsn, level), watermarks, AREAS,
                                                      level)
            assert problems == []
        assert compared["group"] > 400 and compared["city"] > 200
        stored = {(r["district"], r["metric"]) for r in stored_windows(dsn, "group")}
        assert {(288, "noise_laeq"), (288, "avg_speed"), (288, "wind_direction"), (290, "wind_direction")} <= stored
        # a mean of means would be off: group 288's noise is the energy mean of both communes' readings
        [(n, mean)] = rows(dsn, "SELECT count, mean FROM aggregates WHERE district = 288 AND metric = 'noise_laeq' "
                                "AND window_s = 3600 AND window_start = %s", (t0 + timedelta(hours=1),))
        values = [(55.0 if d == "nz-10507" else 72.0) + i % 7 for d in ("nz-10507", "nz-10525")
                  for i in range(30, 60)]
        assert n == 60 and mean == pytest.approx(10 * math.log10(sum(10 ** (v / 10) for v in values) / 60))

        # AQI: each group's and the city's hour is that of their worst commune, which it names.
        communes = {(a, s): v for a, s, v in rows(dsn, "SELECT district, start, aqi FROM aqi WHERE level = 'commune' "
                                                       "AND period = 'hour'")}
        hours = sorted({s for _, s in communes})
        assert len(hours) == 2  # hours 2 and 3 (NowCast needs two of the last three)
        members = {288: (THANH_DONG, HAI_DUONG, LE_THANH_NGHI), 290: (CHI_LINH,),
                   31: (THANH_DONG, HAI_DUONG, LE_THANH_NGHI, CHI_LINH)}

        def aqi_mismatches() -> list[tuple]:
            wrong = []
            for area, under in members.items():
                for start in hours:
                    worst = max(under, key=lambda c: communes[(c, start)])
                    got = rows(dsn, "SELECT aqi, worst_area FROM aqi WHERE district = %s AND period = 'hour' "
                                    "AND start = %s", (area, start))
                    if got != [(communes[(worst, start)], worst)]:
                        wrong.append((area, start, got, worst))
            return wrong

        # a group's hour is refined as its communes' partials arrive: wait for the last, bounded
        wait_for(lambda: not aqi_mismatches(), 60, what="each roll-up's hourly AQI from all its communes")
        assert aqi_mismatches() == []
        worst = max(members[31], key=lambda c: communes[(c, hours[-1])])
        assert worst == LE_THANH_NGHI  # the legacy-topic device's commune, the most polluted

        # The AQI alert of that commune, raised by the readings published above, reached the live screen
        # within seconds of its storage, and an alert of another group did not.
        stored = {a for (a,) in rows(dsn, "SELECT alert_id FROM alerts WHERE rule = 'aqi_bad' AND district = %s",
                                     (LE_THANH_NGHI,))}
        assert stored
        wait_for(lambda: stored <= {e["alert_id"] for e in screen.events}, 15, what="the alert on the live screen")
        assert {e["area"] for e in screen.events} <= {c.code for c in AREAS.communes_under(288)}
        screen.close()
        check_api(f"http://127.0.0.1:{p['ports']['api']}", p["viewer_key"], t0, communes)


def check_api(url: str, key: str, t0: datetime, communes: dict) -> None:
    """The API's resources over what went through MQTT, against values computed here from what was
    published (not from the stored rows the API reads)."""
    def get(path: str, **params) -> dict | list:
        r = httpx.get(url + path, params=params, headers={"Authorization": f"Bearer {key}"}, timeout=10)
        assert r.status_code == 200, (path, r.status_code, r.text)
        return r.json()

    def sent(device: str, hours: range) -> list[tuple[datetime, dict]]:
        return [(t0 + timedelta(seconds=i * STEP_S + 7), metrics(device, i))
                for i in range(hours.start * 3600 // STEP_S, hours.stop * 3600 // STEP_S)]

    closed = {"from": t0.isoformat(), "to": (t0 + timedelta(hours=HOURS)).isoformat()}
    # group 288's hourly noise, from its roll-ups: the energy mean of both communes' meters
    series = get("/api/v1/areas/288/series", metric="noise_laeq", bucket="1h", **closed)
    want = []
    for h in range(HOURS):
        values = [m["noise_laeq"] for d in ("nz-10507", "nz-10525") for _, m in sent(d, range(h, h + 1))]
        want.append((t0 + timedelta(hours=h), len(values), min(values), max(values),
                     10 * math.log10(sum(10 ** (v / 10) for v in values) / len(values))))
    got = [(datetime.fromisoformat(pt["start"]), pt["count"], pt["min"], pt["max"], pt["mean"])
           for pt in series["points"]]
    assert [g[:4] for g in got] == [w[:4] for w in want] and series["source"] == "aggregates"
    assert [g[4] for g in got] == pytest.approx([w[4] for w in want])
    # group 290's wind by local day, merged from its hourly windows: the vector mean of every reading
    by_day: dict[datetime, list[float]] = {}
    for ts, m in sent("ws-10546", range(HOURS)):
        local = ts.astimezone(timezone(timedelta(hours=7)))
        by_day.setdefault(local.replace(hour=0, minute=0, second=0), []).append(m["wind_direction"])
    days = get("/api/v1/areas/290/series", metric="wind_direction", bucket="1d", **closed)["points"]
    assert [(datetime.fromisoformat(d["start"]), d["count"]) for d in days] == [(k, len(v)) for k, v in by_day.items()]
    for d, directions in zip(days, by_day.values()):
        s, c = (sum(f(math.radians(x)) for x in directions) for f in (math.sin, math.cos))
        assert d["mean"] == pytest.approx(math.degrees(math.atan2(s, c)) % 360.0)
    # the legacy-topic device's raw series in quarter hours, and where it was last seen
    raw = get("/api/v1/devices/aq-legacy/series", metric="pm2_5", bucket="15m", **closed)
    quarters: dict[datetime, list[float]] = {}
    for ts, m in sent("aq-legacy", range(HOURS)):
        quarters.setdefault(ts.replace(minute=ts.minute // 15 * 15, second=0), []).append(m["pm2_5"])
    assert [(datetime.fromisoformat(pt["start"]), pt["count"]) for pt in raw["points"]] == [
        (k, len(v)) for k, v in quarters.items()]
    assert [pt["mean"] for pt in raw["points"]] == pytest.approx([sum(v) / len(v) for v in quarters.values()])
    last = t0 + timedelta(seconds=(HOURS * 3600 // STEP_S + 1) * STEP_S + 7)
    assert datetime.fromisoformat(get("/api/v1/devices/aq-legacy")["last_seen"]) == last
    # the commune's current state: its latest hourly AQI, its one device
    state = get(f"/api/v1/areas/{LE_THANH_NGHI}")
    latest = max(s for a, s in communes if a == LE_THANH_NGHI)
    assert state["aqi"]["aqi"] == communes[(LE_THANH_NGHI, latest)] and state["devices"]["devices"] == 1
    # completeness of Thành Đông (three devices, one reading each 120 s) in the closed hours
    per_hour = sum(3600 // d.interval_s for d in DEVICES if d.district == THANH_DONG)
    hours = get("/api/v1/completeness", area=THANH_DONG, **closed)
    assert [(datetime.fromisoformat(h["hour"]), h["expected"], h["received"]) for h in hours] == [
        (t0 + timedelta(hours=h), per_hour, 3 * 3600 // STEP_S) for h in range(HOURS)]
    # the two rejects, in group 290 only
    assert [(r["reason"], r["count"]) for r in get("/api/v1/rejects", area=290)] == [("out_of_range", 2)]
    assert get("/api/v1/rejects", area=288) == []
