"""An agent's reply re-entering its conversation: checked against the real SQLite store, recorded once, and seen by
the next customer turn's context; refused replies become dead letters with the reason (through the real Stage)."""

import json

import pytest
from aiokafka import ConsumerRecord
from context_compressor.adapters.store import SqliteConversationStore
from context_compressor.adapters.tokenizer import BpeTokenizer
from context_compressor.handback import AgentReplyDecoder, HandbackHandler
from context_compressor.handlers import CompressorHandler
from supportmesh.v1.envelope_pb2 import Envelope
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh.v1.ticket_pb2 import Customer, Ticket
from supportmesh_core import topics
from supportmesh_core.codec import BadMessage
from supportmesh_core.settings import ServiceSettings
from supportmesh_core.stage import Forward, Stage

pytestmark = pytest.mark.unit

REPLY = {"reply_id": "AR-1", "ticket_id": "T-1", "conversation_id": "C-77", "agent_id": "agent:alice",
         "text": "I approved your refund of $700.00; it is on its way to your card.",
         "approved_actions": [{"case_id": "CASE-1", "action": "issue_refund"}]}


def _record(reply: dict, key: bytes = b"C-77", offset: int = 0) -> ConsumerRecord:
    return ConsumerRecord(topic=topics.AGENT_REPLIES, partition=0, offset=offset, timestamp=0, timestamp_type=0,
                          key=key, value=json.dumps(reply).encode(), checksum=None, serialized_key_size=0,
                          serialized_value_size=0, headers=[("content-type", b"application/json")])


def _customer_ticket(ticket_id: str, body: str) -> Envelope:
    return Envelope(ticket=Ticket(ticket_id=ticket_id, conversation_id="C-77", body=body,
                                  customer=Customer(email="yusuf.rossi7301@example.com")),
                    received_unix_ms=1_700_000_000_000)


@pytest.fixture
async def store(tmp_path):
    store = SqliteConversationStore(tmp_path / "c.db")
    compressor = CompressorHandler(store, BpeTokenizer(), budget=512)
    await compressor(_customer_ticket("T-1", "Please refund $700 for order #W2378156, it arrived broken."),
                     HopRecord())
    yield store
    store.close()


async def test_a_reply_is_recorded_once_and_the_next_turn_sees_it(store):
    decode = AgentReplyDecoder(store, budget_ms=5000, clock=lambda: 1_700_000_100.0)
    env = decode(_record(REPLY))
    assert (env.ticket.ticket_id, env.ticket.conversation_id, list(env.routing_slip)) == ("AR-1", "C-77",
                                                                                          ["technical-analyst"])
    assert env.agent_reply.approved_actions[0].case_id == "CASE-1"
    assert env.deadline_unix_ms - env.received_unix_ms == 5000
    handler = HandbackHandler(store)
    hop = HopRecord()
    assert isinstance(await handler(env, hop), Forward)
    assert hop.labels["handback.in_reply_to"] == "T-1" and hop.labels["compressor.redelivered"] == "false"
    again = HopRecord()
    await handler(decode(_record(REPLY)), again)   # a redelivery
    assert again.labels["compressor.redelivered"] == "true"
    turns = store.turns_until("C-77", "AR-1")
    assert [(t.role, t.ticket_id) for t in turns] == [("customer", "T-1"), ("agent", "AR-1")]

    follow_up = _customer_ticket("T-2", "Has my refund gone through?")
    await CompressorHandler(store, BpeTokenizer(), budget=512)(follow_up, HopRecord())
    recent = [(t.role, t.text) for t in follow_up.context.recent_turns]
    assert ("agent", REPLY["text"]) in recent and recent[-1] == ("customer", "Has my refund gone through?")


@pytest.mark.parametrize(("change", "reason"), [
    ({"ticket_id": "T-404"}, "unknown ticket T-404"),
    ({"conversation_id": "C-other"}, "belongs to another conversation"),
    ({"text": ""}, "text is empty"),
])
async def test_unknown_or_malformed_replies_are_refused(store, change, reason):
    reply = {**REPLY, **change}
    with pytest.raises(BadMessage, match=reason):
        AgentReplyDecoder(store, 5000)(_record(reply, key=reply["conversation_id"].encode()))


async def test_a_reply_to_a_reply_is_refused(store):
    decode = AgentReplyDecoder(store, 5000)
    await HandbackHandler(store)(decode(_record(REPLY)), HopRecord())
    with pytest.raises(BadMessage, match="not a customer's ticket"):
        decode(_record({**REPLY, "reply_id": "AR-2", "ticket_id": "AR-1"}))


async def test_the_stage_dead_letters_a_refused_reply_with_its_reason_and_records_nothing(store):
    settings = ServiceSettings(OTEL_SERVICE_NAME="context-compressor", CHAOS_ENABLED=False)
    stage = Stage(settings, HandbackHandler(store), decoder=AgentReplyDecoder(store, 5000))
    out = await stage.handle_record(_record({**REPLY, "ticket_id": "T-404"}, offset=7))
    (dead,) = [o for o in out if o.topic == topics.DLQ]
    record = json.loads(dead.value)
    assert "unknown ticket T-404" in record["error"]
    assert (record["source"]["topic"], record["source"]["offset"]) == (topics.AGENT_REPLIES, 7)
    assert not [o for o in out if o.topic.startswith("stage.")]
    assert [t.ticket_id for t in store.turns_until("C-77", "T-1")] == ["T-1"]
    forwarded = await stage.handle_record(_record(REPLY, offset=8))
    assert [o.topic for o in forwarded if o.topic.startswith("stage.technical")] == ["stage.technical-analyst"]
