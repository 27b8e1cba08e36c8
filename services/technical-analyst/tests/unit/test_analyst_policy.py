"""Unit tests of the store policy as code."""

import hashlib

import pytest
from supportmesh.v1.envelope_pb2 import OrderFacts, PaymentLine
from technical_analyst.domain.order_rules import (
    ALLOWED,
    NEEDS_HUMAN,
    NOT_APPLICABLE,
    REFUSED,
    PolicyRequest,
    decide,
    idempotency_key,
    normalize_order_id,
    parse_amount,
    refund_within_limit,
    rule_for,
)

pytestmark = pytest.mark.unit

LIMIT = 500.0


def order(status: str, total: float = 120.0, oid: str = "#W2378156", user: str = "yusuf_rossi_9620",
          items: tuple[str, ...] = ("Water Bottle",)):
    return OrderFacts(order_id=oid, status=status, total=total, user_id=user, item_names=list(items))


def request(intent: str, *orders: OrderFacts, customer: str = "yusuf_rossi_9620", **kw) -> PolicyRequest:
    return PolicyRequest(ticket_id="T-1", intent=intent, customer_id=customer, orders=list(orders), **kw)


def test_cancel_pending_is_allowed_with_a_proposed_action_and_stable_key():
    d = decide(request("cancel_order", order("pending")), LIMIT)
    assert d.decision == ALLOWED and d.code == "cancel_pending" and d.order_id == "#W2378156"
    [action] = d.actions
    assert action.name == "cancel_pending_order" and action.status == "proposed"
    assert action.idempotency_key == hashlib.sha256(b"T-1:cancel_pending_order").hexdigest()[:32]
    again = decide(request("cancel_order", order("pending")), LIMIT)
    assert again.actions[0].idempotency_key == action.idempotency_key
    assert "no longer needed" in d.reason and "(policy:" not in d.reason, "the agent policy is not cited to customers"


@pytest.mark.parametrize(("paid_with", "text", "decision"), [
    ("Mastercard credit card ending in 2478", "Cancel it and refund to my gift card.", REFUSED),
    ("PayPal account", "cancel the order, refund it back to my credit card please", REFUSED),
    ("gift card", "Cancel it and refund to my gift card.", ALLOWED),
    ("Mastercard credit card ending in 2478", "cancel it, refund to my card", ALLOWED),
    ("PayPal account", "please cancel the order", ALLOWED),
])
def test_a_cancellation_is_refunded_to_the_method_it_was_paid_with(paid_with, text, decision):
    paid = order("pending")
    paid.payments.append(PaymentLine(transaction_type="payment", amount=120.0, payment_method=paid_with))
    d = decide(request("cancel_order", paid, text=text), LIMIT)
    assert d.decision == decision
    if decision == REFUSED:
        assert d.code == "cancel_refund_method" and not d.actions and paid_with in d.reason


@pytest.mark.parametrize("status", ["processed", "delivered", "cancelled", "pending (item modified)"])
def test_cancel_anything_but_pending_is_refused(status):
    d = decide(request("cancel_order", order(status)), LIMIT)
    assert d.decision == REFUSED and d.code == "cancel_not_pending" and not d.actions
    assert status in d.reason and "only pending orders can be cancelled" in d.reason


def test_cancel_delivered_offers_a_return():
    d = decide(request("cancel_order", order("delivered")), LIMIT)
    assert "returned or exchanged instead" in d.reason


def test_change_order_pending_modifies_and_delivered_exchanges():
    pending = decide(request("change_order", order("pending")), LIMIT)
    delivered = decide(request("change_order", order("delivered")), LIMIT)
    processed = decide(request("change_order", order("processed")), LIMIT)
    assert [a.name for a in pending.actions] == ["modify_pending_order_items"]
    assert [a.name for a in delivered.actions] == ["exchange_delivered_order_items"]
    assert processed.decision == REFUSED and processed.code == "modify_not_allowed"


def test_shipping_address_change_only_for_pending():
    ok = decide(request("change_shipping_address", order("pending")), LIMIT)
    no = decide(request("change_shipping_address", order("processed")), LIMIT)
    assert ok.decision == ALLOWED and ok.actions[0].name == "modify_pending_order_address"
    assert no.decision == REFUSED and no.code == "modify_not_pending" and "default address" in no.reason


def test_refund_of_delivered_order_within_limit_is_allowed_to_original_payment():
    d = decide(request("get_refund", order("delivered", total=120.0)), LIMIT)
    assert d.decision == ALLOWED and d.actions[0].name == "return_delivered_order_items"
    assert "120.00" in d.reason and "the payment method you paid with, or to one of your gift cards" in d.reason


def test_refund_above_limit_needs_a_human():
    d = decide(request("get_refund", order("delivered", total=536.65)), LIMIT)
    assert d.decision == NEEDS_HUMAN and d.code == "refund_above_limit"
    assert "536.65" in d.reason and "500.00" in d.reason
    assert d.actions[0].status == "proposed"


def test_refund_amount_named_by_customer_is_what_is_checked():
    small = decide(request("get_refund", order("delivered", total=900.0), amounts=["$45.50"]), LIMIT)
    assert small.decision == ALLOWED and "45.50" in small.reason


def test_refund_of_pending_order_is_refused_and_points_to_cancellation():
    d = decide(request("get_refund", order("pending")), LIMIT)
    assert d.decision == REFUSED and d.code == "return_not_delivered" and "cancelled instead" in d.reason


def test_unverified_customer_is_refused_for_order_intents():
    d = decide(request("track_order", order("pending"), customer=""), LIMIT)
    assert d.decision == REFUSED and d.code == "identity_not_verified"
    assert "e-mail" in d.reason and "zip code" in d.reason


def test_commerce_outage_is_not_decided():
    d = decide(request("cancel_order", customer="", commerce_unavailable=True), LIMIT)
    assert d.decision == NOT_APPLICABLE and d.code == "commerce_unavailable"


def test_informational_and_unrelated_intents():
    assert decide(request("track_order", order("delivered")), LIMIT).code == "informational"
    assert decide(request("newsletter_subscription"), LIMIT).code == "no_order_request"


def test_order_selection():
    a, b = order("pending", oid="#W1"), order("delivered", oid="#W2")
    assert decide(request("cancel_order", a, b), LIMIT).code == "order_not_identified"
    assert decide(request("cancel_order", a, b, order_ids=["w2"]), LIMIT).code == "cancel_not_pending"
    assert decide(request("cancel_order", a, order_ids=["#W9"]), LIMIT).code == "order_not_found"
    foreign = order("pending", user="someone_else_1")
    assert decide(request("cancel_order", foreign), LIMIT).code == "order_not_owned"
    assert decide(request("cancel_order", a, b, order_ids=["w2"]), LIMIT).identified_by == "named"
    assert decide(request("cancel_order", a), LIMIT).identified_by == "only"


KEYBOARD_DELIVERED = order("delivered", oid="#W1", items=("Mechanical Keyboard", "Smart Thermostat"))
KEYBOARD_PENDING = order("pending", oid="#W2", items=("Mechanical Keyboard", "T-Shirt"))
LAMP_PENDING = order("pending", oid="#W3", items=("Desk Lamp", "Dumbbell Set"))
LAMP_DELIVERED = order("delivered", oid="#W4", items=("Desk Lamp",))
ORDERS = (KEYBOARD_DELIVERED, KEYBOARD_PENDING, LAMP_PENDING, LAMP_DELIVERED)


@pytest.mark.parametrize(("intent", "text", "expected", "code"), [
    # the keyboard is in a delivered and a pending order: the rule's status decides
    ("get_refund", "I want to return the keyboards I bought", "#W1", "return_delivered"),
    ("cancel_order", "Please cancel the mechanical keyboard, no longer needed", "#W2", "cancel_pending"),
    # change_order acts on both statuses; the customer's wording tells exchange from modify
    ("change_order", "I received my order and wish to exchange the keyboard for a clicky one", "#W1",
     "exchange_delivered"),
    ("change_order", "I want to modify the keyboard in my pending order", "#W2", "modify_pending"),
    ("change_order", "please change my tshirt to purple", "#W2", "modify_pending"),
    ("change_order", "switch the t-shirt to a bigger size", "#W2", "modify_pending"),
    # a generic last word ("set") is not enough on its own, the first word is
    ("cancel_order", "cancel the dumbbells please", "#W3", "cancel_pending"),
    ("change_shipping_address", "send the desk lamps to my new address", "#W3", "modify_pending"),
])
def test_an_unnamed_order_is_told_by_its_items_and_the_rule_status(intent, text, expected, code):
    d = decide(request(intent, *ORDERS, text=text), LIMIT)
    assert (d.order_id, d.code, d.identified_by) == (expected, code, "items")


@pytest.mark.parametrize(("intent", "text"), [
    ("change_order", "I want to change the keyboard"),    # pending and delivered keyboard, no cue
    ("cancel_order", "please cancel my order"),             # no item named
    ("cancel_order", "I no longer need the thermostat"),    # only in a delivered order
    ("get_refund", "I want a new set of headphones"),       # "set" alone names no product
])
def test_no_order_is_guessed_when_the_items_do_not_single_one_out(intent, text):
    d = decide(request(intent, *ORDERS, text=text), LIMIT)
    assert d.code == "order_not_identified" and "#W1, #W2, #W3, #W4" in d.reason and not d.actions


def test_items_in_several_orders_pick_the_order_of_the_item_named_first_and_say_so():
    d = decide(request("get_refund", *ORDERS, text="return the thermostat and the lamp"), LIMIT)
    assert (d.order_id, d.code, d.identified_by) == ("#W1", "return_delivered", "first_item")
    assert "also names items of order #W4" in d.reason and "about order #W1 only" in d.reason
    # the item named first sits in two orders of the rule's status: no guess
    lamp_too = order("delivered", oid="#W5", items=("Desk Lamp",))
    d = decide(request("get_refund", *ORDERS, lamp_too, text="return the desk lamp and the thermostat"), LIMIT)
    assert d.code == "order_not_identified"


def test_an_order_told_by_items_must_still_be_the_customers_own():
    foreign = order("pending", oid="#W9", user="someone_else_1", items=("Bicycle",))
    d = decide(request("cancel_order", foreign, KEYBOARD_DELIVERED, text="cancel the bicycle"), LIMIT)
    assert d.code == "order_not_owned"


def test_helpers():
    assert normalize_order_id("w2378156") == "#W2378156" == normalize_order_id("#W2378156")
    assert parse_amount("$1,250.50") == 1250.5 and parse_amount("no number") is None
    assert idempotency_key("T", "a") != idempotency_key("T", "b")
    assert len(idempotency_key("T", "a")) == 32


@pytest.mark.parametrize(("intent", "text", "rule"), [
    ("get_refund", "I want to modify the pending boots to size 8. PayPal for any payment or refund.", "modify_items"),
    ("get_refund", "I want to cancel all pending orders and return the watch.", "cancel"),
    ("change_order", "Please change my LA order to my NYC address, and exchange the speaker.", "modify_address"),
    ("change_order", "Return the speaker, then modify the laptop in my other order.", "return"),
    ("cancel_order", "Due to some life changes I no longer need the boots; cancel the order.", "cancel"),
    ("get_refund", "I want to cancel or return everything I ordered.", "return"),
    ("cancel_order", "I no longer need it.", "cancel"),
])
def test_the_first_request_verb_decides_the_rule(intent, text, rule):
    assert rule_for(intent, text) == rule


def test_return_of_everything_over_several_orders_above_the_limit_goes_to_a_human():
    orders = (order("delivered", 400.0, "#W1"), order("delivered", 300.0, "#W2"), order("pending", 900.0, "#W3"))
    d = decide(request("get_refund", *orders, text="I want to return everything I ordered."), LIMIT)
    assert (d.decision, d.code, d.order_id, d.amount) == (NEEDS_HUMAN, "refund_above_limit", "", 700.0)
    assert "#W1, #W2" in d.reason and "#W3" not in d.reason
    small = decide(request("get_refund", order("delivered", 100.0, "#W1"), order("delivered", 50.0, "#W2"),
                           text="I want to return everything I ordered."), LIMIT)
    assert small.code == "order_not_identified"


def test_a_return_is_re_decided_on_the_refund_of_the_items_named():
    req = request("get_refund", order("delivered", 900.0))
    held = decide(req, LIMIT)
    assert held.code == "refund_above_limit"
    within = refund_within_limit(held, req, 54.04, LIMIT)
    assert (within.decision, within.code, within.amount) == (ALLOWED, "return_delivered", 54.04)
    # still above the limit: a human approves, the refund at stake is the items' (not the order total)
    above = refund_within_limit(held, req, 640.0, LIMIT)
    assert (above.decision, above.code, above.amount) == (held.decision, "refund_above_limit", 640.0)
    assert "640.00" in above.reason and "900.00" not in above.reason
    named = request("get_refund", order("delivered", 900.0), amounts=["$900"])
    assert refund_within_limit(decide(named, LIMIT), named, 54.04, LIMIT).code == "refund_above_limit"
