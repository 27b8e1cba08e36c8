"""The abstractive summary engine: an OpenAI-compatible model through the model layer, checked against the facts."""

from dataclasses import dataclass

from supportmesh_llm import ModelClient

from ..domain.abstractive import missing_facts, summary_messages
from ..domain.model import Tokenizer, Turn


@dataclass(frozen=True)
class Summary:
    text: str
    engine: str            # openai | local
    fallback_reason: str   # why the extractive summary was used although a model is configured
    fallback_detail: str


class ModelSummarizer:
    """Asks the model for a summary of the earlier turns; the extractive summary stands whenever the model's
    answer is missing a key fact, does not fit the tokens the summary may take, or no model answers in time."""

    def __init__(self, client: ModelClient, tokenizer: Tokenizer) -> None:
        self._client = client
        self._tokenizer = tokenizer

    @property
    def configured(self) -> bool:
        return self._client.configured

    async def summarize(self, turns: list[Turn], extractive: str, facts: dict[str, list[str]], max_tokens: int,
                        budget_s: float, ticket_id: str = "", conversation_id: str = "") -> Summary:
        def check(text: str) -> str | None:
            if missing := missing_facts(text, facts):
                return "missing key facts: " + ", ".join(missing[:10])
            if (tokens := self._tokenizer.count(text)) > max_tokens:
                return f"over the summary's budget: {tokens} > {max_tokens} tokens"
            return None

        result = await self._client.chat(
            "summarize", summary_messages(turns, max_tokens), local=lambda: extractive, budget_s=budget_s,
            check=check, max_tokens=max_tokens * 2, ticket_id=ticket_id, conversation_id=conversation_id)
        return Summary(result.value, result.engine, result.fallback_reason, result.fallback_detail)
