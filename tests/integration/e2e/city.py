"""A small city published through MQTT over the whole platform (gateway, Kafka, streams, sink, API):
three air-quality stations in three communes with PM2.5 chosen by hour, a noise meter, a water gauge,
a traffic counter and a weather station, a reading every two minutes of simulated time for three
hours and the first of a fourth. The expected AQI comes from the decision's tables by hand
(tests/aqi_by_hand.py), never from the code under test. Shared by the dashboard's and the sharing
interfaces' end-to-end tests."""

from __future__ import annotations

import json
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import psycopg

from api import keys
from telemetry.areas import AreaRegistry
from telemetry.devices import Device, DeviceRegistry
from telemetry.topics import uplink_topic
from tests import aqi_by_hand
from tests.integration.e2e.conftest import running_platform
from tests.integration.helpers import Publisher, wait_for

AREAS = AreaRegistry.named()
THANH_DONG, HAI_DUONG, CHI_LINH = 10507, 10525, 10546  # groups 288, 288, 290
STEP_S = 120
# PM2.5 (µg/m³) of each commune's station in hours 0, 1, 2 and 3; hour 3 closes only in the live test
PM25 = {THANH_DONG: [20.0, 30.0, 40.0, 40.0], HAI_DUONG: [60.0, 60.0, 60.0, 60.0], CHI_LINH: [10.0, 10.0, 10.0, 200.0]}
PM10 = 20.0
def by_hand(code: int, hour: int) -> int | None:
    """The commune's hourly VN_AQI of `hour`, from the decision's NowCast and breakpoints."""
    history = [PM25[code][h] if h >= 0 else None for h in range(hour, hour - 12, -1)]
    if aqi_by_hand.nowcast(history) is None:
        return None
    return aqi_by_hand.hourly({"pm2_5": history, "pm10": [PM10 if v is not None else None for v in history]}, {})


def place(code: int) -> dict:
    area = AREAS.get(code)
    return {"lat": area.lat, "lon": area.lon}


DEVICES = [
    Device(device_id="aq-10507", district=THANH_DONG, kind="air_quality", **place(THANH_DONG)),
    Device(device_id="aq-10525", district=HAI_DUONG, kind="air_quality", **place(HAI_DUONG)),
    Device(device_id="aq-10546", district=CHI_LINH, kind="air_quality", **place(CHI_LINH)),
    Device(device_id="nz-10507", district=THANH_DONG, kind="noise", zone="normal", **place(THANH_DONG)),
    Device(device_id="wl-10525", district=HAI_DUONG, kind="water_level", flood_threshold_cm=300.0, river="Thái Bình",
           **place(HAI_DUONG)),
    Device(device_id="tf-10525", district=HAI_DUONG, kind="traffic", road="QL5", **place(HAI_DUONG)),
    Device(device_id="ws-10546", district=CHI_LINH, kind="weather", **place(CHI_LINH)),
]


def metrics(device: Device, i: int) -> dict:
    hour = min(i * STEP_S // 3600, 3)
    if device.kind == "air_quality":
        return {"pm2_5": PM25[device.district][hour], "pm10": PM10}
    if device.kind == "noise":
        return {"noise_laeq": 60.0 + i % 5}
    if device.kind == "water_level":
        return {"water_level": 250.0 + i % 3}
    if device.kind == "traffic":
        return {"vehicles_car": 10 + i % 4, "vehicles_motorbike": 40 + i % 6, "avg_speed": 30.0 + i % 5}
    return {"temperature": 24.0, "humidity": 70.0, "wind_speed": 2.0, "wind_direction": 90.0}


def rows(dsn: str, query: str, params=None) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query, params).fetchall()


class City:
    """The running platform, the start of hour 0, the keys and a publisher."""

    def __init__(self, platform: dict, t0: datetime, operator_key: str, publisher: Publisher) -> None:
        self.p, self.t0, self.operator_key, self.pub = platform, t0, operator_key, publisher
        self.dsn, self.url = platform["dsn"], f"http://127.0.0.1:{platform['ports']['api']}"
        self.viewer_key = platform["viewer_key"]

    def publish(self, devices: list[Device], steps: range) -> None:
        for i in steps:
            ts = (self.t0 + timedelta(seconds=i * STEP_S + 7)).isoformat()
            for d in devices:
                self.pub.publish(uplink_topic(d.district, d.device_id, self.p["root"]),
                                 json.dumps({"ts": ts, "seq": i, "metrics": metrics(d, i)}))
        self.pub.wait_all()


@contextmanager
def published_city(tmp_path_factory, names_made: set, database_url: str, mqtt_access, kafka_bootstrap: str,
                   kind=City, **extra_env: str):
    """The platform with the API, hours 0-2 of every device published and their AQI stored (a
    module's fixture: its own names, database and folder)."""
    token = uuid.uuid4().hex[:10]
    names_made.add(token)
    tmp_path = tmp_path_factory.mktemp(f"city-{token}")
    t0 = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=5)
    with running_platform(tmp_path, token, database_url, mqtt_access, kafka_bootstrap,
                          DeviceRegistry(DEVICES), with_api=True, **extra_env) as p:
        with psycopg.connect(p["dsn"], autocommit=True) as conn:
            operator_key = keys.create(conn, "e2e operator", keys.Role.OPERATOR)[1]
        pub = Publisher(*mqtt_access.service, f"city-pub-{token}", *mqtt_access.bridge)
        city = kind(p, t0, operator_key, pub)
        # hours 0-2 of every device and the first readings of hour 3, which close hour 2
        city.publish(DEVICES, range(3 * 3600 // STEP_S + 2))
        wait_for(lambda: rows(p["dsn"], "SELECT count(*) FROM aqi WHERE period = 'hour' AND start = %s AND level = "
                                        "'commune'", (t0 + timedelta(hours=2),))[0][0] == 3, 120,
                 what="hour 2's AQI of the three communes")
        groups = ("SELECT count(*) FROM aqi WHERE period = 'hour' AND start = %s "
                  "AND ((district = 288 AND areas = 2) OR (district = 290 AND areas = 1))")
        wait_for(lambda: rows(p["dsn"], groups, (t0 + timedelta(hours=2),))[0][0] == 2, 60,
                 what="hour 2's AQI of both groups, from all their communes")
        try:
            yield city
        finally:
            pub.close()


