"""Settings every service shares, read from the environment; each service subclasses them once."""

import pathlib
from typing import ClassVar, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from . import local_tokens, tls
from .kafka_security import KafkaSecurity

REPO_ROOT = pathlib.Path(__file__).resolve().parents[4]


class ServiceSettings(KafkaSecurity):
    """The environment every service reads. Subclasses add their own fields and fail fast on bad values.

    How to reach Kafka (PLAINTEXT, or TLS and SASL/SCRAM) comes from KafkaSecurity, checked the same way.
    """

    # A validation error would otherwise print the values it was given, a token or password among them.
    model_config = SettingsConfigDict(extra="ignore", frozen=True, hide_input_in_errors=True)

    # What a deployment must give (README, "Profiles"): outside the local profile these have no default, and a
    # missing or empty one stops start-up naming its variable. {variable: what it is; `{service}` names the
    # service}; each settings class adds its own (`required_outside_local` gathers them).
    REQUIRED_OUTSIDE_LOCAL: ClassVar[dict[str, str]] = {
        "KAFKA_BOOTSTRAP_SERVERS": "the Kafka brokers as host:port,..."}

    service_name: str = Field(validation_alias="OTEL_SERVICE_NAME")
    # `local` (a laptop, tests): today's defaults, and a missing commerce token falls back to the install's random
    # local tokens (supportmesh_core.local_tokens). Any other profile refuses to start without every setting of
    # REQUIRED_OUTSIDE_LOCAL: a default there would point a deployment at a laptop's servers.
    profile: Literal["local", "production"] = Field("local", validation_alias="SUPPORTMESH_PROFILE")
    local_tokens_file: pathlib.Path = Field(default_factory=local_tokens.default_file,
                                            validation_alias=local_tokens.FILE_VARIABLE)
    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", validation_alias="KAFKA_BOOTSTRAP_SERVERS")
    elasticsearch_url: str = Field("http://127.0.0.1:9200", validation_alias="ELASTICSEARCH_URL")
    commerce_addr: str = Field("127.0.0.1:50051", validation_alias="COMMERCE_ADDR")
    # Loopback for local runs; containers set 0.0.0.0 so the kubelet and Prometheus reach /healthz, /readyz, /metrics.
    http_host: str = Field("127.0.0.1", min_length=1, validation_alias="HTTP_BIND_HOST")
    data_dir: pathlib.Path = Field(REPO_ROOT / ".infra" / "state", validation_alias="SUPPORTMESH_DATA_DIR")
    log_level: str = Field("INFO", validation_alias="LOG_LEVEL")
    # Outputs speak JSON unless a deployment asks for the protobuf form of the same messages.
    output_format: str = Field("json", pattern="^(json|protobuf)$", validation_alias="SUPPORTMESH_OUTPUT_FORMAT")
    ticket_budget_ms: int = Field(5000, gt=0, validation_alias="TICKET_BUDGET_MS")
    # How far back a restarted service reads the output topics to refuse answering a ticket twice.
    dedupe_window_hours: float = Field(24.0, gt=0, validation_alias="DEDUPE_WINDOW_HOURS")
    max_batch: int = Field(200, gt=0, validation_alias="KAFKA_MAX_BATCH")
    commit_interval_ms: int = Field(200, ge=0, validation_alias="KAFKA_COMMIT_INTERVAL_MS")
    # Partitions of the topics a service creates when they do not exist yet: the most replicas of a stage that
    # can share its work (docs/architecture.md, Replicas). Existing topics keep theirs.
    topic_partitions: int = Field(3, ge=1, validation_alias="KAFKA_TOPIC_PARTITIONS")
    # How long a rebalance waits for the messages of a partition being taken away to finish and publish
    # before letting it go; longer ones are read again by the next owner, whose ledger drops the repeats.
    rebalance_drain_ms: int = Field(5000, ge=0, validation_alias="KAFKA_REBALANCE_DRAIN_MS")
    handler_attempts: int = Field(3, ge=1, validation_alias="STAGE_HANDLER_ATTEMPTS")
    # Resilience (docs/architecture.md, Resilience): a handler attempt may run for what is left of the
    # ticket's budget, but never less than the floor, so a late ticket is still handled rather than dropped.
    stage_timeout_floor_ms: int = Field(2000, gt=0, validation_alias="STAGE_TIMEOUT_FLOOR_MS")
    # Stages a ticket may skip when less than `degrade_below_ms` of its budget is left (comma-separated).
    optional_stages: str = Field("context-compressor", validation_alias="OPTIONAL_STAGES")
    degrade_below_ms: int = Field(1000, ge=0, validation_alias="DEGRADE_BELOW_MS")
    # After this many tickets in a row failed every attempt, the stage stops trying for a cool-down:
    # tickets escalate at once with reason `degraded` (an optional stage is skipped instead).
    stage_failure_threshold: int = Field(5, ge=1, validation_alias="STAGE_FAILURE_THRESHOLD")
    stage_breaker_cooldown_s: float = Field(10.0, gt=0, validation_alias="STAGE_BREAKER_COOLDOWN_S")
    # Fault flags from `chaos.flags` (supportmesh chaos set …); switch off where chaos must never apply.
    chaos_enabled: bool = Field(True, validation_alias="CHAOS_ENABLED")

    @classmethod
    def required_outside_local(cls) -> dict[str, str]:
        """{variable: what it is} for every setting this class needs given outside the local profile, bases first."""
        required: dict[str, str] = {}
        for klass in reversed(cls.__mro__):
            required.update(vars(klass).get("REQUIRED_OUTSIDE_LOCAL", {}))
        return required

    @model_validator(mode="after")
    def _given_outside_local(self) -> "ServiceSettings":
        if self.profile == "local":
            return self
        fields = {info.validation_alias: name for name, info in type(self).model_fields.items()}
        missing = []
        for variable, what in self.required_outside_local().items():
            name = fields[variable]
            value = getattr(self, name)
            value = value.get_secret_value() if isinstance(value, SecretStr) else value
            # Only what the environment (or the caller) gave counts: a field's default is the local profile's.
            if name in self.model_fields_set and str(value or "").strip():
                continue
            default = type(self).model_fields[name].default
            local = f" (only the local profile defaults it, to {default})" if isinstance(default, str) and default \
                else ""
            missing.append(f"{variable} is not set: the {self.profile} profile needs "
                           f"{what.format(service=self.service_name)}{local}")
        if missing:
            raise ValueError("; ".join(missing))
        return self

    def is_optional_stage(self) -> bool:
        return self.service_name in {s.strip() for s in self.optional_stages.split(",") if s.strip()}

    def state_dir(self) -> pathlib.Path:
        """The service's own directory for durable state, created on first use."""
        path = self.data_dir / self.service_name
        path.mkdir(parents=True, exist_ok=True)
        return path


class CommerceClientSettings(ServiceSettings):
    """The settings of a service that calls commerce: its address, its token and, optionally, TLS or mutual TLS."""

    REQUIRED_OUTSIDE_LOCAL: ClassVar[dict[str, str]] = {
        "COMMERCE_ADDR": "commerce's gRPC address as host:port",
        "COMMERCE_TOKEN": "{service}'s commerce service token (the value commerce's COMMERCE_TOKENS gives it)"}

    # The caller's identity towards commerce (`x-service-token`). Empty: a start-up error outside the local
    # profile; in it, this service's token from the local tokens file.
    commerce_token: str = Field("", validation_alias="COMMERCE_TOKEN")
    # TLS: trust a commerce server certificate signed by this CA (PEM). Unset: plaintext.
    commerce_tls_ca: pathlib.Path | None = Field(None, validation_alias="COMMERCE_TLS_CA")
    # Mutual TLS: the certificate (CN = this service's name) and key presented to commerce.
    commerce_tls_client_cert: pathlib.Path | None = Field(None, validation_alias="COMMERCE_TLS_CLIENT_CERT")
    commerce_tls_client_key: pathlib.Path | None = Field(None, validation_alias="COMMERCE_TLS_CLIENT_KEY")

    @model_validator(mode="after")
    def _commerce_client_checks(self) -> "CommerceClientSettings":
        tls.check_files({"COMMERCE_TLS_CA": self.commerce_tls_ca,
                         "COMMERCE_TLS_CLIENT_CERT": self.commerce_tls_client_cert,
                         "COMMERCE_TLS_CLIENT_KEY": self.commerce_tls_client_key},
                        ("COMMERCE_TLS_CLIENT_CERT", "COMMERCE_TLS_CLIENT_KEY"),
                        needs={"COMMERCE_TLS_CLIENT_CERT": "COMMERCE_TLS_CA"})
        return self

    def commerce_identity(self) -> str:
        """COMMERCE_TOKEN, or (local profile only) this service's token from the local tokens file."""
        return self.commerce_token or local_tokens.token_for(self.service_name, self.local_tokens_file)

    def commerce_credentials(self):
        """grpc.ChannelCredentials when COMMERCE_TLS_CA is set, else None (plaintext)."""
        if self.commerce_tls_ca is None:
            return None
        return tls.channel_credentials(self.commerce_tls_ca, self.commerce_tls_client_cert,
                                       self.commerce_tls_client_key)
