"""The abstractive summary path of the handler: used when it keeps every key fact, else the extractive one."""

import pytest
from context_compressor.adapters.store import SqliteConversationStore
from context_compressor.adapters.summarizer import ModelSummarizer
from context_compressor.adapters.tokenizer import BpeTokenizer
from context_compressor.handlers import CompressorHandler
from supportmesh.v1.envelope_pb2 import Envelope
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh.v1.ticket_pb2 import Ticket
from supportmesh_llm import ModelClient, ModelConfig, ModelResult

pytestmark = pytest.mark.unit

TURNS = [("customer", "Hi, I'm writing about order #W2378156. The keyboard arrived broken and I paid $89.99 for it."),
         ("agent", "Sorry to hear that. Let me check the order details for you."),
         ("customer", "I already contacted the carrier but they said it left the warehouse damaged."),
         ("agent", "Thanks, I see the order now."),
         ("customer", "Can you refund it?")]


class ScriptedModelClient:
    """Stands in for ModelClient: answers `text`, applying the caller's check the way the real client does."""

    configured = True

    def __init__(self, text: str) -> None:
        self.text = text
        self.requests: list[list[dict]] = []

    async def chat(self, purpose, messages, *, local, budget_s, check, max_tokens, ticket_id, conversation_id):
        self.requests.append(messages)
        if why := check(self.text):
            return ModelResult(local(), "local", fallback_reason="rejected", fallback_detail=why)
        return ModelResult(self.text, "openai", "gpt-4o-mini", tokens_in=100, tokens_out=30)


async def play(tmp_path, summarizer) -> tuple[Envelope, HopRecord]:
    store = SqliteConversationStore(tmp_path / "c.db")
    tokenizer = BpeTokenizer()
    handler = CompressorHandler(store, tokenizer, 512, 2, summarizer=summarizer)
    for n, (role, text) in enumerate(TURNS):
        env = Envelope(ticket=Ticket(ticket_id=f"T-{n}", conversation_id="C-1", body=text),
                       deadline_unix_ms=4_102_444_800_000)
        if role == "agent":
            env.agent_reply.agent_id = "agent-7"
        hop = HopRecord()
        result = await handler(env, hop)
    store.close()
    return result.envelope, hop


async def test_a_summary_keeping_every_fact_replaces_the_extractive_one(tmp_path):
    text = ("The customer reports order #W2378156: the keyboard arrived broken, $89.99 paid; "
            "they contacted the carrier already.")
    client = ScriptedModelClient(text)
    env, hop = await play(tmp_path, ModelSummarizer(client, BpeTokenizer()))
    ctx = env.context
    assert ctx.summary == text and hop.engine == "openai"
    assert hop.labels["compressor.summary_engine"] == "openai" and not env.degradations
    assert ctx.token_count <= 512 and ctx.token_count == hop.tokens_out
    assert "summarize the conversation keeping every key fact verbatim" in client.requests[-1][0]["content"].lower()
    assert "#W2378156" in client.requests[-1][1]["content"]


async def test_a_summary_missing_a_fact_falls_back_to_extractive_and_says_why(tmp_path):
    client = ScriptedModelClient("The customer's keyboard arrived broken and they want a refund.")
    env, hop = await play(tmp_path, ModelSummarizer(client, BpeTokenizer()))
    assert env.context.summary.startswith("Customer: Hi, I'm writing about order #W2378156.")
    assert hop.engine == "local" and hop.labels["compressor.summary_fallback"] == "rejected"
    [degradation] = env.degradations
    assert "order_ids=#W2378156" in degradation and "amounts=$89.99" in degradation


async def test_without_a_model_the_extractive_summary_is_used_quietly(tmp_path):
    client = ModelClient(ModelConfig(), service="context-compressor")
    env, hop = await play(tmp_path, ModelSummarizer(client, BpeTokenizer()))
    assert env.context.summary.startswith("Customer: Hi, I'm writing about order #W2378156.")
    assert hop.engine == "local" and "compressor.summary_engine" not in hop.labels and not env.degradations
