"""The model engine: an OpenAI-compatible model rewrites the grounded draft, checked against the facts."""

from dataclasses import dataclass

from supportmesh.v1.envelope_pb2 import Envelope
from supportmesh_llm import ModelClient

from ..domain.compose import Reply
from ..domain.grounding import generation_messages, problems


@dataclass(frozen=True)
class Written:
    body: str
    engine: str            # openai | local (the draft)
    fallback_reason: str   # e.g. rejected (a fact not grounded), timeout, breaker_open, not_configured
    fallback_detail: str


class ModelWriter:
    """Asks the model for the reply's body; the draft stands whenever the model's text states an order id,
    amount, tracking id, status or action the facts do not hold, drops one the draft gives, or no model
    answers in time."""

    def __init__(self, client: ModelClient, max_tokens: int = 600) -> None:
        self._client = client
        self._max_tokens = max_tokens

    @property
    def configured(self) -> bool:
        return self._client.configured

    async def write(self, env: Envelope, draft: Reply, budget_s: float) -> Written:
        def check(text: str) -> str | None:
            found = problems(text, env, draft.body)
            return "; ".join(found) if found else None

        result = await self._client.chat(
            "reply", generation_messages(env, draft.body), local=lambda: draft.body, budget_s=budget_s,
            check=check, temperature=0.3, max_tokens=self._max_tokens, ticket_id=env.ticket.ticket_id,
            conversation_id=env.ticket.conversation_id)
        return Written(result.value, result.engine, result.fallback_reason, result.fallback_detail)
