"""Unit tests of the analyst handler: envelopes in, Analysis and outcomes out."""

import pytest
from supportmesh.v1.envelope_pb2 import Article, Entity, Envelope, OrderFacts
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh_core.kafka import Escalate, Forward
from technical_analyst.handlers import AnalystHandler

pytestmark = pytest.mark.unit


def envelope(intent: str, category: str = "ORDER", verified: bool = True, **kw) -> Envelope:
    env = Envelope()
    env.ticket.ticket_id, env.ticket.conversation_id = "T-9", "C-9"
    env.ticket.subject, env.ticket.body = "Help", "Please help with order #W2378156"
    env.classification.intent, env.classification.category = intent, category
    env.classification.confidence = 0.9
    if verified:
        env.retrieval.customer_id, env.retrieval.customer_name = "yusuf_rossi_9620", "Yusuf Rossi"
    for o in kw.get("orders", []):
        env.retrieval.orders.append(o)
    for a in kw.get("articles", []):
        env.retrieval.articles.append(a)
    for t, v in kw.get("entities", []):
        env.classification.entities.append(Entity(type=t, value=v))
    env.context.log_lines.extend(kw.get("logs", []))
    return env


ORDER = OrderFacts(order_id="#W2378156", status="pending", total=80.0, user_id="yusuf_rossi_9620",
                   item_names=["Desk Lamp"])


async def test_cancel_pending_forwards_with_proposed_action_and_labels():
    hop = HopRecord()
    result = await AnalystHandler(500.0)(envelope("cancel_order", orders=[ORDER]), hop)
    assert isinstance(result, Forward)
    a = result.envelope.analysis
    assert a.policy_decision == "allowed" and a.policy_code == "cancel_pending"
    assert [(x.name, x.status) for x in a.actions] == [("cancel_pending_order", "proposed")]
    assert hop.labels["decision"] == "allowed" and hop.labels["order_id"] == "#W2378156"
    assert hop.engine == "rules" and hop.intent == "cancel_order"


async def test_refund_above_limit_escalates_with_handoff():
    big = OrderFacts(order_id="#W7", status="delivered", total=812.4, user_id="yusuf_rossi_9620",
                     item_names=["Office Chair"], tracking_ids=["843053632392"])
    result = await AnalystHandler(500.0)(envelope("get_refund", "REFUND", orders=[big]), HopRecord())
    assert isinstance(result, Escalate)
    esc = result.escalation
    assert esc.reason == "refund_above_limit"
    assert "Yusuf Rossi" in esc.summary and "#W7" in esc.summary and "812.40" in esc.summary
    assert "return_delivered_order_items" in esc.summary and "Proposed, not executed" in esc.summary
    assert "approve" in esc.customer_message and "nothing has been changed" in esc.customer_message
    assert [a.status for a in esc.actions] == ["proposed"]
    assert result.envelope.analysis.policy_decision == "needs_human"


async def test_limit_comes_from_configuration():
    big = OrderFacts(order_id="#W7", status="delivered", total=812.4, user_id="yusuf_rossi_9620")
    result = await AnalystHandler(1000.0)(envelope("get_refund", "REFUND", orders=[big]), HopRecord())
    assert isinstance(result, Forward) and result.envelope.analysis.policy_decision == "allowed"


async def test_unverified_customer_forwards_identity_refusal():
    result = await AnalystHandler(500.0)(envelope("track_order", verified=False), HopRecord())
    assert isinstance(result, Forward)
    assert result.envelope.analysis.policy_code == "identity_not_verified"


async def test_technical_ticket_gets_diagnosis_and_steps():
    art = Article(id="kb-42", title="Outlook prompts for password", steps=["Clear cached credentials",
                                                                           "Restart Outlook"])
    env = envelope("technical_support", "TECHNICAL", articles=[art], entities=[("error_code", "0x800CCC0E")],
                   logs=["sync error AADSTS50126"])
    hop = HopRecord()
    result = await AnalystHandler(500.0)(env, hop)
    assert isinstance(result, Forward)
    a = result.envelope.analysis
    assert list(a.steps) == ["Clear cached credentials", "Restart Outlook"]
    assert "0x800CCC0E" in a.diagnosis and "AADSTS50126" in a.diagnosis and "Outlook prompts" in a.diagnosis
    assert hop.labels["article"] == "kb-42"


async def test_technical_ticket_without_articles_escalates_no_grounding():
    result = await AnalystHandler(500.0)(envelope("technical_support", "TECHNICAL"), HopRecord())
    assert isinstance(result, Escalate) and result.escalation.reason == "no_grounding"
    assert result.escalation.customer_message
