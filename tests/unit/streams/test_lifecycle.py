"""Through the processor: the daily AQI when the day's last hour had no data, alerts that end as
no_data, devices that leave the registry, and a district state that stays bounded."""

import orjson

from streams.places import Places
from streams.processor import Processor
from streams.rules import Rules
from streams.windows import WindowConfig
from telemetry.areas import LEGACY_SET, AreaRegistry
from telemetry.devices import Device, DeviceRegistry
from telemetry.topics import KafkaTopics

from .readings import r

TOPICS = KafkaTopics("t")
PLACES = Places(AreaRegistry.named(LEGACY_SET))  # districts 288, 290, … are its communes
CFG = WindowConfig(sizes_s=(60, 3600), lateness_s=30)
H = 3600


def encode(reading: dict) -> bytes:
    return orjson.dumps({k: v for k, v in reading.items() if k not in ("ts_ms", "received_ms")})


class District:
    def __init__(self, registry: DeviceRegistry, rules: Rules = Rules()) -> None:
        self.proc = Processor(TOPICS, CFG, rules, registry, PLACES)
        self.states: dict = {}
        self.offset = 0

    def feed(self, readings: list[dict]) -> dict[str, list[dict]]:
        batch = []
        for x in readings:
            batch.append((0, self.offset, b"288", encode(x)))
            self.offset += 1
        out = self.proc.process(batch, self.states)
        self.states.update(out.states)
        by_topic: dict[str, list[dict]] = {}
        for topic, _, value in out.outputs:
            by_topic.setdefault(topic, []).append(orjson.loads(value))
        return by_topic


def test_the_daily_aqi_comes_when_the_day_closes_even_without_its_last_hours():
    # T0 (readings.py) is 07:00 local; the local day runs from T0 - 7 h to T0 + 17 h (24:00).
    d = District(DeviceRegistry([Device(device_id="aq-288-01", district=288, kind="air_quality")]))
    out = d.feed([r(s, {"pm2_5": 40.0}) for s in range(-7 * H, 15 * H, 300)])  # 22 hours; none in 22:00-24:00
    assert not [m for m in out.get(TOPICS.aqi, []) if m["period"] == "day"]
    out = d.feed([r(17 * H + 60, {"pm2_5": 40.0})])  # the next day: the watermark passes 24:00
    [day] = [m for m in out[TOPICS.aqi] if m["period"] == "day"]
    # By hand: 22 of 24 hourly means (>= 18), all 40 µg/m³: 24-h mean 40; PM2.5 between 25 (50) and
    # 50 (100): 50 + 50/25 x 15 = 80.
    assert (day["start"], day["end"], day["aqi"], day["dominant"]) == ("2026-11-24T17:00:00Z", "2026-11-25T17:00:00Z",
                                                                      80, "pm2_5")
    assert not [m for m in d.feed([r(17 * H + 120, {"pm2_5": 40.0})]).get(TOPICS.aqi, []) if m["period"] == "day"]


def test_too_few_hours_give_no_daily_aqi():
    d = District(DeviceRegistry([Device(device_id="aq-288-01", district=288, kind="air_quality")]))
    d.feed([r(s, {"pm2_5": 40.0}) for s in range(-7 * H, 10 * H, 300)])  # 17 hours: under 18 of 24
    out = d.feed([r(17 * H + 60, {"pm2_5": 40.0})])
    assert not [m for m in out.get(TOPICS.aqi, []) if m["period"] == "day"]


def noise(second: int, level: float, device: str = "nz-288-01") -> dict:
    return r(second, {"noise_laeq": level}, device=device, kind="noise")


def test_an_alert_whose_device_stops_reporting_ends_as_no_data_not_resolved():
    registry = DeviceRegistry([Device(device_id="nz-288-01", district=288, kind="noise", zone="normal"),
                               Device(device_id="aq-288-01", district=288, kind="air_quality")])
    d = District(registry)
    out = d.feed([noise(s, 90.0) for s in range(0, 5 * 60, 10)])  # 90 dB(A), over any zone's limit
    assert [a["state"] for a in out[TOPICS.alerts] if a["rule"] == "noise_over_limit"] == ["open"]
    # The meter goes quiet; another device keeps the district's time moving for 3 hours.
    log = []
    for s in range(5 * 60, 3 * H + 10 * 60, 60):
        log += d.feed([r(s, {"pm2_5": 10.0})]).get(TOPICS.alerts, [])
    noise_msgs = [a for a in log if a["rule"] == "noise_over_limit"]
    assert [a["state"] for a in noise_msgs] == ["no_data"] and noise_msgs[0]["last_data_at"] is not None


def test_a_device_removed_from_the_registry_stops_renotifying():
    meter = Device(device_id="nz-288-01", district=288, kind="noise", zone="normal")
    other = Device(device_id="aq-288-01", district=288, kind="air_quality")
    d = District(DeviceRegistry([meter, other]))
    d.feed([noise(0, 60.0)])
    log = []
    for s in range(60, 20 * 60, 60):  # the meter falls silent: device_silent opens after 10 min
        log += d.feed([r(s, {"pm2_5": 10.0})]).get(TOPICS.alerts, [])
    assert [a["state"] for a in log if a["rule"] == "device_silent"] == ["open"]
    d.proc.registry = DeviceRegistry([other])  # removed
    log = []
    for s in range(20 * 60, 3 * H, 60):
        log += d.feed([r(s, {"pm2_5": 10.0})]).get(TOPICS.alerts, [])
    assert [(a["rule"], a["state"]) for a in log] == [("device_silent", "no_data")]
    assert "nz-288-01" not in d.states[b"288"]["devices"]


def test_a_district_with_thousands_of_devices_keeps_a_bounded_state():
    devices = [Device(device_id=f"aq-288-{i:04d}", district=288, kind="air_quality") for i in range(3000)]
    d = District(DeviceRegistry(devices))
    for minute in range(5):  # every device, once a minute
        d.feed([r(minute * 60 + i % 60, {"pm2_5": 10.0 + i % 7}, device=dev.device_id)
                for i, dev in enumerate(devices)])
    live = len(orjson.dumps(d.states[b"288"]))
    assert live < 512 * 1024, f"{live} bytes for 3,000 live devices (Kafka's default limit is 1 MB)"
    # All but one fall silent (moved away, switched off) and stay so past the largest window + lateness.
    for s in range(5 * 60, 2 * H + 5 * 60, 60):
        d.feed([r(s, {"pm2_5": 10.0}, device="aq-288-0000")])
    state = d.states[b"288"]
    # Each silent device has its device_silent alert open (kept while it lasts), nothing else.
    assert set(state["devices"]) == {f"aq-288-{i:04d}" for i in range(3000)}
    assert all(not dev["win"] and not dev.get("seen") for d_id, dev in state["devices"].items() if d_id != "aq-288-0000")
    assert len(orjson.dumps(state)) < 1024 * 1024
    d.proc.registry = DeviceRegistry(devices[:1])  # the 2,999 are removed from the registry
    d.feed([r(2 * H + 5 * 60, {"pm2_5": 10.0}, device="aq-288-0000")])
    after = len(orjson.dumps(d.states[b"288"]))
    print(f"\ndistrict state: {live:,} bytes with 3,000 live devices, {after:,} once 2,999 left the registry")
    assert set(d.states[b"288"]["devices"]) == {"aq-288-0000"} and after < 20 * 1024, after
