"""Proposals waiting for the customer's answer: the answer's effect, the SQLite store, the handler's turn."""

import dataclasses
import time

import pytest
from supportmesh.v1.envelope_pb2 import Envelope, OrderFacts
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh_core.stage import Escalate, Forward
from technical_analyst.adapters.pending import SqlitePendingStore
from technical_analyst.domain import confirmation as confirm
from technical_analyst.domain.execution import ExecutionResult
from technical_analyst.domain.planned_writes import (
    CustomerDetail,
    OrderDetail,
    OrderLine,
    PaymentOption,
    PlannedWrite,
    Variant,
)
from technical_analyst.handlers import AnalystHandler

pytestmark = pytest.mark.unit

WRITE = PlannedWrite("return_delivered_order_items", "#W2378156", "k" * 32, "return Desk Lamp from order #W2378156",
                     item_ids=("1",), payment_method_id="credit_card_1", amount=80.0)


def proposal(**kw) -> confirm.PendingProposal:
    base = dict(conversation_id="C-9", ticket_id="T-9", customer_id="yusuf_rossi_9620", customer_name="Yusuf Rossi",
                writes=(WRITE,), created_ms=1_000, expires_ms=10_000)
    return confirm.PendingProposal(**(base | kw))


def test_an_answer_executes_declines_or_explains():
    p = proposal()
    assert confirm.answer(p, "yes", "T-10", 2_000) == confirm.EXECUTE
    assert confirm.answer(p, "no", "T-10", 2_000) == confirm.DECLINE
    assert confirm.answer(p, "yes", "T-10", 20_000) == confirm.EXPIRED
    assert confirm.answer(None, "yes", "T-10", 2_000) == confirm.NOTHING
    done = dataclasses.replace(p, state=confirm.CONFIRMED, answered_by="T-10")
    # The same "yes" redelivered executes again (commerce replays it); another "yes" finds it answered.
    assert confirm.answer(done, "yes", "T-10", 2_000) == confirm.EXECUTE
    assert confirm.answer(done, "yes", "T-11", 2_000) == confirm.ALREADY_ANSWERED


def test_the_store_keeps_one_proposal_per_conversation_across_restarts(tmp_path):
    store = SqlitePendingStore(tmp_path / "p.db")
    store.save(proposal(), 1_000)
    store.save(proposal(ticket_id="T-12"), 1_000)
    store.close()
    again = SqlitePendingStore(tmp_path / "p.db")
    assert again.get("C-9") == proposal(ticket_id="T-12")
    assert again.get("C-other") is None
    # Long expired rows are purged when something new is saved.
    again.save(proposal(conversation_id="C-new", expires_ms=10**13), 10**12)
    assert again.get("C-9") is None and again.get("C-new") is not None
    again.close()


class FakeCommerce:
    """Commerce as the analyst sees it: records writes and answers them once per key, like the real store."""

    def __init__(self) -> None:
        self.writes: list[tuple] = []
        self.applied: set[str] = set()

    async def execute(self, execution, customer_id, ticket_id, timeout_s):
        # Only a refund above the limit is sent at once: commerce opens an approval case for it.
        assert execution.action == "issue_refund"
        return ExecutionResult("needs_approval", "approval needed", "CASE-1")

    async def write(self, write, customer_id, ticket_id, timeout_s):
        self.writes.append((write, customer_id, ticket_id))
        self.applied.add(write.idempotency_key)
        return ExecutionResult("done", f"The return of {write.order_id} has been requested.")


class FakeReads:
    async def order(self, order_id, customer_id, timeout_s):
        return OrderDetail(order_id, "delivered", [OrderLine("1", "p-l", "Desk Lamp", 80.0, {"color": "black"}),
                                                   OrderLine("2", "p-k", "Tea Kettle", 45.0, {})], "credit_card_1")

    async def variants(self, product_id, timeout_s):
        return [Variant("9", {"color": "white"}, True, 82.0)]

    async def customer(self, customer_id, timeout_s):
        return CustomerDetail([PaymentOption("credit_card_1", "credit_card")])


def envelope(ticket_id: str, body: str, intent: str, reply: str = "") -> Envelope:
    env = Envelope()
    env.ticket.ticket_id, env.ticket.conversation_id, env.ticket.body = ticket_id, "C-9", body
    env.deadline_unix_ms = int(time.time() * 1000) + 3000
    env.classification.intent, env.classification.confidence = intent, 0.9
    if reply:
        env.context.facts["confirmation"] = reply
    else:
        env.retrieval.customer_id, env.retrieval.customer_name = "yusuf_rossi_9620", "Yusuf Rossi"
        env.retrieval.orders.append(OrderFacts(order_id="#W2378156", status="delivered", total=125.0,
                                               user_id="yusuf_rossi_9620", item_names=["Desk Lamp", "Tea Kettle"]))
    return env


@pytest.fixture
def analyst(tmp_path):
    store, commerce = SqlitePendingStore(tmp_path / "p.db"), FakeCommerce()
    yield AnalystHandler(500.0, commerce, reads=FakeReads(), pending=store), commerce, store
    store.close()


async def test_propose_then_yes_executes_exactly_once_per_key(analyst):
    handler, commerce, store = analyst
    hop = HopRecord()
    first = await handler(envelope("T-9", "I want to return the desk lamp.", "get_refund"), hop)
    assert isinstance(first, Forward) and hop.labels["proposal"] == "kept"
    (action,) = first.envelope.analysis.actions
    assert (action.name, action.status) == ("return_delivered_order_items", "proposed")
    assert action.idempotency_key and "Desk Lamp" in action.detail and "80.00" in action.detail
    assert commerce.writes == []

    yes = await handler(envelope("T-10", "Yes, please go ahead.", "out_of_scope", reply="yes"), HopRecord())
    a = yes.envelope.analysis
    assert a.policy_code == "proposal_confirmed" and [x.status for x in a.actions] == ["done"]
    (write, customer, ticket), = commerce.writes
    assert write.item_ids == ("1",) and write.idempotency_key == action.idempotency_key
    # Written for the verified customer, under the proposing ticket, so every delivery is the same request.
    assert (customer, ticket) == ("yusuf_rossi_9620", "T-9")
    assert yes.envelope.retrieval.customer_name == "Yusuf Rossi"

    await handler(envelope("T-10", "Yes, please go ahead.", "out_of_scope", reply="yes"), HopRecord())
    assert len(commerce.applied) == 1          # the redelivered yes reuses the key
    other = await handler(envelope("T-11", "yes", "out_of_scope", reply="yes"), HopRecord())
    assert other.envelope.analysis.policy_code == "proposal_already_answered"
    assert len(commerce.writes) == 2           # the second, different yes wrote nothing
    assert store.get("C-9").state == confirm.CONFIRMED


async def test_no_drops_the_proposal(analyst):
    handler, commerce, store = analyst
    await handler(envelope("T-9", "I want to return the desk lamp.", "get_refund"), HopRecord())
    no = await handler(envelope("T-10", "No, don't.", "out_of_scope", reply="no"), HopRecord())
    assert no.envelope.analysis.policy_code == "proposal_declined"
    assert "nothing was changed" in no.envelope.analysis.policy_reason and commerce.writes == []
    later = await handler(envelope("T-11", "yes", "out_of_scope", reply="yes"), HopRecord())
    assert later.envelope.analysis.policy_code == "proposal_already_answered" and commerce.writes == []


async def test_a_yes_with_nothing_pending_changes_nothing(analyst):
    handler, commerce, _ = analyst
    result = await handler(envelope("T-10", "yes", "out_of_scope", reply="yes"), HopRecord())
    assert isinstance(result, Forward) and result.envelope.analysis.policy_code == "nothing_to_confirm"
    assert commerce.writes == []


async def test_an_open_choice_is_proposed_without_a_key_and_not_kept(analyst):
    handler, _, store = analyst
    result = await handler(envelope("T-9", "I want to return something from my order.", "get_refund"), HopRecord())
    (action,) = result.envelope.analysis.actions
    assert action.status == "proposed" and action.idempotency_key == ""
    assert store.get("C-9") is None


async def test_a_failed_confirmed_write_escalates(analyst):
    handler, commerce, _ = analyst

    async def failing(write, customer_id, ticket_id, timeout_s):
        return ExecutionResult("failed", "commerce unavailable")

    commerce.write = failing
    await handler(envelope("T-9", "I want to return the desk lamp.", "get_refund"), HopRecord())
    result = await handler(envelope("T-10", "yes", "out_of_scope", reply="yes"), HopRecord())
    assert isinstance(result, Escalate) and result.escalation.reason == "action_failed"


async def test_return_refund_is_checked_on_the_named_items_not_the_order_total(tmp_path):
    store = SqlitePendingStore(tmp_path / "p.db")
    handler = AnalystHandler(100.0, FakeCommerce(), reads=FakeReads(), pending=store)
    # The order's total (125.00) is above the limit; the lamp (80.00) is not.
    result = await handler(envelope("T-9", "I want to return the desk lamp.", "get_refund"), HopRecord())
    assert isinstance(result, Forward) and result.envelope.analysis.policy_decision == "allowed"
    over = await handler(envelope("T-8", "I want to return all items.", "get_refund"), HopRecord())
    assert isinstance(over, Escalate) and over.escalation.reason == "refund_above_limit"
    store.close()
