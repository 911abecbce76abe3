"""Settings of the API (env prefix CITYSENSE_API_), read in one place."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from runtime.kafka_security import KafkaSecurity


def _shared(name: str) -> AliasChoices:
    return AliasChoices(f"CITYSENSE_API_{name}", f"CITYSENSE_{name}")


class ApiSettings(KafkaSecurity):  # + CITYSENSE_KAFKA_SECURITY_PROTOCOL, _SASL_*, _SSL_CAFILE
    model_config = SettingsConfigDict(env_prefix="CITYSENSE_API_", extra="ignore", populate_by_name=True)

    host: str = "127.0.0.1"
    port: int = 19104
    # Reads: the read-only role. Operators' actions and the access log: a role that may write only those.
    read_database_url: SecretStr = SecretStr("postgresql://citysense_ro:citysense_ro@127.0.0.1:15432/citysense")
    actions_database_url: SecretStr = SecretStr("postgresql://citysense_api:citysense_api@127.0.0.1:15432/citysense")
    pool_min: int = 1
    pool_max: int = 8

    kafka_bootstrap_servers: str = Field("127.0.0.1:19092", validation_alias=_shared("KAFKA_BOOTSTRAP_SERVERS"))
    topic_prefix: str = Field("citysense", validation_alias=_shared("TOPIC_PREFIX"))

    max_points: int = 2000  # a series answers at most this many buckets
    max_range_days: int = 400  # of any time range asked for
    max_raw_range_days: int = 7  # of a device's raw series (an area's comes from its stored windows)
    export_page_rows: int = 5000  # rows of one keyset page of an export (exports have no size cap)
    sse_queue_size: int = 1000  # events waiting for one live-events client; beyond, it is dropped
    publish_interval_s: float = 2.0  # how often unpublished operator actions are sent to Kafka again
    # the dashboard at /: no background tiles unless a tile server is named ({z}/{x}/{y} URL template)
    tile_url: str | None = None
    tile_attribution: str = ""
    wall_rotate_s: float = Field(20.0, ge=3)  # wall mode: seconds on each view
    stale_after_h: float = Field(3.0, gt=0)  # an area's AQI older than this is drawn faded
    # open data (/open/v1, no key): calls a minute per client address, bursts, the licence stated
    open_rate_per_min: float = Field(60.0, gt=0)
    open_burst: int = Field(30, ge=1)
    open_licence: str = "CC-BY-4.0"
    open_attribution: str = "Thành phố Hải Phòng — Trung tâm điều hành thông minh (citysense)"
    # the URL clients reach the API at, when a proxy (the LGSP) stands between: @context links, OData's nextLink
    public_url: str | None = None
    ngsi_max_instances: int = Field(100_000, ge=1)  # temporal values in one NGSI-LD answer
    ngsi_aggr_range_days: int = Field(92, ge=1)  # of an aggregated temporal query (raw: max_raw_range_days)
    ngsi_statement_timeout_ms: int = Field(5000, ge=100)  # of the queries a client's idPattern shapes
    odata_page_rows: int = Field(1000, ge=1, le=100_000)  # rows of one OData page (then @odata.nextLink)
    odata_statement_timeout_ms: int = Field(10_000, ge=100)  # of one OData query
    log_level: str = Field("info", validation_alias=AliasChoices("CITYSENSE_API_LOG_LEVEL", "CITYSENSE_LOG_LEVEL"))

    @property
    def read_dsn(self) -> str:
        return self.read_database_url.get_secret_value()

    @property
    def actions_dsn(self) -> str:
        return self.actions_database_url.get_secret_value()
