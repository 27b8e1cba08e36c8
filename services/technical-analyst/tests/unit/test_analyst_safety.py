"""Money and safety first: a marked ticket gets a case with the evidence and a person, never a policy answer."""

import time

import pytest
from supportmesh.v1.envelope_pb2 import Entity, Envelope, OrderFacts, PaymentLine
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh_core import resolution
from supportmesh_core.stage import Escalate
from technical_analyst.domain.billing import case_request, disputed_order, evidence
from technical_analyst.domain.execution import ExecutionResult
from technical_analyst.domain.order_rules import idempotency_key
from technical_analyst.handlers import AnalystHandler

pytestmark = pytest.mark.unit

RULES = resolution.load().safety
ORDER = OrderFacts(order_id="#W2378156", status="delivered", total=849.34, user_id="yusuf_rossi_9620",
                   item_names=["Laptop"], payments=[PaymentLine(transaction_type="payment", amount=849.34,
                                                                payment_method="Visa credit card ending in 4242")])
OTHER = OrderFacts(order_id="#W1111111", status="pending", total=20.0, user_id="yusuf_rossi_9620",
                   payments=[PaymentLine(transaction_type="payment", amount=20.0, payment_method="PayPal account")])


class CaseCommerce:
    """Opens cases and records them; `fail` answers with a failure instead."""

    def __init__(self, fail: bool = False) -> None:
        self.fail, self.cases = fail, []

    async def open_case(self, case, customer_id, ticket_id, timeout_s):
        self.cases.append((case, customer_id, ticket_id, timeout_s))
        return ExecutionResult("failed", "UNAVAILABLE") if self.fail else \
            ExecutionResult("done", "case CASE-1 opened", "CASE-1")


def envelope(flags, body="I was charged $849.34 twice for order #W2378156", orders=(ORDER, OTHER),
             entities=(("order_id", "#W2378156"), ("amount", "$849.34")), verified=True) -> Envelope:
    env = Envelope()
    env.ticket.ticket_id, env.ticket.subject, env.ticket.body = "T-7", "Charge", body
    env.deadline_unix_ms = int(time.time() * 1000) + 3000
    env.classification.intent, env.classification.confidence = "payment_issue", 0.8
    env.classification.flags.extend(flags)
    env.classification.entities.extend(Entity(type=t, value=v) for t, v in entities)
    if verified:
        env.retrieval.customer_id, env.retrieval.customer_name = "yusuf_rossi_9620", "Yusuf Rossi"
        env.retrieval.orders.extend(orders)
    return env


async def test_a_duplicate_charge_opens_a_case_with_the_payment_history_and_hands_over():
    commerce = CaseCommerce()
    hop = HopRecord()
    result = await AnalystHandler(500.0, commerce)(envelope(["duplicate_charge"]), hop)
    assert isinstance(result, Escalate)
    esc = result.escalation
    assert (esc.reason, esc.priority, esc.case_id) == ("duplicate_charge", "high", "CASE-1")
    (case, customer_id, ticket_id, timeout_s), = commerce.cases
    assert (case.reason, case.order_id, customer_id, ticket_id) == ("duplicate_charge", "#W2378156",
                                                                    "yusuf_rossi_9620", "T-7")
    assert case.idempotency_key == idempotency_key("T-7", "open_case") and 0 < timeout_s <= 3
    assert "payment $849.34 (Visa credit card ending in 4242)" in case.summary
    assert "1 payment(s) for this order" in case.summary and "$849.34" in esc.summary
    assert "CASE-1" in esc.customer_message and "policy" not in esc.customer_message.lower()
    assert hop.labels["case_id"] == "CASE-1"


@pytest.mark.parametrize("flag", ["legal", "fraud", "chargeback", "unexpected_charge"])
async def test_each_money_or_legal_marker_opens_a_case_with_its_own_reason(flag):
    commerce = CaseCommerce()
    result = await AnalystHandler(500.0, commerce)(envelope([flag, "angry"]), HopRecord())
    assert result.escalation.reason == flag and commerce.cases[0][0].reason == flag
    assert result.escalation.customer_message.startswith(RULES[flag].told)


async def test_a_threat_that_reached_the_analyst_is_handed_over_without_a_case_or_policy_text():
    commerce = CaseCommerce()
    result = await AnalystHandler(500.0, commerce)(envelope(["threat", "legal"]), HopRecord())
    assert result.escalation.reason == "threat" and not commerce.cases
    assert result.escalation.customer_message == RULES["threat"].told


async def test_a_case_commerce_cannot_open_is_said_in_the_handoff_and_not_promised():
    result = await AnalystHandler(500.0, CaseCommerce(fail=True))(envelope(["duplicate_charge"]), HopRecord())
    esc = result.escalation
    assert esc.case_id == "" and "no case could be opened" in esc.summary
    assert "case number" not in esc.customer_message


def test_the_disputed_order_is_named_or_found_by_the_amount_quoted():
    assert disputed_order(envelope(["fraud"])).order_id == "#W2378156"
    by_amount = envelope(["duplicate_charge"], body="charged twice $20.00", entities=(("amount", "$20.00"),))
    assert disputed_order(by_amount).order_id == "#W1111111"
    assert disputed_order(envelope(["fraud"], body="odd charge", entities=())) is None
    assert disputed_order(envelope(["fraud"], body="odd charge", entities=(), orders=(OTHER,))).order_id == "#W1111111"


def test_an_unverified_customer_gets_a_case_without_order_facts():
    env = envelope(["unexpected_charge"], verified=False)
    lines = evidence(env, RULES["unexpected_charge"])
    assert any("not verified" in x for x in lines)
    assert case_request(env, RULES["unexpected_charge"]).order_id == ""
