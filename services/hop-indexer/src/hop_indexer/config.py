"""hop-indexer settings: where the hops go in Elasticsearch and how batches are cut and retried."""

from pydantic import Field
from supportmesh_core.elastic import ElasticsearchClientSettings

TEMPLATE_PATTERN = "supportmesh-hops-*"


class Settings(ElasticsearchClientSettings):
    """The environment hop-indexer reads; bad values stop the process at start-up."""

    service_name: str = Field("hop-indexer", validation_alias="OTEL_SERVICE_NAME")
    http_port: int = Field(8106, gt=0, lt=65536, validation_alias="HTTP_PORT")
    # Daily indices are <prefix>-YYYY.MM.DD; the prefix must stay under the template's pattern.
    index_prefix: str = Field("supportmesh-hops", pattern=r"^supportmesh-hops(-[a-z0-9_-]+)?$",
                              validation_alias="HOP_INDEX_PREFIX")
    dlq_topic: str = Field("telemetry.hops.dlq", min_length=1, validation_alias="HOP_DLQ_TOPIC")
    batch_max: int = Field(500, gt=0, le=10000, validation_alias="HOP_BATCH_MAX")
    batch_wait_ms: int = Field(200, gt=0, le=10000, validation_alias="HOP_BATCH_WAIT_MS")
    backoff_cap_s: float = Field(5.0, gt=0, validation_alias="HOP_BACKOFF_CAP_S")
    es_timeout_s: float = Field(10.0, gt=0, validation_alias="HOP_ES_TIMEOUT_S")
    # Daily indices whose day is this many days or more in the past are deleted by the janitor.
    retention_days: int = Field(14, ge=1, le=3650, validation_alias="HOPS_RETENTION_DAYS")
    janitor_interval_s: float = Field(3600.0, gt=0, validation_alias="HOP_JANITOR_INTERVAL_S")
