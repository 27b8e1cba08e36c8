"""Settings of the technical-analyst service, read from the environment."""

import pathlib
from typing import Literal

from pydantic import Field
from supportmesh_core.settings import CommerceClientSettings


class Settings(CommerceClientSettings):
    """The analyst's environment: the shared settings, the refund approval limit and the commerce token."""

    service_name: str = Field("technical-analyst", validation_alias="OTEL_SERVICE_NAME")
    http_port: int = Field(8104, gt=0, lt=65536, validation_alias="HTTP_PORT")
    # Refunds above this amount (in the store currency) are approved by a human, never by the mesh.
    refund_approval_limit: float = Field(500.0, gt=0, validation_alias="ANALYST_REFUND_APPROVAL_LIMIT")
    # `auto`: an OpenAI-compatible model proposes commerce tool calls for cancellations and refunds when
    # OPENAI_API_KEY or OPENAI_BASE_URL is set (TECHNICAL_ANALYST_MODEL names it); `rules`: never.
    engine: Literal["auto", "rules"] = Field("auto", validation_alias="ANALYST_ENGINE")
    # The share of the ticket's remaining budget the model's turns may take; the write gets the rest.
    model_budget_share: float = Field(0.4, gt=0, lt=1, validation_alias="ANALYST_MODEL_BUDGET_SHARE")
    model_max_rounds: int = Field(3, ge=1, le=6, validation_alias="ANALYST_MODEL_MAX_ROUNDS")

    # How long a proposal waits for the customer's "yes" before it must be asked again (store state can change).
    proposal_ttl_s: float = Field(86400.0, gt=0, validation_alias="ANALYST_PROPOSAL_TTL_S")
    # Proposals waiting for an answer; empty means <SUPPORTMESH_DATA_DIR>/technical-analyst/proposals.db.
    proposals_db: str = Field("", validation_alias="ANALYST_PROPOSALS_DB")

    def proposals_path(self) -> pathlib.Path:
        return pathlib.Path(self.proposals_db) if self.proposals_db else self.state_dir() / "proposals.db"
