"""Unit tests of the generator handler and its settings."""

import pytest
from pydantic import ValidationError
from response_generator.config import Settings
from response_generator.handlers import GeneratorHandler
from supportmesh.v1.envelope_pb2 import Action, Envelope, OrderFacts
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh_core.stage import Escalate, Respond

pytestmark = pytest.mark.unit


def envelope(confidence: float = 0.9) -> Envelope:
    env = Envelope()
    env.ticket.ticket_id, env.ticket.conversation_id, env.ticket.body = "T-5", "C-5", "cancel #W9 please"
    env.classification.intent, env.classification.confidence = "cancel_order", confidence
    env.retrieval.customer_id, env.retrieval.customer_name = "u_1", "Ada Lovelace"
    env.retrieval.orders.append(OrderFacts(order_id="#W9", status="pending", total=10.0, user_id="u_1"))
    a = env.analysis
    a.policy_decision, a.policy_code = "allowed", "cancel_pending"
    a.policy_reason = "Order #W9 is pending, so it can be cancelled (policy: Cancel pending order)."
    a.actions.append(Action(name="cancel_pending_order", status="proposed", detail="cancel order #W9",
                            idempotency_key="a" * 32))
    return env


async def test_respond_copies_actions_and_sets_engine():
    hop = HopRecord()
    result = await GeneratorHandler(0.6, 10)(envelope(), hop)
    assert isinstance(result, Respond)
    resp = result.response
    assert resp.engine == "local" and resp.reply.text.startswith("Hi Ada,")
    assert list(resp.reply.citations) == ["order:#W9"]
    assert [(a.name, a.status, a.idempotency_key) for a in resp.actions] == [
        ("cancel_pending_order", "proposed", "a" * 32)]
    assert hop.labels["outcome"] == "respond" and hop.engine == "local" and hop.intent == "cancel_order"


async def test_escalate_carries_reason_summary_and_actions():
    hop = HopRecord()
    result = await GeneratorHandler(0.6, 10)(envelope(confidence=0.2), hop)
    assert isinstance(result, Escalate)
    esc = result.escalation
    assert esc.reason == "low_confidence" and "Ada Lovelace" in esc.summary and esc.customer_message
    assert [a.name for a in esc.actions] == ["cancel_pending_order"]
    assert hop.labels["outcome"] == "escalate"


def test_settings_defaults_and_fail_fast(monkeypatch):
    monkeypatch.delenv("GENERATOR_MIN_CONFIDENCE", raising=False)
    assert Settings().min_confidence == 0.6 and Settings().http_port == 8105
    monkeypatch.setenv("GENERATOR_MIN_CONFIDENCE", "1.5")
    with pytest.raises(ValidationError):
        Settings()
