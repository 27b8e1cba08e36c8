"""Unit tests of the store policy as code: each rule's allowed effect and its quotable refusals."""

import pytest
from commerce.domain import write_rules
from commerce.domain.errors import InvalidArgument, NotFound, PolicyViolation
from commerce.domain.model import Address, Variant
from commerce.domain.seed import parse_seed

pytestmark = pytest.mark.unit


@pytest.fixture
def data(tiny_seed):
    seed = parse_seed(tiny_seed)
    customers = {c.customer_id: c for c in seed.customers}
    orders = {o.order_id: o for o in seed.orders}
    variants = {v.item_id: v for p in seed.products for v in p.variants}
    return customers, orders, variants


def test_cancel_pending_refunds_everything_paid_to_the_original_method(data):
    customers, orders, _ = data
    change = write_rules.cancel_pending_order(orders["#W0000002"], customers["ana_lima_1"], " Ordered by  mistake ")
    assert change.order.status == "cancelled" and change.order.cancel_reason == "ordered by mistake"
    assert change.order.payments[-1] == write_rules.Payment("refund", 2020, "credit_card_1")
    assert change.balance_deltas == {} and not change.refund_immediate
    assert "$20.20" in change.summary and "5 to 7 business days" in change.summary
    names = ", ".join(dict.fromkeys(i.name for i in orders["#W0000002"].items))
    assert change.summary.startswith(f"Order #W0000002 ({names}) has been cancelled"), "the customer reads what"


@pytest.mark.parametrize("order_id,reason,words", [
    ("#W0000001", "no longer needed", "is delivered, and only pending orders can be cancelled"),
    ("#W0000002", "found it cheaper", "must be 'no longer needed' or 'ordered by mistake'"),
])
def test_cancel_refusals_quote_the_rule(data, order_id, reason, words):
    customers, orders, _ = data
    with pytest.raises(PolicyViolation) as exc:
        write_rules.cancel_pending_order(orders[order_id], customers["ana_lima_1"], reason)
    assert words in str(exc.value) and "policy: Cancel pending order" in str(exc.value)


def test_return_goes_to_original_method_or_a_gift_card_only(data):
    customers, orders, _ = data
    ana, delivered = customers["ana_lima_1"], orders["#W0000001"]
    change = write_rules.return_delivered_order_items(delivered, ana, ["1001", "1001"], "gift_card_1")
    assert change.order.status == "return requested" and change.order.return_item_ids == ("1001", "1001")
    assert change.amount_cents == 2020
    # Paid with gift_card_1: the credit card is neither the original method nor a gift card.
    with pytest.raises(PolicyViolation, match=r"original payment method \(gift_card_1\) or an existing gift card"):
        write_rules.return_delivered_order_items(delivered, ana, ["1001"], "credit_card_1")
    with pytest.raises(PolicyViolation, match="not in order #W0000001 3 times"):
        write_rules.return_delivered_order_items(delivered, ana, ["1001"] * 3, "gift_card_1")
    with pytest.raises(PolicyViolation, match="only delivered orders can be returned"):
        write_rules.return_delivered_order_items(orders["#W0000002"], ana, ["1002"], "credit_card_1")


def test_modify_items_same_product_available_and_gift_card_must_cover(data):
    customers, orders, variants = data
    ana, pending = customers["ana_lima_1"], orders["#W0000002"]
    red = variants["1001"]  # 10.10, available; the order holds the blue 20.20
    change = write_rules.modify_pending_order_items(pending, ana, ["1002"], ["1001"], {"1001": red}, "gift_card_1")
    assert change.order.status == "pending (item modified)" and change.amount_cents == -1010
    assert [i.item_id for i in change.order.items] == ["1001"] and change.order.items[0].price_cents == 1010
    assert change.order.payments[-1] == write_rules.Payment("refund", 1010, "gift_card_1")
    assert change.balance_deltas == {"gift_card_1": 1010}
    other = Variant(item_id="9", product_id="999", options={}, available=True, price_cents=100)
    with pytest.raises(PolicyViolation, match="same product"):
        write_rules.modify_pending_order_items(pending, ana, ["1002"], ["9"], {"9": other}, "gift_card_1")
    dear = Variant(item_id="7", product_id="100", options={"color": "gold"}, available=True, price_cents=99999)
    with pytest.raises(PolicyViolation, match="not enough for the price difference"):
        write_rules.modify_pending_order_items(pending, ana, ["1002"], ["7"], {"7": dear}, "gift_card_1")
    gone = Variant(item_id="8", product_id="100", options={"color": "x"}, available=False, price_cents=1)
    with pytest.raises(PolicyViolation, match="not available"):
        write_rules.modify_pending_order_items(pending, ana, ["1002"], ["8"], {"8": gone}, "credit_card_1")
    with pytest.raises(PolicyViolation, match="only pending orders can be modified"):
        write_rules.modify_pending_order_items(change.order, ana, ["1001"], ["1002"], {"1002": red}, "credit_card_1")


def test_modify_payment_moves_the_single_payment_once(data):
    customers, orders, _ = data
    ana, pending = customers["ana_lima_1"], orders["#W0000002"]
    change = write_rules.modify_pending_order_payment(pending, ana, "gift_card_1")
    assert change.order.payments[1:] == (write_rules.Payment("payment", 2020, "gift_card_1"),
                                         write_rules.Payment("refund", 2020, "credit_card_1"))
    assert change.balance_deltas == {"gift_card_1": -2020}
    with pytest.raises(PolicyViolation, match="already changed"):
        write_rules.modify_pending_order_payment(change.order, ana, "credit_card_1")
    with pytest.raises(PolicyViolation, match="different payment method"):
        write_rules.modify_pending_order_payment(pending, ana, "credit_card_1")
    with pytest.raises(NotFound):
        write_rules.modify_pending_order_payment(pending, ana, "paypal_404")


def test_refund_amounts_limits_and_status(data):
    customers, orders, _ = data
    ana, delivered = customers["ana_lima_1"], orders["#W0000001"]
    change = write_rules.issue_refund(delivered, ana, ["1002"], 0, "", limit_cents=50000)
    assert change.amount_cents == 2020 and change.payment_method_id == "gift_card_1" and change.refund_immediate
    assert change.balance_deltas == {"gift_card_1": 2020}
    with pytest.raises(write_rules.OverLimit) as over:
        write_rules.issue_refund(delivered, ana, [], 0, "", limit_cents=1000)
    assert over.value.amount_cents == 4040  # everything paid and not yet refunded
    with pytest.raises(PolicyViolation, match=r"Only \$40.40 .* was paid and not yet refunded"):
        write_rules.issue_refund(delivered, ana, [], 5000, "", limit_cents=50000)
    with pytest.raises(PolicyViolation, match="refunded by cancelling it"):
        write_rules.issue_refund(orders["#W0000002"], ana, [], 0, "", limit_cents=50000)


def test_addresses_and_cases_are_validated():
    with pytest.raises(InvalidArgument, match="city, zip missing"):
        write_rules.check_address(Address("1 Main St", "", "", "IL", "USA", " "))
    assert write_rules.check_address(Address(" 1  Main St ", "", "Springfield", "IL", "USA", "62701")).address1 == \
        "1 Main St"
    assert write_rules.check_case("refund_above_limit", "", "why") == ("refund_above_limit", "medium", "why")
    with pytest.raises(InvalidArgument, match="priority"):
        write_rules.check_case("x", "whenever", "why")
