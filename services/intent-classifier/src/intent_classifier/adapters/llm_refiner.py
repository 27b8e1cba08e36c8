"""The model engine: an OpenAI-compatible model asked for a structured classification through the model layer."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from supportmesh_intent.classifier import Classification
from supportmesh_llm import LOCAL, ModelClient

from ..domain.llm_verdict import classification_messages, merge, prompt_text, verdict_schema


@dataclass(frozen=True)
class Refined:
    """The classification to use and how it was reached."""

    classification: Classification
    engine: str            # openai | local
    fallback_reason: str   # why the local classification stands although a model is configured
    entities_dropped: int  # model entities not found in the ticket


class ModelClassifier:
    """Asks the model for intent, confidence, sentiment, flags and entities in a JSON schema; the local
    classification stands when the model is not configured, fails, times out, its breaker is open or its
    answer does not validate (an intent outside the taxonomy, a confidence outside 0..1, ...)."""

    def __init__(self, client: ModelClient, categories: Mapping[str, str], products: Iterable[str] = ()) -> None:
        self._client = client
        self._categories = dict(categories)
        self._schema = verdict_schema(list(self._categories))
        self._products = tuple(products)

    @property
    def configured(self) -> bool:
        return self._client.configured

    async def refine(self, text: str, local: Classification, known: Iterable[str], budget_s: float,
                     ticket_id: str = "", conversation_id: str = "") -> Refined:
        messages = classification_messages(prompt_text(text, local.entities, known), self._categories)
        result = await self._client.structured(
            "classify", messages, self._schema, local=lambda: None, budget_s=budget_s,
            ticket_id=ticket_id, conversation_id=conversation_id)
        if result.engine == LOCAL or result.value is None:
            return Refined(local, LOCAL, result.fallback_reason, 0)
        merged, dropped = merge(local, result.value, text, self._categories, self._products)
        return Refined(merged, result.engine, result.fallback_reason, dropped)
