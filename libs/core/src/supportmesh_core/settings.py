"""Settings every service shares, read from the environment; each service subclasses them once."""

import pathlib

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = pathlib.Path(__file__).resolve().parents[4]


class ServiceSettings(BaseSettings):
    """The environment every service reads. Subclasses add their own fields and fail fast on bad values."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    service_name: str = Field(validation_alias="OTEL_SERVICE_NAME")
    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", validation_alias="KAFKA_BOOTSTRAP_SERVERS")
    elasticsearch_url: str = Field("http://127.0.0.1:9200", validation_alias="ELASTICSEARCH_URL")
    commerce_addr: str = Field("127.0.0.1:50051", validation_alias="COMMERCE_ADDR")
    data_dir: pathlib.Path = Field(REPO_ROOT / ".infra" / "state", validation_alias="SUPPORTMESH_DATA_DIR")
    log_level: str = Field("INFO", validation_alias="LOG_LEVEL")
    # Outputs speak JSON unless a deployment asks for the protobuf form of the same messages.
    output_format: str = Field("json", pattern="^(json|protobuf)$", validation_alias="SUPPORTMESH_OUTPUT_FORMAT")
    ticket_budget_ms: int = Field(5000, gt=0, validation_alias="TICKET_BUDGET_MS")
    # How far back a restarted service reads the output topics to refuse answering a ticket twice.
    dedupe_window_hours: float = Field(24.0, gt=0, validation_alias="DEDUPE_WINDOW_HOURS")
    max_batch: int = Field(200, gt=0, validation_alias="KAFKA_MAX_BATCH")
    commit_interval_ms: int = Field(200, ge=0, validation_alias="KAFKA_COMMIT_INTERVAL_MS")
    handler_attempts: int = Field(3, ge=1, validation_alias="STAGE_HANDLER_ATTEMPTS")

    def state_dir(self) -> pathlib.Path:
        """The service's own directory for durable state, created on first use."""
        path = self.data_dir / self.service_name
        path.mkdir(parents=True, exist_ok=True)
        return path
