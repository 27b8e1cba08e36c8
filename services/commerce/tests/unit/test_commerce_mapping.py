"""Domain objects to protobuf: money in dollars, totals from items, gift-card balances, options maps."""

import pytest
from commerce import mapping
from commerce.domain.model import Tracking
from commerce.domain.seed import parse_seed

pytestmark = pytest.mark.unit


@pytest.fixture
def data(tiny_seed):
    return parse_seed(tiny_seed)


def test_customer_message(data):
    ana = next(c for c in data.customers if c.customer_id == "ana_lima_1")
    msg = mapping.customer_pb(ana)
    assert (msg.customer_id, msg.first_name, msg.last_name, msg.email) == (
        "ana_lima_1", "Ana", "Lima", "Ana.Lima@Example.com")
    assert msg.address.zip == "10001" and msg.address.city == "Springfield"
    assert [(m.id, m.source, m.balance) for m in msg.payment_methods] == [
        ("gift_card_1", "gift_card", 51.1), ("credit_card_1", "credit_card", 0.0)]
    assert msg.payment_methods[1].brand == "visa" and msg.payment_methods[1].last_four == "4242"
    assert list(msg.order_ids) == ["#W0000002", "#W0000001"]


def test_order_message_total_is_the_sum_of_item_prices(data):
    order = next(o for o in data.orders if o.order_id == "#W0000001")
    msg = mapping.order_pb(order)
    assert msg.total == pytest.approx(40.4)
    assert msg.total == pytest.approx(sum(i.price for i in msg.items))
    assert [i.item_id for i in msg.items] == ["1001", "1001", "1002"]
    assert dict(msg.items[2].options) == {"color": "blue"}
    assert [list(f.tracking_ids) for f in msg.fulfillments] == [["111"], ["222"]]
    assert [(p.transaction_type, p.amount, p.payment_method_id) for p in msg.payment_history] == [
        ("payment", 40.4, "gift_card_1")]


def test_tracking_message():
    msg = mapping.tracking_pb(Tracking(order_id="#W0000001", status="delivered", tracking_ids=("111", "222")))
    assert (msg.order_id, msg.status, list(msg.tracking_ids)) == ("#W0000001", "delivered", ["111", "222"])
