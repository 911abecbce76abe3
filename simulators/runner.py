"""Run the simulation: accelerated (simulated time faster than the clock), real time, or load.

Every message is classified with the contracts' validator before it is sent, so the final report
says what the platform must have accepted and what it must have rejected, by reason.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from simulators.province import Province, SimConfig
from simulators.publisher import PublisherPool
from telemetry.devices import DeviceRegistry
from telemetry.validation import Accepted, ValidationPolicy, validate


@dataclass
class Report:
    mode: str
    published: int = 0
    acked: int = 0
    errors: int = 0
    expected_accepted: int = 0
    expected_readings: int = 0
    expected_rejected: Counter = field(default_factory=Counter)
    accepted_keys: set = field(default_factory=set)  # (device, ts) of messages the platform must store
    seconds: float = 0.0
    sim_start: str = ""
    sim_end: str = ""
    progress_step: int = -1  # the last tenth printed to a log (not a terminal)

    @property
    def rate(self) -> float:
        return self.published / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        return {"mode": self.mode, "published": self.published, "acked_by_broker": self.acked, "errors": self.errors,
                "expected_accepted": self.expected_accepted, "expected_readings": self.expected_readings,
                "expected_rejected": dict(self.expected_rejected), "seconds": round(self.seconds, 1),
                "rate_msgs_per_s": round(self.rate), "sim_start": self.sim_start, "sim_end": self.sim_end}


def _progress(report: Report, total_sim: float, done_sim: float, started: float) -> None:
    """A progress bar on a terminal; a line every 10 % in a log."""
    width = 30
    frac = min(1.0, done_sim / total_sim) if total_sim else 1.0
    tty = sys.stderr.isatty()
    step = int(frac * 10)
    if not tty and step == report.progress_step:
        return
    report.progress_step = step
    bar = "█" * int(frac * width) + "·" * (width - int(frac * width))
    elapsed = time.monotonic() - started
    lead, end = ("\r", "") if tty else ("", "\n")
    rate = report.published / elapsed if elapsed else 0
    print(f"{lead}[{bar}] {frac:4.0%} published {report.published:,} acked {report.acked:,} ({rate:,.0f}/s)",
          end=end, file=sys.stderr, flush=True)


def run_timed(registry: DeviceRegistry, access, *, start: datetime, end: datetime, wall_s: float,
              cfg: SimConfig = SimConfig(), client_id: str = "citysense-simulator", progress: bool = True,
              mode: str = "accelerated") -> Report:
    """Publish the province's messages from `start` to `end` (simulated time) over `wall_s` seconds."""
    province = Province(registry, cfg)
    report = Report(mode, sim_start=start.isoformat(), sim_end=end.isoformat())
    pub = PublisherPool(access, client_id)
    policy = ValidationPolicy(topic_root=cfg.topic_root, areas=province.areas)  # the gateway's rules
    factor = (end - start).total_seconds() / wall_s
    t0 = time.monotonic()
    last_progress = 0.0
    try:
        for msg in province.messages(start, end):
            due = t0 + (msg.ts - start).total_seconds() / factor
            delay = due - time.monotonic()
            if delay > 0.002:
                time.sleep(delay)
            now = datetime.now(timezone.utc)
            outcome = validate(msg.topic, msg.payload, registry, received_at=max(now, msg.ts), policy=policy)
            if isinstance(outcome, Accepted):
                report.expected_accepted += 1
                report.expected_readings += len(outcome.readings)
                report.accepted_keys.update((r.device_id, r.ts) for r in outcome.readings)
            else:
                report.expected_rejected[outcome.reason.value] += 1
            pub.publish(msg.topic, msg.payload)
            if progress and time.monotonic() - last_progress > 0.5:
                last_progress = time.monotonic()
                report.published, report.acked = pub.published, pub.acked  # sums over every connection
                _progress(report, (end - start).total_seconds(), (msg.ts - start).total_seconds(), t0)
        pub.wait_acked(60)
    finally:
        report.published, report.acked, report.errors = pub.published, pub.acked, pub.errors
        report.seconds = time.monotonic() - t0
        pub.close()
        if progress:
            _progress(report, 1, 1, t0)
            print(file=sys.stderr)
    return report


def run_accelerated(registry, access, *, sim_hours: float = 24, wall_s: float = 120, cfg=SimConfig(), **kw):
    end = datetime.now(timezone.utc).replace(microsecond=0)
    return run_timed(registry, access, start=end - timedelta(hours=sim_hours), end=end, wall_s=wall_s, cfg=cfg,
                     **kw)


def run_realtime(registry, access, *, duration_s: float, cfg=SimConfig(), **kw):
    start = datetime.now(timezone.utc)
    return run_timed(registry, access, start=start, end=start + timedelta(seconds=duration_s), wall_s=duration_s,
                     cfg=cfg, mode="realtime", **kw)


def _load_worker(args) -> dict:
    registry_json, access, rate, duration_s, index, seed, root = args
    registry = DeviceRegistry.from_json(registry_json)
    cfg = SimConfig(seed=seed + index, hostile_share=0.0, fault_share=0.0, ngsi_share=0.0, senml_share=0.0,
                    interval_override_s=len(registry) / rate, topic_root=root)
    start = datetime.now(timezone.utc)
    report = run_timed(registry, access, start=start, end=start + timedelta(seconds=duration_s), wall_s=duration_s,
                       cfg=cfg, client_id=f"citysense-load-{seed}-{index}", progress=index == 0, mode="load")
    return report.as_dict()


def run_load(registry: DeviceRegistry, access, *, rate: float, duration_s: float, processes: int = 1,
             seed: int = 7, root: str = "citysense") -> dict:
    """Load mode: the registry's devices at `rate` messages/s in total for `duration_s`, split over
    `processes` publisher processes (one paho process tops out near 4,400 QoS 1 messages/s)."""
    devices = list(registry)
    slices = [DeviceRegistry(devices[i::processes]) for i in range(processes)]
    args = [(s.to_json(), access, rate / processes, duration_s, i, seed, root) for i, s in enumerate(slices)]
    started = time.monotonic()
    # A pool of executors (a dead worker raises BrokenProcessPool instead of hanging like Pool.map).
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn")) as pool:
        parts = list(pool.map(_load_worker, args))
    total = {k: sum(p[k] for p in parts) for k in ("published", "acked_by_broker", "errors", "expected_accepted")}
    total.update(mode="load", processes=processes, seconds=round(time.monotonic() - started, 1),
                 rate_msgs_per_s=round(total["published"] / (time.monotonic() - started)))
    return total
