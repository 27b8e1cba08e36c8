"""The stage handler with a real SQLite store in a temp dir: context filled, redelivery not duplicated."""

import pytest
from context_compressor.adapters.store import SqliteConversationStore
from context_compressor.adapters.tokenizer import BpeTokenizer
from context_compressor.handlers import CompressorHandler
from supportmesh.v1.envelope_pb2 import Entity, Envelope
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh.v1.ticket_pb2 import Customer, Ticket
from supportmesh_core.stage import Forward

pytestmark = pytest.mark.unit


def envelope(ticket_id: str, body: str, subject: str = "", role: str = "") -> Envelope:
    env = Envelope(ticket=Ticket(ticket_id=ticket_id, conversation_id="C-77", subject=subject, body=body,
                                 customer=Customer(email="yusuf.rossi7301@example.com", name="Yusuf Rossi")),
                   received_unix_ms=1_700_000_000_000)
    if role:
        env.ticket.metadata["author_role"] = role
    env.classification.entities.append(Entity(type="product", value="Water Bottle"))
    return env


async def test_handler_builds_context_and_ignores_redelivery(tmp_path):
    store = SqliteConversationStore(tmp_path / "c.db")
    handler = CompressorHandler(store, BpeTokenizer(), budget=512)
    await handler(envelope("T-1", "Order #W2378156 has not arrived.", subject="Late order"), HopRecord())
    await handler(envelope("T-2", "We have asked the carrier.", role="agent"), HopRecord())
    hop = HopRecord()
    result = await handler(envelope("T-3", "Thanks, any update? Zip code 19122."), hop)
    assert isinstance(result, Forward)
    ctx = result.envelope.context
    assert ctx.turn_count == 3
    assert [t.ticket_id for t in ctx.recent_turns] == ["T-2", "T-3"]
    assert [t.role for t in ctx.recent_turns] == ["agent", "customer"]
    assert ctx.summary == "Customer: Late order\nCustomer: Order #W2378156 has not arrived."
    assert ctx.facts["order_ids"] == "#W2378156" and ctx.facts["zip"] == "19122"
    assert ctx.facts["emails"] == "yusuf.rossi7301@example.com" and ctx.facts["products"] == "Water Bottle"
    assert 0 < ctx.token_count <= 512 and hop.tokens_out == ctx.token_count
    assert hop.labels["compressor.redelivered"] == "false"

    again_hop = HopRecord()
    again = await handler(envelope("T-2", "We have asked the carrier.", role="agent"), again_hop)
    assert again.envelope.context.turn_count == 2
    assert again_hop.labels["compressor.redelivered"] == "true"
    assert len(store.turns_until("C-77", "T-3")) == 3
    assert store.state("C-77")[1]["order_ids"] == "#W2378156"
    store.close()
