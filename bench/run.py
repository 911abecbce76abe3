"""`make bench`: the platform measured on the local stack, every figure a ratio to a raw limit
measured in the same run, each the median of --runs runs (the end-to-end ones: --e2e-runs).

Writes bench/results/<UTC time>/report.json, report.txt and throughput_latency.png.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from bench import gateway_rate, ingest, sink_rate, streams_rate, telegraf
from bench.cleanup import delete_bench_topics
from bench.e2e import run_e2e
from bench.kafka_raw import raw_kafka
from bench.mqtt_backlog import create_session, publish_backlog, raw_drain_rate
from stack.broker_auth import local_access
from stack.settings import StackSettings
from telemetry.topics import shared_filter

RESULTS = Path(__file__).with_name("results")


def median(values: list[float]) -> float:
    return statistics.median(values)


def raw_mqtt(access, n: int) -> float:
    cid = f"raw-{uuid.uuid4().hex[:8]}"
    root = f"rawbench{cid[4:]}"
    flt = shared_filter("rawbench", root)
    create_session(access, cid, flt)
    publish_backlog(access, gateway_rate.fleet_topics(root), n)
    return raw_drain_rate(access, cid, flt, n)


def measure(args) -> dict:
    s = StackSettings()
    access = local_access(s)
    out: dict = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                 "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                          text=True).stdout.strip(), "runs": args.runs}
    raw, gw1, gw2, rss = [], [], [], 0.0
    for _ in range(args.runs):
        raw.append(raw_mqtt(access, args.mqtt_messages))
        r1, m1 = gateway_rate.gateway_drain(access, s.kafka_bootstrap, args.mqtt_messages, 1)
        r2, m2 = gateway_rate.gateway_drain(access, s.kafka_bootstrap, args.mqtt_messages, 2)
        gw1.append(r1)
        gw2.append(r2)
        rss = max(rss, *m1, *m2)
    produce, consume = zip(*[raw_kafka(s.kafka_bootstrap, args.kafka_messages) for _ in range(args.runs)])
    streams = []
    for _ in range(args.runs):
        streams.append(streams_rate_once(s, args.stream_readings))
    sinks = [sink_once(s, args.sink_rows) for _ in range(args.runs)]
    out["raw"] = {"mqtt_receive_msgs_per_s": round(median(raw)), "kafka_produce_msgs_per_s": round(median(produce)),
                  "kafka_consume_msgs_per_s": round(median(consume)),
                  "psycopg_binary_copy_rows_per_s": round(median([x["copy"] for x in sinks])),
                  "psql_copy_rows_per_s": round(median([x["psql"] for x in sinks]))}
    out["stages"] = {
        "gateway_1_msgs_per_s": round(median(gw1)), "gateway_1_values_per_s": round(median(gw1) * 8),
        "gateway_1_ratio_to_raw_mqtt": round(median(gw1) / median(raw), 3),
        "gateway_2_msgs_per_s": round(median(gw2)), "gateway_2_over_1": round(median(gw2) / median(gw1), 2),
        "gateway_peak_rss_mb": round(rss),
        "streams_readings_per_s": round(median(streams)),
        "streams_ratio_to_raw_kafka_consume": round(median(streams) / median(consume), 3),
        "streams_over_gateway_1": round(median(streams) / median(gw1), 2),
        "sink_rows_per_s": round(median([x["sink"] for x in sinks])),
        "sink_ratio_to_binary_copy": round(median([x["sink"] / x["copy"] for x in sinks]), 3),
        "idempotent_write_rows_per_s": round(median([x["upsert"] for x in sinks])),
    }
    out["ingest"] = {"citysense": ingest.citysense(args.e2e_messages)}
    if args.peer == "telegraf":
        out["ingest"]["telegraf"] = ingest.peer(args.e2e_messages, telegraf.binary(build=True))
    e2e = [run_e2e(args.e2e_messages, latency_s=args.latency_seconds) for _ in range(args.e2e_runs)]
    pick = sorted(e2e, key=lambda e: e["drain_msgs_per_s"])[len(e2e) // 2]
    out["end_to_end"] = {k: v for k, v in pick.items() if not k.startswith("series")}
    out["series"] = {"drain": pick["series_drain"], "latency": pick["series_latency"]}
    return out


def streams_rate_once(s: StackSettings, n: int) -> float:
    return streams_rate.measure(s.kafka_bootstrap, n)[0]


def sink_once(s: StackSettings, n: int) -> dict:
    return sink_rate.measure(s, n, with_psql=psql_copy)


def psql_copy(dsn: str, rows: list[tuple]) -> float:
    """psql's \\copy of the same rows (CSV) into the same table."""
    import csv
    import tempfile

    from storage.rows import READINGS

    path = Path(tempfile.mkstemp(suffix=".csv")[1])
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        for row in rows:
            w.writerow(["" if v is None else v.isoformat() if hasattr(v, "isoformat") else v for v in row])
    cols = ", ".join(f'"{c}"' for c in READINGS.columns)
    start = time.perf_counter()
    subprocess.run(["psql", dsn, "-q", "-c", f"\\copy readings ({cols}) FROM '{path}' CSV"], check=True)
    rate = len(rows) / (time.perf_counter() - start)
    subprocess.run(["psql", dsn, "-q", "-c", "TRUNCATE readings"], check=True)
    path.unlink()
    return rate


def table(r: dict) -> str:
    raw, st, e = r["raw"], r["stages"], r["end_to_end"]
    lines = [f"citysense benchmark {r['date']} (commit {r['commit']}), median of {r['runs']} runs", "",
             "raw limits (same run)",
             f"  MQTT receive, paho alone (QoS 1, MQTT 5, manual acks)   {raw['mqtt_receive_msgs_per_s']:>9,} msg/s",
             f"  Kafka produce, aiokafka alone (acks=all, idempotent)    {raw['kafka_produce_msgs_per_s']:>9,} msg/s",
             f"  Kafka consume, aiokafka alone                           {raw['kafka_consume_msgs_per_s']:>9,} msg/s",
             f"  COPY into readings: psycopg binary / psql \\copy      {raw['psycopg_binary_copy_rows_per_s']:>9,} / "
             f"{raw['psql_copy_rows_per_s']:,} rows/s", "", "stages",
             f"  gateway, 1 process    {st['gateway_1_msgs_per_s']:>8,} msg/s ({st['gateway_1_values_per_s']:,} values/s)"
             f" = {st['gateway_1_ratio_to_raw_mqtt']:.0%} of raw MQTT (goal 80 %)",
             f"  gateway, 2 processes  {st['gateway_2_msgs_per_s']:>8,} msg/s = {st['gateway_2_over_1']:.2f}x one (goal 1.6x);"
             f" peak RSS {st['gateway_peak_rss_mb']} MB",
             f"  streams, 1 worker     {st['streams_readings_per_s']:>8,} readings/s = "
             f"{st['streams_ratio_to_raw_kafka_consume']:.0%} of raw consume, {st['streams_over_gateway_1']:.2f}x one gateway",
             f"  sink                  {st['sink_rows_per_s']:>8,} rows/s = {st['sink_ratio_to_binary_copy']:.0%} of binary COPY"
             f" (goal 70 %); the idempotent write alone {st['idempotent_write_rows_per_s']:,}", "",
             "end to end",
             f"  backlog of {e['backlog_messages']:,} drained in {e['drain_seconds']} s: {e['drain_msgs_per_s']:,} msg/s = "
             f"{e['drain_values_per_s']:,} values/s, lost {e['lost']} (goal 5,000 msg/s)",
             f"  live at {e['live_rate_target']:,} msg/s: publish -> row p50 {e['latency_p50_s']} s, p95 "
             f"{e['latency_p95_s']} s, p99 {e['latency_p99_s']} s (goal p99 2 s)",
             f"  window end -> aggregate row (lateness excluded): p50 {e['window_to_row_p50_s']} s, p99 "
             f"{e['window_to_row_p99_s']} s (goal 5 s)",
             f"  CPU per 1,000 messages, whole platform (every process, broker and databases): "
             f"{e['cpu_s_per_1000_drain']} s; by process {e['cpu_s_drain']}",
             f"  peak RSS (MB): drain {e['rss_mb_drain']}, whole run {e['rss_mb_all']}"]
    lines += ingest_lines(r["ingest"])
    return "\n".join(lines)


def ingest_lines(r: dict) -> list[str]:
    c = r["citysense"]
    lines = ["", "ingest path alone, MQTT -> TimescaleDB (same backlog, fresh database each)",
             f"  citysense: gateway -> Kafka -> sink, streams off  {c['msgs_per_s']:>7,} msg/s (first row after "
             f"{c['first_row_s']} s), lost {c['lost']}; "
             f"CPU s per 1,000: own {c['own_cpu_s_per_1000']}, with broker, Kafka, PostgreSQL {c['all_cpu_s_per_1000']}"]
    if t := r.get("telegraf"):
        lines += [f"  Telegraf (mqtt_consumer -> postgresql, tuned)     {t['msgs_per_s']:>7,} msg/s (first row after "
                  f"{t['first_row_s']} s), lost {t['lost']}; "
                  f"CPU s per 1,000: own {t['own_cpu_s_per_1000']}, with broker, PostgreSQL {t['all_cpu_s_per_1000']}",
                  f"  citysense = {c['msgs_per_s'] / t['msgs_per_s']:.0%} of Telegraf's rate (goal 50 %); {t['version']}"]
    else:
        lines.append("  (peer not measured: `make bench PEER=telegraf`)")
    return lines


SUMMARY_HEAD = ("# Latest `make bench` summary (the full report, JSON and plot stay under bench/results/<time>/, "
                "git-ignored)\n")


def plot(r: dict, path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    drain = r["series"]["drain"]
    lat = r["series"]["latency"]
    fig, (a, b) = plt.subplots(2, 1, figsize=(9, 7))
    ts = [t for t, _ in drain]
    rates = [0.0] + [(n2 - n1) / (t2 - t1) for (t1, n1), (t2, n2) in zip(drain, drain[1:])]
    a.plot(ts, rates)
    a.set_title(f"backlog drain: readings stored per second ({r['end_to_end']['drain_msgs_per_s']:,} msg/s mean)")
    a.set_xlabel("s since the platform started")
    b.plot([t for t, _, _ in lat], [p for _, p, _ in lat], label="p50")
    b.plot([t for t, _, _ in lat], [p for _, _, p in lat], label="p99")
    b.set_title("live load: publish -> row in TimescaleDB, seconds")
    b.set_xlabel("s since the live load started")
    b.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return True


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--e2e-runs", type=int, default=1)
    ap.add_argument("--mqtt-messages", type=int, default=20_000)
    ap.add_argument("--kafka-messages", type=int, default=100_000)
    ap.add_argument("--stream-readings", type=int, default=60_000)
    ap.add_argument("--sink-rows", type=int, default=100_000)
    ap.add_argument("--e2e-messages", type=int, default=100_000)
    # 120 s, not 60: a 60-s window closes 30 s (the lateness) after its end, so a 60-s live phase
    # closes no window of its own.
    ap.add_argument("--latency-seconds", type=float, default=120)
    ap.add_argument("--peer", choices=["telegraf"], help="also measure a peer's ingest path (Telegraf: built once, "
                                                         "~4 GB of Go modules and ~25 CPU-minutes, cached outside the repository)")
    args = ap.parse_args()
    try:
        report = measure(args)
    finally:
        deleted = asyncio.run(delete_bench_topics(StackSettings().kafka_bootstrap))
        print(f"deleted the run's {deleted} Kafka topics (bench/cleanup.py)")
    folder = RESULTS / datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(report, indent=2))
    text = table(report)
    (folder / "report.txt").write_text(text + "\n")
    plotted = plot(report, folder / "throughput_latency.png")
    # the latest run's table and plot, the two files of bench/results/ that are committed
    (RESULTS / "summary.md").write_text(f"{SUMMARY_HEAD}\n```\n{text}\n```\n")
    if plotted:
        shutil.copyfile(folder / "throughput_latency.png", RESULTS / "summary-plot.png")
    print(text)
    print(f"\nreport: {folder}/report.json, report.txt" + (", throughput_latency.png" if plotted else ""))


if __name__ == "__main__":
    main()
