"""supportmesh_llm: the model layer over any OpenAI-compatible endpoint, with a local engine as the last resort."""

from .breaker import PROCESS_BREAKERS, BreakerRegistry, BreakerState, CircuitBreaker
from .client import LOCAL, REMOTE, ModelClient, ModelResult, ToolAnswer, ToolCall
from .config import ModelConfig
from .pricing import DEFAULT_PRICES, Price, cost_usd

__all__ = ["DEFAULT_PRICES", "LOCAL", "PROCESS_BREAKERS", "REMOTE", "BreakerRegistry", "BreakerState",
           "CircuitBreaker", "ModelClient", "ModelConfig", "ModelResult", "Price", "ToolAnswer", "ToolCall",
           "cost_usd"]
