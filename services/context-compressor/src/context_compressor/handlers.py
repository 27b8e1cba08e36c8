"""The context-compressor stage: record the ticket as a turn, then hand on a budgeted context."""

import asyncio
import time
from datetime import datetime
from typing import Protocol

from supportmesh.v1.envelope_pb2 import Envelope
from supportmesh.v1.envelope_pb2 import Turn as TurnMsg
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh_core import handoff
from supportmesh_core.identity import customer_key
from supportmesh_core.stage import Escalate, Forward, remaining_seconds

from .domain.compress import compress, key_facts
from .domain.confirmation import read_reply
from .domain.facts import extract_facts, merge_facts
from .domain.model import Compressed, Tokenizer, Turn

IDENTITY_MISMATCH = "identity_mismatch"
# Said to whoever writes into a conversation opened by another customer; nothing of that conversation is shown.
MISMATCH_MESSAGE = ("This conversation was opened under another account, so we cannot continue it with the "
                    "details you gave. A member of our support team will check and reply to you; to ask about "
                    "your own orders, please start a new conversation.")
# The stage that keeps proposals waiting for the customer's yes or no (technical-analyst/README.md).
ANALYST, FINAL_STAGE = "technical-analyst", "response-generator"
# Where downstream stages find the reading of a turn that answers a proposal: `yes` or `no`.
CONFIRMATION_FACT = "confirmation"


class ConversationStore(Protocol):
    def append_turn(self, conversation_id: str, turn: Turn) -> bool: ...
    def owner(self, conversation_id: str) -> str: ...
    def turns_until(self, conversation_id: str, ticket_id: str) -> list[Turn]: ...
    def save_state(self, conversation_id: str, summary: str, facts: dict[str, str]) -> None: ...


class Summarizer(Protocol):
    """The abstractive engine (adapters.summarizer.ModelSummarizer); it returns the extractive text when it fails."""

    @property
    def configured(self) -> bool: ...

    async def summarize(self, turns: list[Turn], extractive: str, facts: dict[str, list[str]], max_tokens: int,
                        budget_s: float, ticket_id: str = "", conversation_id: str = ""): ...


def ticket_turn(env: Envelope, products: tuple[str, ...] = ()) -> Turn:
    """The ticket as a conversation turn. Only a reply from the agent desk (tickets.agent-replies, which carries
    `agent_reply`) is the agent's: anything on tickets.inbound is the customer's, whatever its metadata says."""
    t = env.ticket
    role = "agent" if env.HasField("agent_reply") else "customer"
    text = t.body if not t.subject or t.body.startswith(t.subject) else f"{t.subject}\n{t.body}"
    entities = [(e.type, e.value) for e in env.classification.entities]
    if t.customer.email:
        entities.append(("email", t.customer.email))
    if t.customer.name:
        entities.append(("name", t.customer.name))
    if t.customer.zip:
        entities.append(("zip", t.customer.zip))
    speaker = speaker_of(env) if role == "customer" else ""
    return Turn(role, text, t.ticket_id, _received_ms(env), extract_facts(text, entities, products), speaker)


def speaker_of(env: Envelope) -> str:
    """The identity the ticket authenticates as, the way the retriever verifies it: the ticket's customer fields
    first, else the e-mail, name and zip the classifier found in the text."""
    c, found = env.ticket.customer, {}
    for e in env.classification.entities:
        found.setdefault(e.type, e.value)
    return customer_key(c.email or found.get("email", ""), c.name or found.get("name", ""),
                        c.zip or found.get("zip", ""))


def _received_ms(env: Envelope) -> int:
    if env.received_unix_ms:
        return env.received_unix_ms
    try:
        return int(datetime.fromisoformat(env.ticket.received_at.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return int(time.time() * 1000)


class CompressorHandler:
    """Fills env.context. Store calls run in a thread so a slow disk never blocks other conversations.

    With a configured model, the earlier turns' summary is abstractive when the model's summary keeps
    every key fact verbatim and fits the summary's share of the budget; otherwise the extractive one
    stands and the hop says why.
    """

    def __init__(self, store: ConversationStore, tokenizer: Tokenizer, budget: int, recent_turns: int = 2, *,
                 products: tuple[str, ...] = (), summarizer: Summarizer | None = None,
                 model_budget_share: float = 0.3) -> None:
        self._store = store
        self._tokenizer = tokenizer
        self._budget = budget
        self._recent = recent_turns
        self._products = products
        self._summarizer = summarizer if summarizer is not None and summarizer.configured else None
        self._share = model_budget_share

    async def __call__(self, env: Envelope, hop: HopRecord) -> Forward | Escalate:
        conversation = env.ticket.conversation_id or env.ticket.ticket_id
        turn = ticket_turn(env, self._products)
        owner = await asyncio.to_thread(self._store.owner, conversation)
        if turn.speaker and owner and turn.speaker != owner:
            # Another customer's conversation (a reused or guessed conversation id): its turns, facts and any
            # proposal waiting for a "yes" belong to the customer who opened it, so this ticket sees none of
            # them and is not recorded there; a person looks at it (it may be an attempt on that account).
            hop.labels["compressor.identity"] = "not_the_conversation_owner"
            return Escalate(env, handoff.escalation(
                env, IDENTITY_MISMATCH, "the ticket names another customer than the one who opened this "
                "conversation; it was not added to the conversation", MISMATCH_MESSAGE, stage="context-compressor"))
        added = await asyncio.to_thread(self._store.append_turn, conversation, turn)
        turns = await asyncio.to_thread(self._store.turns_until, conversation, turn.ticket_id)
        result = compress(turns, self._tokenizer, self._budget, self._recent)
        hop.engine = "local"
        if self._summarizer is not None and result.summary:
            await self._abstractive(env, hop, turns, result)
        await asyncio.to_thread(self._store.save_state, conversation, result.summary, result.facts)

        ctx = env.context
        ctx.Clear()
        ctx.summary = result.summary
        ctx.facts.update(result.facts)
        ctx.recent_turns.extend(
            TurnMsg(role=t.role, text=t.text, ticket_id=t.ticket_id, at_unix_ms=t.at_unix_ms)
            for t in result.recent_turns)
        ctx.log_lines.extend(result.log_lines)
        ctx.token_count, ctx.original_token_count = result.token_count, result.original_token_count
        self._answer_to_proposal(env, hop, turn, len(turns))
        ctx.turn_count = result.turn_count
        hop.tokens_in = result.original_token_count
        hop.tokens_out = result.token_count
        hop.labels["compressor.turns"] = str(result.turn_count)
        hop.labels["compressor.redelivered"] = str(not added).lower()
        hop.labels["compressor.log_lines"] = str(len(result.log_lines))
        return Forward(env)

    @staticmethod
    def _answer_to_proposal(env: Envelope, hop: HopRecord, turn: Turn, turn_count: int) -> None:
        """A customer's short yes or no later in a conversation may answer a proposal waiting for it: say so
        in the context and make sure the analyst, which keeps the proposals, sees the turn. The classifier
        routes "yes" as out of scope (it is no intent on its own), so without this it would skip the analyst."""
        reply = read_reply(turn.text) if turn.role == "customer" and turn_count > 1 else ""
        if not reply:
            return
        env.context.facts[CONFIRMATION_FACT] = reply
        hop.labels["compressor.confirmation"] = reply
        slip = list(env.routing_slip)
        if ANALYST not in slip and FINAL_STAGE in slip:
            slip.insert(slip.index(FINAL_STAGE), ANALYST)
            del env.routing_slip[:]
            env.routing_slip.extend(slip)
            hop.labels["compressor.routed_to"] = ANALYST

    async def _abstractive(self, env: Envelope, hop: HopRecord, turns: list[Turn], result: Compressed) -> None:
        """Replace the extractive summary by the model's when it passes the facts check; record why not."""
        earlier = turns[:-self._recent]
        customer, agent = key_facts(earlier)
        must_keep = dict(customer)
        if actions := merge_facts(customer, agent).get("actions_taken"):
            must_keep["actions_taken"] = actions
        count = self._tokenizer.count
        extractive_cost = sum(count(line) for line in result.summary.splitlines())
        room = self._budget - (result.token_count - extractive_cost)
        summary = await self._summarizer.summarize(
            earlier, result.summary, must_keep, room, remaining_seconds(env) * self._share,
            env.ticket.ticket_id, env.ticket.conversation_id)
        hop.labels["compressor.summary_engine"] = summary.engine
        if summary.engine != "local":
            result.summary = summary.text
            result.token_count += count(summary.text) - extractive_cost
            hop.engine = summary.engine
        else:
            hop.labels["compressor.summary_fallback"] = summary.fallback_reason
            env.degradations.append(f"context-compressor: extractive summary ({summary.fallback_reason}: "
                                    f"{summary.fallback_detail[:200]})")
