"""The commerce service's settings, read from the environment."""

import pathlib
from typing import ClassVar

from pydantic import Field, field_validator, model_validator
from supportmesh_core import local_tokens, tls
from supportmesh_core.settings import REPO_ROOT, ServiceSettings

from .auth import BUNDLED_PERMISSIONS, parse_tokens


class Settings(ServiceSettings):
    """Environment of the commerce service; bad values fail at start-up."""

    REQUIRED_OUTSIDE_LOCAL: ClassVar[dict[str, str]] = {
        "COMMERCE_TOKENS": "every caller's token as service=token,... (no token is built in)"}

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
    # `service=token,...`. Empty: a start-up error outside the local profile; in it, the install's random
    # local tokens (supportmesh_core.local_tokens), which the callers on this machine fall back to as well.
    tokens: str = Field("", validation_alias="COMMERCE_TOKENS")
    permissions_path: pathlib.Path = Field(BUNDLED_PERMISSIONS, validation_alias="COMMERCE_PERMISSIONS")
    # TLS: the server's certificate chain and key (PEM). Unset: plaintext (the local default).
    tls_cert: pathlib.Path | None = Field(None, validation_alias="COMMERCE_TLS_CERT")
    tls_key: pathlib.Path | None = Field(None, validation_alias="COMMERCE_TLS_KEY")
    # Mutual TLS: clients must present a certificate this CA signed, whose CN names their token's service.
    tls_client_ca: pathlib.Path | None = Field(None, validation_alias="COMMERCE_TLS_CLIENT_CA")

    @field_validator("tokens")
    @classmethod
    def _tokens_parse(cls, value: str) -> str:
        if value.strip():
            parse_tokens(value)  # fail at start-up, not on the first call
        return value

    @model_validator(mode="after")
    def _tls_files(self) -> "Settings":
        tls.check_files({"COMMERCE_TLS_CERT": self.tls_cert, "COMMERCE_TLS_KEY": self.tls_key,
                         "COMMERCE_TLS_CLIENT_CA": self.tls_client_ca},
                        ("COMMERCE_TLS_CERT", "COMMERCE_TLS_KEY"),
                        needs={"COMMERCE_TLS_CLIENT_CA": "COMMERCE_TLS_CERT"})
        return self

    def token_map(self) -> dict[str, str]:
        """COMMERCE_TOKENS, or (local profile only) the local tokens file, made on first use."""
        if self.tokens.strip():
            return parse_tokens(self.tokens)
        return local_tokens.ensure(self.local_tokens_file)

    @property
    def mutual_tls(self) -> bool:
        return self.tls_client_ca is not None

    def server_credentials(self):
        """grpc.ServerCredentials when COMMERCE_TLS_CERT is set, else None (plaintext)."""
        if self.tls_cert is None or self.tls_key is None:
            return None
        return tls.server_credentials(self.tls_cert, self.tls_key, self.tls_client_ca)

    def database_path(self) -> pathlib.Path:
        """COMMERCE_DB_PATH, or commerce.sqlite3 in the service's state directory."""
        return self.db_path if self.db_path is not None else self.state_dir() / "commerce.sqlite3"
