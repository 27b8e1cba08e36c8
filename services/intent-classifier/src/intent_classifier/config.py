"""Settings of the intent-classifier service, read from the environment."""

import pathlib
from typing import Literal

from pydantic import Field
from supportmesh_core.settings import REPO_ROOT, ServiceSettings

PACKAGE_DIR = pathlib.Path(__file__).resolve().parent


class Settings(ServiceSettings):
    service_name: str = Field("intent-classifier", validation_alias="OTEL_SERVICE_NAME")
    http_port: int = Field(8101, ge=1, le=65535, validation_alias="HTTP_PORT")
    # Where `train` writes the model and the service loads it (trained at start when missing or stale).
    model_dir: pathlib.Path = Field(
        REPO_ROOT / "artifacts" / "intent-classifier", validation_alias="SUPPORTMESH_MODEL_DIR"
    )
    # The bundled data (Bitext utterances and knowledge-base articles) the model is trained from.
    training_data_dir: pathlib.Path = Field(
        REPO_ROOT / "data", validation_alias="CLASSIFIER_TRAINING_DATA_DIR"
    )
    workflows_path: pathlib.Path = Field(
        PACKAGE_DIR / "workflows.yaml", validation_alias="CLASSIFIER_WORKFLOWS"
    )
    # Below this probability of the best intent the ticket goes to a human (reason low_confidence).
    min_confidence: float = Field(0.6, gt=0, lt=1, validation_alias="CLASSIFIER_MIN_CONFIDENCE")
    seed: int = Field(42, validation_alias="CLASSIFIER_SEED")
    holdout_fraction: float = Field(0.2, gt=0, lt=0.5, validation_alias="CLASSIFIER_HOLDOUT_FRACTION")
    # How many knowledge-base articles become technical_support examples (one statement per article).
    kb_examples: int = Field(250, ge=0, validation_alias="CLASSIFIER_KB_EXAMPLES")
    # `auto`: the OpenAI-compatible model refines the local classification when OPENAI_API_KEY or
    # OPENAI_BASE_URL is set (INTENT_CLASSIFIER_MODEL names it); `local`: never ask a model.
    engine: Literal["auto", "local"] = Field("auto", validation_alias="CLASSIFIER_ENGINE")
    # The share of the ticket's remaining budget the model call may take (the other stages need the rest).
    model_budget_share: float = Field(0.25, gt=0, le=1, validation_alias="CLASSIFIER_MODEL_BUDGET_SHARE")

    # Limits at the intake (README, "Limits"): a token bucket per customer (e-mail, else name and zip, else the
    # conversation), per channel, and one for the whole intake, per replica. Over the first two a ticket gets a
    # holding reply (the first of a flood escalates once, `rate_limited`); over the intake-wide one it waits.
    limits_enabled: bool = Field(True, validation_alias="INTAKE_LIMITS_ENABLED")
    customer_rate_per_min: float = Field(12.0, gt=0, validation_alias="INTAKE_CUSTOMER_RATE_PER_MIN")
    # A burst of 20 from one customer, all handled at once, cost the others 3x their p95 for half a second.
    customer_burst: int = Field(5, ge=1, validation_alias="INTAKE_CUSTOMER_BURST")
    channel_rate_per_s: float = Field(100.0, gt=0, validation_alias="INTAKE_CHANNEL_RATE_PER_S")
    channel_burst: int = Field(1000, ge=1, validation_alias="INTAKE_CHANNEL_BURST")
    intake_rate_per_s: float = Field(200.0, gt=0, validation_alias="INTAKE_RATE_PER_S")
    intake_burst: int = Field(400, ge=1, validation_alias="INTAKE_BURST")
    # The most customer buckets kept (a full one is forgotten anyway: it equals a new one).
    limits_max_tracked: int = Field(100_000, ge=1, validation_alias="INTAKE_LIMITS_MAX_TRACKED")
    # Never held back, comma-separated: an e-mail address or `name|zip` (by its customer limit), or `channel:<name>`
    # (a whole channel, by neither limit; it still waits its turn at the intake-wide one).
    limits_exempt: str = Field("", validation_alias="INTAKE_LIMITS_EXEMPT")
    # Held-back tickets waiting for their holding reply (past it the intake stops reading until there is room),
    # answered at once, and answered a second (0: as fast as they come). The pace keeps a flood's replies from
    # taking the CPU the other tickets need: each one is read by every stage's ledger, the compressor and the hop
    # indexer, and at 100 a second the others' p95 doubled on two cores where at 25 it rose by a fifth.
    held_lane_size: int = Field(10_000, ge=1, validation_alias="INTAKE_HELD_LANE_SIZE")
    held_lane_concurrency: int = Field(8, ge=1, validation_alias="INTAKE_HELD_LANE_CONCURRENCY")
    held_rate_per_s: float = Field(25.0, ge=0, validation_alias="INTAKE_HELD_RATE_PER_S")

    @property
    def exempt_identities(self) -> frozenset[str]:
        return frozenset(e.strip() for e in self.limits_exempt.split(",") if e.strip())

    @property
    def bitext_path(self) -> pathlib.Path:
        return self.training_data_dir / "intents" / "bitext_train.csv.gz"

    @property
    def catalogue_path(self) -> pathlib.Path:
        return self.training_data_dir / "retail" / "db.json.gz"

    @property
    def kb_path(self) -> pathlib.Path:
        return self.training_data_dir / "kb" / "office_support_articles.jsonl.gz"
