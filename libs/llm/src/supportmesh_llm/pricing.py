"""What a model call cost: a small per-model price table (USD per million tokens), configurable."""

from pydantic import BaseModel, Field


class Price(BaseModel):
    model_config = {"frozen": True}

    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)


# List prices of OpenAI's small and mid models at the time of writing; deployments with other models
# or negotiated prices set LLM_PRICES. A self-hosted model is simply absent: its cost is reported as 0
# with cost_known False, never guessed.
DEFAULT_PRICES: dict[str, Price] = {
    "gpt-4o-mini": Price(input_per_mtok=0.15, output_per_mtok=0.60),
    "gpt-4o": Price(input_per_mtok=2.50, output_per_mtok=10.00),
    "gpt-4.1-nano": Price(input_per_mtok=0.10, output_per_mtok=0.40),
    "gpt-4.1-mini": Price(input_per_mtok=0.40, output_per_mtok=1.60),
    "gpt-4.1": Price(input_per_mtok=2.00, output_per_mtok=8.00),
}


def price_for(model: str, table: dict[str, Price]) -> Price | None:
    """The price of `model`, matching dated snapshots ("gpt-4o-mini-2024-07-18") by the longest known prefix."""
    if model in table:
        return table[model]
    prefixes = [name for name in table if model.startswith(name + "-")]
    return table[max(prefixes, key=len)] if prefixes else None


def cost_usd(model: str, tokens_in: int, tokens_out: int, table: dict[str, Price]) -> tuple[float, bool]:
    """(cost, known): an unknown model costs 0 and says so."""
    price = price_for(model, table)
    if price is None:
        return 0.0, False
    return (tokens_in * price.input_per_mtok + tokens_out * price.output_per_mtok) / 1_000_000, True
