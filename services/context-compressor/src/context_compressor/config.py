"""The context-compressor's settings: where conversation state lives and the context's token budget."""

import pathlib

from pydantic import Field
from supportmesh_core.settings import REPO_ROOT, ServiceSettings


class Settings(ServiceSettings):
    service_name: str = Field("context-compressor", validation_alias="OTEL_SERVICE_NAME")
    http_port: int = Field(8102, gt=0, lt=65536, validation_alias="HTTP_PORT")
    # Empty means <state_dir>/conversations.db.
    db_path: pathlib.Path | None = Field(None, validation_alias="COMPRESSOR_DB_PATH")
    token_budget: int = Field(512, ge=64, le=128_000, validation_alias="COMPRESSOR_TOKEN_BUDGET")
    tokenizer: str = Field("cl100k_base", min_length=1, validation_alias="COMPRESSOR_TOKENIZER")
    recent_turns: int = Field(2, ge=1, le=20, validation_alias="COMPRESSOR_RECENT_TURNS")
    # The store database (the one commerce is seeded from): its product names are facts when mentioned.
    catalog_path: pathlib.Path = Field(REPO_ROOT / "data" / "retail" / "db.json.gz",
                                       validation_alias="COMPRESSOR_CATALOG_PATH")

    # The share of the ticket's remaining latency budget the abstractive summary may spend.
    model_budget_share: float = Field(0.3, gt=0, le=1, validation_alias="COMPRESSOR_MODEL_BUDGET_SHARE")

    def database(self) -> pathlib.Path:
        return self.db_path or self.state_dir() / "conversations.db"
