"""Tickets asking for several things: the split into requests, each request's decision, one proposal, one yes."""

import time

import pytest
from supportmesh.v1.envelope_pb2 import Envelope, OrderFacts
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh_core.stage import Forward
from technical_analyst.adapters.pending import SqlitePendingStore
from technical_analyst.domain import requests as rq
from technical_analyst.domain.execution import ExecutionResult
from technical_analyst.domain.planned_writes import CustomerDetail, OrderDetail, OrderLine, PaymentOption, Variant
from technical_analyst.handlers import AnalystHandler

pytestmark = pytest.mark.unit

CUSTOMER = "mei_kovacs_8020"
ORDERS = [
    OrderFacts(order_id="#W1000001", status="delivered", total=300.0, user_id=CUSTOMER,
               item_names=["Water Bottle", "Desk Lamp"]),
    OrderFacts(order_id="#W1000002", status="delivered", total=200.0, user_id=CUSTOMER, item_names=["Cycling Helmet"]),
    OrderFacts(order_id="#W1000003", status="pending", total=150.0, user_id=CUSTOMER, item_names=["Bookshelf"]),
    OrderFacts(order_id="#W1000004", status="pending", total=90.0, user_id=CUSTOMER,
               item_names=["Garden Hose", "Yoga Mat"]),
]
LINES = {
    "#W1000001": [OrderLine("11", "p-bottle", "Water Bottle", 20.0, {"capacity": "500ml"}),
                  OrderLine("12", "p-lamp", "Desk Lamp", 80.0, {"brightness": "low"})],
    "#W1000002": [OrderLine("21", "p-helmet", "Cycling Helmet", 200.0, {"size": "S", "color": "red"})],
    "#W1000003": [OrderLine("31", "p-shelf", "Bookshelf", 150.0, {"height": "5 ft", "color": "white"})],
    "#W1000004": [OrderLine("41", "p-hose", "Garden Hose", 40.0, {}), OrderLine("42", "p-mat", "Yoga Mat", 50.0, {})],
}
VARIANTS = {
    "p-bottle": [Variant("13", {"capacity": "750ml"}, True, 25.0)],
    "p-lamp": [Variant("14", {"brightness": "high"}, True, 85.0)],
    "p-helmet": [Variant("22", {"size": "M", "color": "red"}, True, 205.0)],
    # The 4 ft bookshelf exists but is sold out.
    "p-shelf": [Variant("32", {"height": "4 ft", "color": "white"}, False, 140.0),
                Variant("33", {"height": "6 ft", "color": "white"}, True, 160.0)],
}


def parts(text: str) -> list[tuple[str, str, tuple[str, ...], bool]]:
    return [(r.rule, r.order_id, r.items, r.fallback) for r in rq.split_requests(text, ORDERS)]


def test_a_ticket_with_several_requests_is_split_per_change_and_order():
    text = ("I want to return the water bottle, and exchange the helmet for a medium one. "
            "Also change the address of my order with the bookshelf to my default address.")
    assert parts(text) == [("return", "#W1000001", ("Water Bottle",), False),
                           ("modify_items", "#W1000002", ("Cycling Helmet",), False),
                           ("modify_address", "#W1000003", ("Bookshelf",), False)]


def test_items_of_one_change_on_one_order_are_one_request_and_items_tell_their_orders():
    # Two verbs, one order: an exchange is made once per order, with all its items.
    assert parts("I want to exchange the water bottle. I also want to exchange the desk lamp to a brighter one.") == [
        ("modify_items", "#W1000001", ("Water Bottle", "Desk Lamp"), False)]
    # One verb, items in two orders: one request per order.
    assert [(r, o) for r, o, _, _ in parts("Please return the desk lamp and the helmet.")] == [
        ("return", "#W1000001"), ("return", "#W1000002")]


def test_an_order_sent_elsewhere_without_the_word_address_is_an_address_change():
    text = ("1) return the desk lamp. 2) the bookshelf order should go to my new flat at 12 Elm Street, Apt 3 instead.")
    assert parts(text) == [("return", "#W1000001", ("Desk Lamp",), False),
                           ("modify_address", "#W1000003", ("Bookshelf",), False)]
    # A pasted confirmation ("Shipping to: …") and a return sent back ask for no address change.
    assert [r for r, *_ in parts("Please cancel the bookshelf order.\nShipping to: 575 Chestnut Street")] == ["cancel"]
    assert [r for r, *_ in parts("I will send the desk lamp back to you at 4 Main Street")] == []


def test_items_the_customer_keeps_are_left_out_of_the_request():
    assert parts("Return the water bottle and the desk lamp, keep the helmet") == [
        ("return", "#W1000001", ("Water Bottle", "Desk Lamp"), False)]
    assert parts("I want to keep the desk lamp but return the water bottle.") == [
        ("return", "#W1000001", ("Water Bottle",), False)]
    assert parts("I want to return the water bottle. The desk lamp can stay.") == [
        ("return", "#W1000001", ("Water Bottle",), False)]


def test_it_with_two_named_orders_is_asked_and_them_names_the_sentence_befores_items():
    [request] = rq.split_requests("Orders #W1000003 and #W1000004 are both late. I want to cancel it.", ORDERS,
                                  ["#W1000003", "#W1000004"])
    assert (request.order_id, request.candidates) == ("", ("#W1000003", "#W1000004"))
    assert parts("The water bottle and the desk lamp leak. I want to return them.") == [
        ("return", "#W1000001", ("Water Bottle", "Desk Lamp"), False)]


def test_a_ticket_that_keeps_its_order_gets_no_whole_order_cancellation():
    assert rq.only_those_items("cancel the hose from my order", "I never want to cancel my entire order.")
    assert rq.only_those_items("cancel the hose", "Cancel the hose but keep the rest.")
    assert not rq.only_those_items("cancel the hose", "Cancel the hose, it is not needed.")


def test_negated_and_questioned_verbs_ask_for_nothing():
    text = ("I want to return the desk lamp. Also check whether I could return the helmet later, "
            "but I do not want to cancel any orders.")
    assert parts(text) == [("return", "#W1000001", ("Desk Lamp",), False)]


def test_a_fallback_is_wanted_only_when_the_request_before_cannot_be_made():
    text = ("I want to change the bookshelf to 4 foot with the same color. If it is not available, "
            "cancel the whole order since I ordered it by mistake.")
    asked = rq.split_requests(text, ORDERS)
    assert [(r.rule, r.order_id, r.fallback) for r in asked] == [
        ("modify_items", "#W1000003", False), ("cancel", "#W1000003", True)]
    primary_ok = [rq.Outcome(asked[0], "ok", write=object()), rq.Outcome(asked[1], "ok", write=object())]
    assert [o.request.rule for o in rq.settle(primary_ok)] == ["modify_items"]
    primary_impossible = [rq.Outcome(asked[0], "not available", impossible=True),
                          rq.Outcome(asked[1], "ok", write=object())]
    assert [o.request.rule for o in rq.settle(primary_impossible)] == ["modify_items", "cancel"]


def test_an_item_several_orders_hold_leaves_the_order_open():
    orders = [*ORDERS, OrderFacts(order_id="#W1000005", status="delivered", user_id=CUSTOMER,
                                  item_names=["Cycling Helmet"])]
    asked = rq.split_requests("Return the helmet and the water bottle.", orders)
    helmet = next(r for r in asked if "Cycling Helmet" in r.items)
    assert helmet.order_id == "" and helmet.candidates == ("#W1000002", "#W1000005")
    assert "#W1000002, #W1000005" in rq.unresolved_reason(helmet)


def test_the_status_tells_the_order_a_change_acts_on():
    orders = [OrderFacts(order_id="#W2000001", status="delivered", user_id=CUSTOMER, item_names=["Grill"]),
              OrderFacts(order_id="#W2000002", status="pending", user_id=CUSTOMER, item_names=["Grill"])]
    assert [(r.rule, r.order_id) for r in rq.split_requests(
        "Return the grill. Also modify the grill I just ordered to a gas one.", orders)] == [
        ("return", "#W2000001"), ("modify_items", "#W2000002")]


class FakeCommerce:
    """Records confirmed writes; answers each idempotency key once, like the store."""

    def __init__(self) -> None:
        self.writes: list = []
        self.applied: set[str] = set()

    async def execute(self, execution, customer_id, ticket_id, timeout_s):
        raise AssertionError("a ticket with several requests executes nothing before the customer's yes")

    async def write(self, write, customer_id, ticket_id, timeout_s):
        self.writes.append((write, ticket_id))
        self.applied.add(write.idempotency_key)
        return ExecutionResult("done", f"{write.action} on {write.order_id} done.")


class FakeReads:
    async def order(self, order_id, customer_id, timeout_s):
        facts = next(o for o in ORDERS if o.order_id == order_id)
        return OrderDetail(order_id, facts.status, LINES[order_id], "credit_card_1", ("1 Main St", "", "Austin", "TX",
                                                                                      "USA", "78701"))

    async def variants(self, product_id, timeout_s):
        return VARIANTS.get(product_id, [])

    async def customer(self, customer_id, timeout_s):
        return CustomerDetail([PaymentOption("credit_card_1", "credit_card")],
                              ("9 Elm St", "", "Chicago", "IL", "USA", "60601"))


def envelope(ticket_id: str, body: str, intent: str = "change_order", reply: str = "") -> Envelope:
    env = Envelope()
    env.ticket.ticket_id, env.ticket.conversation_id, env.ticket.body = ticket_id, "C-1", body
    env.deadline_unix_ms = int(time.time() * 1000) + 3000
    env.classification.intent, env.classification.confidence = intent, 0.9
    if reply:
        env.context.facts["confirmation"] = reply
    else:
        env.retrieval.customer_id, env.retrieval.customer_name = CUSTOMER, "Mei Kovacs"
        env.retrieval.orders.extend(ORDERS)
    return env


@pytest.fixture
def analyst(tmp_path):
    store, commerce = SqlitePendingStore(tmp_path / "p.db"), FakeCommerce()
    yield AnalystHandler(500.0, commerce, reads=FakeReads(), pending=store), commerce
    store.close()


def unsure(env: Envelope) -> Envelope:
    """As the classifier routes a write request it is not sure of: by its verbs, marked unsure."""
    env.classification.confidence, env.classification.family = 0.4, "unsure_request"
    env.classification.flags.append("order_request")
    return env


async def test_an_unsure_request_proposes_only_what_it_asks_without_a_condition(analyst):
    handler, commerce = analyst
    body = "I want to return the water bottle. If that is not possible, cancel the bookshelf order."
    hop = HopRecord()
    out = await handler(unsure(envelope("T-1", body, "get_refund")), hop)
    a = out.envelope.analysis
    assert [x.name for x in a.actions if x.status == "proposed"] == ["return_delivered_order_items"]
    assert hop.labels["unsure_kept"] == "1/2" and commerce.writes == []


async def test_an_unsure_request_with_only_conditions_proposes_nothing(analyst):
    handler, _ = analyst
    out = await handler(unsure(envelope("T-1", "If you cannot refund it to my card, cancel the bookshelf order.",
                                        "cancel_order")), HopRecord())
    a = out.envelope.analysis
    assert not a.actions and a.policy_code == "no_order_request"


async def test_an_unsure_single_item_cancel_never_becomes_a_whole_order_one(analyst):
    handler, _ = analyst
    out = await handler(unsure(envelope("T-1", "Please cancel the garden hose.", "cancel_order")), HopRecord())
    a = out.envelope.analysis
    assert not [x for x in a.actions if x.status == "proposed"]
    assert "Single items cannot be removed from order #W1000004" in a.policy_reason


async def test_several_requests_are_one_proposal_and_one_yes_executes_each_write_once(analyst):
    handler, commerce = analyst
    hop = HopRecord()
    body = ("I want to return the water bottle, and exchange the helmet for a medium one. Also change the "
            "address of my order with the bookshelf to my default address.")
    out = await handler(envelope("T-1", body), hop)
    assert isinstance(out, Forward)
    a = out.envelope.analysis
    assert a.policy_decision == "allowed" and a.policy_code == "several_requests"
    proposed = [(x.name, x.idempotency_key) for x in a.actions if x.status == "proposed"]
    # The address change first: a modification of items would end the order's changes.
    assert [n for n, _ in proposed] == ["modify_pending_order_address", "return_delivered_order_items",
                                        "exchange_delivered_order_items"]
    assert all(k for _, k in proposed) and len({k for _, k in proposed}) == 3
    assert all(x.detail for x in a.actions) and "#W1000002" in a.policy_reason and "#W1000001" in a.policy_reason
    assert commerce.writes == []            # nothing before the customer's yes

    yes = await handler(envelope("T-2", "Yes, please go ahead.", "out_of_scope", reply="yes"), HopRecord())
    assert yes.envelope.analysis.policy_code == "proposal_confirmed"
    assert sorted((w.action, w.order_id) for w, _ in commerce.writes) == [
        ("exchange_delivered_order_items", "#W1000002"), ("modify_pending_order_address", "#W1000003"),
        ("return_delivered_order_items", "#W1000001")]
    assert {w.idempotency_key for w, _ in commerce.writes} == {k for _, k in proposed}
    assert {t for _, t in commerce.writes} == {"T-1"}      # under the proposing ticket: a redelivery replays
    # The same yes redelivered uses the same keys: the store makes each write once.
    await handler(envelope("T-2", "Yes, please go ahead.", "out_of_scope", reply="yes"), HopRecord())
    assert len(commerce.applied) == 3


async def test_an_unavailable_option_makes_way_for_the_fallback(analyst):
    handler, commerce = analyst
    hop = HopRecord()
    body = ("I want to return the water bottle. I also want to change the bookshelf to 4 foot with the same color. "
            "If it is not available, cancel the whole order since I ordered it by mistake.")
    out = await handler(envelope("T-3", body), hop)
    keyed = [(x.name, x.detail) for x in out.envelope.analysis.actions if x.idempotency_key]
    assert [n for n, _ in keyed] == ["return_delivered_order_items", "cancel_pending_order"]
    assert "ordered by mistake" in keyed[1][1]
    assert "not available for the Bookshelf" in out.envelope.analysis.policy_reason
    assert "modify_items:#W1000003:refused" in hop.labels["requests"]


async def test_an_order_the_items_do_not_tell_is_asked_not_guessed(analyst):
    handler, commerce = analyst
    body = "I want to return the water bottle, and cancel these two things."
    out = await handler(envelope("T-4", body, "get_refund"), HopRecord())
    a = out.envelope.analysis
    assert [x.name for x in a.actions if x.idempotency_key] == ["return_delivered_order_items"]
    assert "which order" in a.policy_reason
    assert not any(x.name == "cancel_pending_order" for x in a.actions)


async def test_cancelling_only_an_item_is_refused_not_turned_into_a_whole_order(analyst):
    handler, commerce = analyst
    body = "Please return the desk lamp. I also want to cancel the garden hose (I ONLY want to cancel that hose)."
    out = await handler(envelope("T-5", body, "cancel_order"), HopRecord())
    a = out.envelope.analysis
    assert [x.name for x in a.actions if x.idempotency_key] == ["return_delivered_order_items"]
    assert "Single items cannot be removed from order #W1000004" in a.policy_reason


# ---- the account's default address ---------------------------------------------------------------------

def test_a_change_of_the_default_address_is_a_request_on_no_order():
    assert parts("Please update my default address to 445 Maple Drive, Suite 394, Fort Worth, TX 76165.") == [
        ("user_address", "", (), False)]
    # "the address of the order to my default one" is the order's address
    assert parts("Change the address of the bookshelf order to my default address.") == [
        ("modify_address", "#W1000003", ("Bookshelf",), False)]
    # the user address and every pending order's; a second mention ("and back again") is the same request
    assert parts("I want to change my user address and all possible order addresses to be 101 Highway, New York, "
                 "10001. Then change the user address back to the original address.") == [
        ("user_address", "", (), False), ("modify_address", "#W1000003", (), False),
        ("modify_address", "#W1000004", (), False)]
    # said without "default" or "update"
    assert parts("Please put my new address on my account: 58 Juniper Court, San Francisco, CA 94110.") == [
        ("user_address", "", (), False)]
    assert parts("Please save as my new main address the flat at 4 Elm St, Austin, TX 78701.") == [
        ("user_address", "", (), False)]


async def test_the_default_address_is_proposed_exactly_and_written_on_yes(analyst):
    handler, commerce = analyst
    hop = HopRecord()
    body = "Hi, please update my default address to 445 Maple Drive, Suite 394, Fort Worth, Texas 76165."
    out = await handler(envelope("T-1", body, "set_up_shipping_address"), hop)
    a = out.envelope.analysis
    # the reply proposes and asks for a yes: the change-address contract
    assert out.envelope.classification.intent == "change_shipping_address"
    assert hop.labels["intent_from"] == "set_up_shipping_address"
    [action] = [x for x in a.actions if x.status == "proposed"]
    assert action.name == "modify_user_address" and action.idempotency_key
    assert "445 Maple Drive, Suite 394, Fort Worth, TX 76165, USA" in action.detail
    assert commerce.writes == []
    await handler(envelope("T-2", "Yes, please go ahead.", "out_of_scope", reply="yes"), HopRecord())
    [(write, ticket)] = commerce.writes
    assert (write.action, write.order_id, ticket) == ("modify_user_address", "", "T-1")
    assert write.address == ("445 Maple Drive", "Suite 394", "Fort Worth", "TX", "USA", "76165")


async def test_a_default_address_without_the_address_is_asked_for(analyst):
    handler, commerce = analyst
    out = await handler(envelope("T-1", "I want to change my home address, I moved.", "change_shipping_address"),
                        HopRecord())
    a = out.envelope.analysis
    assert not any(x.idempotency_key for x in a.actions) and "full new address" in a.policy_reason
    await handler(envelope("T-2", "Yes", "out_of_scope", reply="yes"), HopRecord())
    assert commerce.writes == []


async def test_a_question_about_the_default_address_is_not_a_change(analyst):
    handler, _ = analyst
    out = await handler(envelope("T-1", "What is the default address on my account?", "set_up_shipping_address"),
                        HopRecord())
    assert out.envelope.classification.intent == "set_up_shipping_address"
    assert not out.envelope.analysis.actions


def test_the_intent_an_order_request_asks_for_is_its_first_request_verb():
    assert rq.requested_intent("Hi. I want to return the water bottle, and exchange the helmet.") == "get_refund"
    assert rq.requested_intent("If it is cheaper I exchange it. If not, cancel the order.") == "cancel_order"
    assert rq.requested_intent("Please change the address of my order to 1 Elm St.") == "change_shipping_address"
    assert rq.requested_intent("I want to cancel or return everything I ordered.") == "get_refund"
    assert rq.requested_intent("I do not want to cancel anything, where is my order?") == ""


async def test_an_order_request_read_as_a_question_is_decided_as_the_write_it_asks_for(analyst):
    handler, commerce = analyst
    body = "I want to return the water bottle, refunded to my credit card rather than PayPal."
    env = envelope("T-5", body, "check_payment_methods")
    hop = HopRecord()
    # Without the classifier's marker the question gets no write decision.
    out = await handler(env, hop)
    assert out.envelope.analysis.policy_code != "return_delivered" and not out.envelope.analysis.actions
    env = envelope("T-6", body, "check_payment_methods")
    env.classification.flags.append("order_request")
    out = await handler(env, hop)
    a = out.envelope.analysis
    assert out.envelope.classification.intent == "check_payment_methods"     # the reply keeps the question's
    assert hop.labels["request_intent"] == "get_refund"
    assert a.policy_decision == "allowed"
    assert [(x.name, x.status) for x in a.actions] == [("return_delivered_order_items", "proposed")]
    assert "#W1000001" in a.actions[0].detail and commerce.writes == []     # nothing before the customer's yes
