"""The commerce service's settings, read from the environment."""

import pathlib

from pydantic import Field, field_validator
from supportmesh_core.settings import REPO_ROOT, ServiceSettings

from .auth import BUNDLED_PERMISSIONS, DEV_TOKENS, parse_tokens


class Settings(ServiceSettings):
    """Environment of the commerce service; bad values fail at start-up."""

    service_name: str = Field("commerce", validation_alias="OTEL_SERVICE_NAME")
    http_port: int = Field(8107, ge=0, le=65535, validation_alias="HTTP_PORT")
    grpc_port: int = Field(50051, ge=0, le=65535, validation_alias="COMMERCE_GRPC_PORT")
    # 127.0.0.1 on a laptop; containers set 0.0.0.0 so other services can reach it.
    bind_host: str = Field("127.0.0.1", min_length=1, validation_alias="COMMERCE_BIND_HOST")
    db_path: pathlib.Path | None = Field(None, validation_alias="COMMERCE_DB_PATH")
    seed_path: pathlib.Path = Field(REPO_ROOT / "data" / "retail" / "db.json.gz",
                                    validation_alias="COMMERCE_SEED_PATH")
    # How long start-up waits for Kafka before serving without hop records (and retrying in the background).
    kafka_connect_timeout_s: float = Field(10.0, gt=0, validation_alias="COMMERCE_KAFKA_CONNECT_TIMEOUT_S")
    # Refunds above this many dollars are not executed: a pending-approval case is opened instead.
    refund_approval_limit: float = Field(500.0, gt=0, validation_alias="COMMERCE_REFUND_APPROVAL_LIMIT")
    tokens: str = Field(DEV_TOKENS, min_length=1, validation_alias="COMMERCE_TOKENS")
    permissions_path: pathlib.Path = Field(BUNDLED_PERMISSIONS, validation_alias="COMMERCE_PERMISSIONS")

    @field_validator("tokens")
    @classmethod
    def _tokens_parse(cls, value: str) -> str:
        parse_tokens(value)  # fail at start-up, not on the first call
        return value

    def token_map(self) -> dict[str, str]:
        return parse_tokens(self.tokens)

    def database_path(self) -> pathlib.Path:
        """COMMERCE_DB_PATH, or commerce.sqlite3 in the service's state directory."""
        return self.db_path if self.db_path is not None else self.state_dir() / "commerce.sqlite3"
