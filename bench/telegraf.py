"""Telegraf, the peer of the ingest benchmark (bench/ingest.py): where its binary is, how it is built
(once, from the Go module proxy, into a cache outside the repository: ~4 GB of modules and ~25
CPU-minutes), and its configuration — as a user would write it for citysense's devices.

- `mqtt_consumer`: QoS 1, a persistent session (the backlog waits for its client id), the gateway's
  account on the services' listener, the native payload parsed with `json_v2` (time from `ts`, `seq`
  and every metric as fields), district and device from the topic.
- `postgresql` output into the same TimescaleDB, its table made a hypertable on creation.
- tuned as the issue measured it: 10,000 undelivered messages, 100 ms flushes, batches of 5,000.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

CACHE = Path(os.environ.get("CITYSENSE_TELEGRAF_CACHE", Path.home() / ".cache" / "citysense" / "telegraf"))
PACKAGE = "github.com/influxdata/telegraf/cmd/telegraf"
TABLE = "telegraf_readings"
TUNING = {"max_undelivered_messages": 10_000, "flush_interval": "100ms", "metric_batch_size": 5000}


def binary(build: bool = False) -> Path:
    """The Telegraf binary: $CITYSENSE_TELEGRAF, or the cache's (built there first when `build`)."""
    if explicit := os.environ.get("CITYSENSE_TELEGRAF"):
        return Path(explicit)
    path = CACHE / "bin" / "telegraf"
    if not path.exists():
        if not build:
            raise SystemExit(f"no Telegraf at {path}: `make bench PEER=telegraf` builds it (go install {PACKAGE}@latest)")
        log = CACHE / "build.log"
        CACHE.mkdir(parents=True, exist_ok=True)
        print(f"building Telegraf into {path} (~4 GB of Go modules, ~25 CPU-minutes; log {log})", flush=True)
        with open(log, "ab") as out:
            done = subprocess.run(["go", "install", f"{PACKAGE}@latest"], env={**os.environ, "GOBIN": str(path.parent)},
                                  stdout=out, stderr=subprocess.STDOUT)
        if done.returncode != 0 or not path.exists():
            raise SystemExit(f"building Telegraf failed (exit {done.returncode}); see {log}")
    return path


def version(path: Path) -> str:
    """`Telegraf v1.37.2`: `go install` builds without the release's version stamp, so the module's
    version is read from the binary's build information."""
    stamped = subprocess.run([str(path), "--version"], capture_output=True, text=True).stdout.strip()
    if stamped and "unknown" not in stamped:
        return stamped
    info = subprocess.run(["go", "version", "-m", str(path)], capture_output=True, text=True).stdout
    module = next((line.split()[2] for line in info.splitlines() if line.split()[:2] == ["mod", PACKAGE.rsplit("/cmd/", 1)[0]]), "?")
    return f"Telegraf {module} (go install)"


def _toml(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def config(access, client_id: str, topic_filter: str, dsn: str) -> str:
    host, port = access.service
    user, password = access.gateway
    parsing = topic_filter.replace("#", "+")
    return f"""
[agent]
  omit_hostname = true
  flush_interval = {_toml(TUNING["flush_interval"])}
  metric_batch_size = {TUNING["metric_batch_size"]}
  metric_buffer_limit = 100000
  collection_jitter = "0s"
  flush_jitter = "0s"

[[inputs.mqtt_consumer]]
  servers = [{_toml(f"tcp://{host}:{port}")}]
  topics = [{_toml(topic_filter)}]
  qos = 1
  persistent_session = true
  client_id = {_toml(client_id)}
  username = {_toml(user)}
  password = {_toml(password)}
  max_undelivered_messages = {TUNING["max_undelivered_messages"]}
  topic_tag = ""
  data_format = "json_v2"

  [[inputs.mqtt_consumer.topic_parsing]]
    topic = {_toml(parsing)}
    tags = "_/_/district/device_id/_"

  [[inputs.mqtt_consumer.json_v2]]
    measurement_name = {_toml(TABLE)}
    timestamp_path = "ts"
    timestamp_format = "2006-01-02T15:04:05.999999999Z07:00"

    [[inputs.mqtt_consumer.json_v2.field]]
      path = "seq"
      type = "int"

    [[inputs.mqtt_consumer.json_v2.object]]
      path = "metrics"
      disable_prepend_keys = true

[[outputs.postgresql]]
  connection = {_toml(dsn)}
  create_templates = [
    '''CREATE TABLE {{{{ .table }}}} ({{{{ .columns }}}})''',
    '''SELECT create_hypertable({{{{ .table|quoteLiteral }}}}, 'time', chunk_time_interval => INTERVAL '1 day')''',
  ]
"""
