"""Unit tests of the analyst handler: envelopes in, Analysis and outcomes out."""

import time

import pytest
from supportmesh.v1.envelope_pb2 import Article, Entity, Envelope, OrderFacts
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh_core.stage import Escalate, Forward
from technical_analyst.domain.execution import ExecutionResult
from technical_analyst.domain.order_rules import idempotency_key
from technical_analyst.handlers import AnalystHandler

pytestmark = pytest.mark.unit


class FakeCommerce:
    """Answers every write with a fixed result and records what was asked."""

    def __init__(self, result: ExecutionResult | None = None) -> None:
        self.result = result or ExecutionResult("done", "Order #W2378156 has been cancelled (reason: no longer "
                                                        "needed). The refund of $80.00 goes back to gift card g1 "
                                                        "(immediately).")
        self.calls: list[tuple] = []

    async def execute(self, execution, customer_id, ticket_id, timeout_s):
        self.calls.append((execution, customer_id, ticket_id, timeout_s))
        return self.result


def handler(limit: float = 500.0, commerce: FakeCommerce | None = None) -> AnalystHandler:
    return AnalystHandler(limit, commerce or FakeCommerce())


def envelope(intent: str, category: str = "ORDER", verified: bool = True, **kw) -> Envelope:
    env = Envelope()
    env.ticket.ticket_id, env.ticket.conversation_id = "T-9", "C-9"
    env.ticket.subject, env.ticket.body = "Help", kw.get("body", "Please help with order #W2378156")
    env.deadline_unix_ms = int(time.time() * 1000) + 3000
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


async def test_cancel_of_a_pending_order_is_executed_with_key_and_deadline():
    hop, commerce = HopRecord(), FakeCommerce()
    result = await handler(commerce=commerce)(envelope("cancel_order", orders=[ORDER]), hop)
    assert isinstance(result, Forward)
    (execution, customer, ticket, timeout), = commerce.calls
    assert (execution.action, execution.order_id, execution.reason) == (
        "cancel_pending_order", "#W2378156", "no longer needed")
    assert execution.idempotency_key == idempotency_key("T-9", "cancel_pending_order")
    assert (customer, ticket) == ("yusuf_rossi_9620", "T-9") and 0 < timeout <= 3.0
    a = result.envelope.analysis
    assert a.policy_decision == "allowed" and a.policy_code == "cancel_pending_order_done"
    assert [(x.name, x.status) for x in a.actions] == [("cancel_pending_order", "done")]
    assert "has been cancelled" in a.actions[0].detail
    assert hop.labels["action"] == "cancel_pending_order:done" and hop.labels["order_id"] == "#W2378156"
    assert hop.engine == "rules" and hop.intent == "cancel_order"


@pytest.mark.parametrize("body", [
    "Is #W2378156 shipped? If it has not been shipped yet, cancel it.",
    "Cancel order #W2378156 only if the refund goes to my gift card.",
    "Please cancel #W2378156 unless it already left the warehouse.",
    "Cancel #W2378156 as long as I get the money back today.",
])
async def test_a_conditional_cancel_is_proposed_not_executed(body):
    commerce = FakeCommerce()
    result = await handler(commerce=commerce)(envelope("cancel_order", orders=[ORDER], body=body), HopRecord())
    assert isinstance(result, Forward) and commerce.calls == []
    a = result.envelope.analysis
    assert a.policy_decision == "allowed" and a.policy_code == "cancel_pending"
    assert [(x.name, x.status) for x in a.actions] == [("cancel_pending_order", "proposed")]


async def test_an_unnamed_order_is_told_by_the_items_in_the_ticket():
    other = OrderFacts(order_id="#W1111111", status="pending", total=30.0, user_id="yusuf_rossi_9620",
                       item_names=["Yoga Mat"])
    commerce = FakeCommerce()
    env = envelope("cancel_order", orders=[other, ORDER], body="Please cancel the desk lamp, I no longer need it.")
    hop = HopRecord()
    await handler(commerce=commerce)(env, hop)
    assert [c[0].order_id for c in commerce.calls] == ["#W2378156"]
    assert hop.labels["order_identified_by"] == "items"


async def test_cancel_reason_is_ordered_by_mistake_when_the_customer_says_so():
    commerce = FakeCommerce()
    env = envelope("cancel_order", orders=[ORDER], body="I ordered #W2378156 by mistake, please cancel it")
    await handler(commerce=commerce)(env, HopRecord())
    assert commerce.calls[0][0].reason == "ordered by mistake"


async def test_cancel_refused_by_the_store_forwards_its_reason():
    commerce = FakeCommerce(ExecutionResult("refused", "Order #W2378156 is processed, and only pending orders "
                                                       "can be cancelled (policy: Cancel pending order)."))
    result = await handler(commerce=commerce)(envelope("cancel_order", orders=[ORDER]), HopRecord())
    assert isinstance(result, Forward)
    a = result.envelope.analysis
    assert (a.policy_decision, a.policy_code) == ("refused", "cancel_pending_order_refused")
    assert "only pending orders" in a.policy_reason
    assert [(x.name, x.status) for x in a.actions] == [("cancel_pending_order", "refused")]


async def test_a_failed_write_escalates_without_claiming_anything():
    commerce = FakeCommerce(ExecutionResult("failed", "UNAVAILABLE"))
    result = await handler(commerce=commerce)(envelope("cancel_order", orders=[ORDER]), HopRecord())
    assert isinstance(result, Escalate) and result.escalation.reason == "action_failed"
    assert "cancelled" not in result.escalation.customer_message
    assert [a.status for a in result.escalation.actions] == ["failed"]


async def test_delivered_order_cancel_is_refused_without_calling_commerce():
    commerce = FakeCommerce()
    delivered = OrderFacts(order_id="#W2378156", status="delivered", total=80.0, user_id="yusuf_rossi_9620")
    result = await handler(commerce=commerce)(envelope("cancel_order", orders=[delivered]), HopRecord())
    assert commerce.calls == [] and result.envelope.analysis.policy_code == "cancel_not_pending"


async def test_refund_above_limit_goes_to_commerce_and_escalates_with_its_case():
    big = OrderFacts(order_id="#W7", status="delivered", total=812.4, user_id="yusuf_rossi_9620",
                     item_names=["Office Chair"], tracking_ids=["843053632392"])
    commerce = FakeCommerce(ExecutionResult("needs_approval", "A refund of $812.40 ... case CASE-1 asks ...",
                                            "CASE-1"))
    result = await handler(commerce=commerce)(envelope("get_refund", "REFUND", orders=[big]), HopRecord())
    assert isinstance(result, Escalate)
    (execution, *_), = commerce.calls
    assert (execution.action, execution.amount) == ("issue_refund", 812.4)
    esc = result.escalation
    assert esc.reason == "refund_above_limit" and esc.case_id == "CASE-1"
    assert "Yusuf Rossi" in esc.summary and "#W7" in esc.summary and "812.40" in esc.summary
    assert "CASE-1" in esc.customer_message and "No refund has been made" in esc.customer_message
    assert [(a.name, a.status) for a in esc.actions] == [("issue_refund", "refused")]
    assert result.envelope.analysis.policy_decision == "needs_human"


async def test_refund_within_the_limit_asks_the_customer_and_writes_nothing():
    commerce = FakeCommerce()
    big = OrderFacts(order_id="#W7", status="delivered", total=812.4, user_id="yusuf_rossi_9620")
    result = await handler(1000.0, commerce)(envelope("get_refund", "REFUND", orders=[big]), HopRecord())
    assert isinstance(result, Forward) and result.envelope.analysis.policy_decision == "allowed"
    assert commerce.calls == []
    assert [a.status for a in result.envelope.analysis.actions] == ["proposed"]


async def test_unverified_customer_forwards_identity_refusal():
    result = await handler()(envelope("track_order", verified=False), HopRecord())
    assert isinstance(result, Forward)
    assert result.envelope.analysis.policy_code == "identity_not_verified"


async def test_technical_ticket_gets_diagnosis_and_steps():
    art = Article(id="kb-42", title="Outlook prompts for password", steps=["Clear cached credentials",
                                                                           "Restart Outlook"])
    env = envelope("technical_support", "TECHNICAL", articles=[art], entities=[("error_code", "0x800CCC0E")],
                   logs=["sync error AADSTS50126"])
    hop = HopRecord()
    result = await handler()(env, hop)
    assert isinstance(result, Forward)
    a = result.envelope.analysis
    assert list(a.steps) == ["Clear cached credentials", "Restart Outlook"]
    assert "0x800CCC0E" in a.diagnosis and "AADSTS50126" in a.diagnosis and "Outlook prompts" in a.diagnosis
    assert hop.labels["article"] == "kb-42"


async def test_technical_ticket_without_articles_escalates_no_grounding():
    result = await handler()(envelope("technical_support", "TECHNICAL"), HopRecord())
    assert isinstance(result, Escalate) and result.escalation.reason == "no_grounding"
    assert result.escalation.customer_message


async def test_a_technical_looking_ticket_about_a_named_order_gets_the_policy_not_a_diagnosis():
    art = Article(id="kb-42", title="Outlook prompts for password", steps=["Clear cached credentials"])
    env = envelope("technical_support", "TECHNICAL", articles=[art], orders=[ORDER],
                   entities=[("order_id", "#W2378156")], body="How much did I pay for order #W2378156?")
    result = await handler()(env, HopRecord())
    assert isinstance(result, Forward)
    a = result.envelope.analysis
    assert a.policy_code == "informational" and not a.steps and not a.diagnosis
