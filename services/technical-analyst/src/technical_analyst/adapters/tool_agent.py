"""The model engine of the analyst: an OpenAI-compatible model proposes commerce tool calls, each one checked
before it runs (lookups here, the one approved write by the handler through the commerce adapter)."""

import json
import time
from dataclasses import dataclass, field

from supportmesh.v1.envelope_pb2 import Envelope
from supportmesh_llm import LOCAL, ModelClient, ToolAnswer

from ..domain.tool_calls import (
    LOOKUPS,
    TOOLS,
    ApprovedWrite,
    Refusal,
    ToolContext,
    analyst_messages,
    check_lookup,
    check_write,
    masked_ticket,
)
from .lookups import CommerceLookups

NO_WRITE, ROUNDS_EXHAUSTED = "no_write", "rounds_exhausted"


@dataclass
class Proposal:
    """What the model's turns came to. `write` is set only when it passed every check."""

    engine: str                       # openai, or local when no model answered (the rules decide)
    write: ApprovedWrite | None = None
    outcome: str = ""                 # write | no_write | refused | rounds_exhausted | the fallback reason
    refusals: list[tuple[str, Refusal]] = field(default_factory=list)
    lookups: int = 0


class ModelToolAgent:
    """Runs up to `max_rounds` model turns: lookups are answered and fed back; the first write ends the turns.

    A refused call is never retried or redirected: the rules engine then decides the ticket as it would
    without a model.
    """

    def __init__(self, client: ModelClient, lookups: CommerceLookups, refund_limit: float,
                 max_rounds: int = 3) -> None:
        self._client = client
        self._lookups = lookups
        self._limit = refund_limit
        self._max_rounds = max_rounds

    @property
    def configured(self) -> bool:
        return self._client.configured

    async def propose(self, env: Envelope, ctx: ToolContext, budget_s: float) -> Proposal:
        known = (env.ticket.customer.name, env.ticket.customer.email, env.retrieval.customer_name)
        messages: list[dict] = analyst_messages(ctx, masked_ticket(ctx.text, known), self._limit)
        deadline = time.monotonic() + budget_s
        proposal = Proposal(engine=LOCAL)
        for _ in range(self._max_rounds):
            result = await self._client.tools(
                "analyse", messages, TOOLS, local=lambda: ToolAnswer([]), budget_s=deadline - time.monotonic(),
                ticket_id=env.ticket.ticket_id, conversation_id=env.ticket.conversation_id)
            if result.engine == LOCAL:
                proposal.outcome = result.fallback_reason
                return proposal
            proposal.engine = result.engine
            answer = result.value
            if not answer.tool_calls:
                proposal.outcome = NO_WRITE
                return proposal
            replies = []
            for call in answer.tool_calls:
                if call.name not in LOOKUPS:
                    if proposal.write is not None:
                        proposal.refusals.append((call.name, Refusal("one_write_per_ticket",
                                                                     "a ticket gets at most one write")))
                        continue
                    checked = check_write(call.name, call.arguments, ctx, self._limit)
                    if isinstance(checked, Refusal):
                        proposal.refusals.append((call.name, checked))
                        proposal.outcome = "refused"
                        return proposal
                    proposal.write, proposal.outcome = checked, "write"
                    continue
                replies.append(await self._lookup(call, ctx, deadline, proposal))
            if proposal.write is not None:
                return proposal
            messages.append({"role": "assistant", "content": answer.text or None, "tool_calls": [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": json.dumps(c.arguments)}}
                for c in answer.tool_calls]})
            messages.extend(replies)
        proposal.outcome = ROUNDS_EXHAUSTED
        return proposal

    async def _lookup(self, call, ctx: ToolContext, deadline: float, proposal: Proposal) -> dict:
        checked = check_lookup(call.name, call.arguments, ctx)
        if isinstance(checked, Refusal):
            proposal.refusals.append((call.name, checked))
            content = {"error": checked.detail}
        else:
            proposal.lookups += 1
            content = await self._lookups.lookup(call.name, checked, ctx.customer_id,
                                                 max(0.05, deadline - time.monotonic()))
        return {"role": "tool", "tool_call_id": call.id, "content": json.dumps(content)}
