"""Settings of the response-generator service, read from the environment."""

from typing import Literal

from pydantic import Field
from supportmesh_core.settings import ServiceSettings


class Settings(ServiceSettings):
    """The generator's environment: the shared settings plus its grounding thresholds."""

    service_name: str = Field("response-generator", validation_alias="OTEL_SERVICE_NAME")
    http_port: int = Field(8105, gt=0, lt=65536, validation_alias="HTTP_PORT")
    # Below this classifier confidence the mesh does not trust its reading of the ticket and hands it over.
    min_confidence: float = Field(0.6, ge=0.0, le=1.0, validation_alias="GENERATOR_MIN_CONFIDENCE")
    max_steps: int = Field(12, ge=1, le=50, validation_alias="GENERATOR_MAX_STEPS")
    # `auto`: an OpenAI-compatible model rewrites the grounded draft when OPENAI_API_KEY or OPENAI_BASE_URL
    # is set (RESPONSE_GENERATOR_MODEL names it); `local`: templates only.
    engine: Literal["auto", "local"] = Field("auto", validation_alias="GENERATOR_ENGINE")
    # The last stage may use most of what is left of the ticket's budget.
    model_budget_share: float = Field(0.8, gt=0, le=1, validation_alias="GENERATOR_MODEL_BUDGET_SHARE")
    model_max_tokens: int = Field(600, ge=50, le=4000, validation_alias="GENERATOR_MODEL_MAX_TOKENS")
