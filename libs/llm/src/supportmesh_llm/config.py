"""Model settings from the environment: endpoint, model per service, retries, breaker and prices."""

import json
import os
from collections.abc import Mapping

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from .pricing import DEFAULT_PRICES, Price

DEFAULT_MODEL = "gpt-4o-mini"


class ModelConfig(BaseModel):
    """One service's model settings. `configured` is False without OPENAI_API_KEY or OPENAI_BASE_URL:
    then every call goes to the local engine and nothing touches the network."""

    model_config = {"frozen": True}

    base_url: str = ""
    api_key: str = ""
    model: str = DEFAULT_MODEL
    # Tried in order after `model` fails, on the same endpoint, before the local engine.
    fallback_models: tuple[str, ...] = ()
    max_attempts: int = Field(3, ge=1, le=10)
    request_timeout_s: float = Field(10.0, gt=0)
    backoff_base_s: float = Field(0.2, ge=0)
    backoff_max_s: float = Field(2.0, ge=0)
    breaker_failures: int = Field(5, ge=1)
    breaker_cooldown_s: float = Field(30.0, ge=0)
    prices: dict[str, Price] = Field(default_factory=lambda: dict(DEFAULT_PRICES))

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith(("http://", "https://")):
            raise ValueError(f"OPENAI_BASE_URL must start with http:// or https://, got {value!r}")
        return value

    @model_validator(mode="after")
    def _model_named(self) -> "ModelConfig":
        if not self.model.strip():
            raise ValueError("the model name is empty")
        return self

    @property
    def configured(self) -> bool:
        return bool(self.api_key or self.base_url)

    @property
    def models(self) -> tuple[str, ...]:
        """The remote chain, first choice first."""
        return (self.model, *(m for m in self.fallback_models if m != self.model))

    @classmethod
    def from_env(cls, service: str, env: Mapping[str, str] | None = None) -> "ModelConfig":
        """Read the settings for `service`; its own `<SERVICE>_MODEL` wins over `OPENAI_MODEL`.

        `context-compressor` reads CONTEXT_COMPRESSOR_MODEL and CONTEXT_COMPRESSOR_FALLBACK_MODELS.
        Bad values fail here, at start-up, with the variable's name.
        """
        env = os.environ if env is None else env
        prefix = service.upper().replace("-", "_").replace(".", "_")

        def get(*names: str) -> str | None:
            for name in names:
                if env.get(name, "").strip():
                    return env[name].strip()
            return None

        fields: dict[str, object] = {
            "base_url": get("OPENAI_BASE_URL") or "",
            "api_key": get("OPENAI_API_KEY") or "",
            "model": get(f"{prefix}_MODEL", "OPENAI_MODEL") or DEFAULT_MODEL,
        }
        fallbacks = get(f"{prefix}_FALLBACK_MODELS", "OPENAI_FALLBACK_MODELS")
        if fallbacks:
            fields["fallback_models"] = tuple(m.strip() for m in fallbacks.split(",") if m.strip())
        numeric = {"max_attempts": "LLM_MAX_ATTEMPTS", "request_timeout_s": "LLM_REQUEST_TIMEOUT_S",
                   "backoff_base_s": "LLM_BACKOFF_BASE_S", "backoff_max_s": "LLM_BACKOFF_MAX_S",
                   "breaker_failures": "LLM_BREAKER_FAILURES", "breaker_cooldown_s": "LLM_BREAKER_COOLDOWN_S"}
        for field, name in numeric.items():
            if (value := get(name)) is not None:
                fields[field] = value
        if (prices := get("LLM_PRICES")) is not None:
            fields["prices"] = {**DEFAULT_PRICES, **_parse_prices(prices)}
        try:
            return cls(**fields)
        except ValidationError as exc:
            names = {**numeric, "base_url": "OPENAI_BASE_URL", "model": f"{prefix}_MODEL"}
            problems = "; ".join(f"{names.get(str(e['loc'][0]), e['loc'][0]) if e['loc'] else 'config'}: {e['msg']}"
                                 for e in exc.errors())
            raise ValueError(f"bad model settings for {service}: {problems}") from None


def _parse_prices(raw: str) -> dict[str, Price]:
    """LLM_PRICES: JSON {"model": [usd per 1M input tokens, usd per 1M output tokens], ...}."""
    try:
        table = json.loads(raw)
        return {str(model): Price(input_per_mtok=float(pair[0]), output_per_mtok=float(pair[1]))
                for model, pair in table.items()}
    except (ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
        raise ValueError(f'LLM_PRICES must be JSON like {{"my-model": [0.15, 0.6]}}: {exc}') from None
