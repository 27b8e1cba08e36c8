"""Fidelity of the compressed context: the share of gold key facts it keeps, and the compression ratio.

Each conversation is played turn by turn through the real stage handler (SQLite store in a temp dir,
the real BPE tokenizer, the configured budget); what is measured is the context it hands downstream
for the last turn, rendered the way a downstream prompt carries it.
"""

import asyncio
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from supportmesh.v1.envelope_pb2 import CompressedContext, Envelope
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh.v1.ticket_pb2 import Ticket

from .adapters.catalog import product_names
from .adapters.store import SqliteConversationStore
from .adapters.tokenizer import BpeTokenizer
from .config import Settings
from .handlers import CompressorHandler


class Conversation(Protocol):
    """A conversation with its gold key facts (supportmesh_eval.compressor_conversations writes them)."""

    id: str
    family: str
    turns: list[tuple[str, str]]   # (role, text), oldest first

    def gold_facts(self) -> list[tuple[str, str]]: ...


def render(ctx: CompressedContext) -> str:
    """The context as a downstream prompt carries it."""
    parts = [f"{kind}: {values}" for kind, values in ctx.facts.items()]
    if ctx.summary:
        parts.append(ctx.summary)
    parts += list(ctx.log_lines)
    parts += [f"{t.role}: {t.text}" for t in ctx.recent_turns]
    return "\n".join(parts)


@dataclass
class Measured:
    id: str
    family: str
    turns: int
    original_tokens: int
    context_tokens: int
    gold: int
    kept: int
    missing: list[str]

    @property
    def ratio(self) -> float:
        return self.original_tokens / max(1, self.context_tokens)


async def measure(conversation: Conversation, handler: CompressorHandler, tokenizer: BpeTokenizer) -> Measured:
    ctx = None
    for n, (role, text) in enumerate(conversation.turns):
        env = Envelope(ticket=Ticket(ticket_id=f"{conversation.id}-{n}", conversation_id=conversation.id, body=text),
                       received_unix_ms=1_700_000_000_000 + n * 60_000)
        if role == "agent":
            env.agent_reply.agent_id = "agent-eval"   # an agent desk's reply, as tickets.agent-replies carries it
        result = await handler(env, HopRecord())
        ctx = result.envelope.context
    text = render(ctx).lower()
    missing = [f"{kind}={value}" for kind, value in conversation.gold_facts() if value.lower() not in text]
    original = sum(tokenizer.count(f"{role}: {t}") for role, t in conversation.turns)
    gold = len(conversation.gold_facts())
    return Measured(conversation.id, conversation.family, len(conversation.turns), original,
                    tokenizer.count(render(ctx)), gold, gold - len(missing), missing)


async def evaluate(conversations: list[Conversation], budget: int = 512, recent: int = 2,
                   summarizer=None) -> list[Measured]:
    tokenizer = BpeTokenizer()
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteConversationStore(Path(tmp) / "eval.db")
        try:
            handler = CompressorHandler(store, tokenizer, budget, recent,
                                        products=product_names(Settings().catalog_path), summarizer=summarizer)
            return [await measure(c, handler, tokenizer) for c in conversations]
        finally:
            store.close()


def summarize(results: list[Measured]) -> dict:
    """Per family and overall: facts retained (micro), compression (original / context tokens)."""
    def block(rows: list[Measured]) -> dict:
        gold, kept = sum(r.gold for r in rows), sum(r.kept for r in rows)
        ratios = [r.ratio for r in rows]
        return {"conversations": len(rows), "turns_mean": round(statistics.mean(r.turns for r in rows), 1),
                "original_tokens_mean": round(statistics.mean(r.original_tokens for r in rows)),
                "context_tokens_mean": round(statistics.mean(r.context_tokens for r in rows)),
                "gold_facts": gold, "facts_retained": round(kept / gold, 4) if gold else 1.0,
                "compression_overall": round(sum(r.original_tokens for r in rows)
                                             / max(1, sum(r.context_tokens for r in rows)), 2),
                "compression_median": round(statistics.median(ratios), 2),
                "compression_min": round(min(ratios), 2)}

    families = sorted({r.family for r in results})
    out = {"all": block(results), **{f: block([r for r in results if r.family == f]) for f in families}}
    out["missing"] = {r.id: r.missing for r in results if r.missing}
    return out


def run(conversations: list[Conversation], budget: int = 512) -> dict:
    return summarize(asyncio.run(evaluate(conversations, budget)))
