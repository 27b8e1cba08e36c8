"""Parsing the retail seed document into domain objects, money in exact cents."""

import copy

import pytest
from commerce.domain.model import to_cents, to_dollars
from commerce.domain.seed import BadSeed, parse_seed

pytestmark = pytest.mark.unit


def test_to_cents_is_exact_where_floats_are_not():
    assert to_cents(0.1) + to_cents(0.2) == to_cents(0.3) == 30
    assert to_cents(1819.92) == 181992
    assert to_dollars(181992) == 1819.92


def test_parse_builds_customers_orders_and_products(tiny_seed):
    data = parse_seed(tiny_seed)
    ana = next(c for c in data.customers if c.customer_id == "ana_lima_1")
    assert ana.order_ids == ("#W0000002", "#W0000001")
    gift = next(m for m in ana.payment_methods if m.source == "gift_card")
    assert gift.balance_cents == 5110
    assert next(m for m in ana.payment_methods if m.source == "credit_card").balance_cents is None
    order = next(o for o in data.orders if o.order_id == "#W0000001")
    assert [i.item_id for i in order.items] == ["1001", "1001", "1002"]
    assert order.total_cents == 4040 == order.payments[0].amount_cents
    assert order.tracking_ids == ("111", "222")
    assert data.products[0].variants[1].available is False
    assert data.products[0].variants[0].price_cents == 1010


def test_order_of_unknown_user_is_refused(tiny_seed):
    doc = copy.deepcopy(tiny_seed)
    doc["orders"]["#W0000003"]["user_id"] = "ghost_9"
    with pytest.raises(BadSeed, match="#W0000003.*ghost_9"):
        parse_seed(doc)


def test_missing_field_is_a_bad_seed(tiny_seed):
    doc = copy.deepcopy(tiny_seed)
    del doc["users"]["bo_chen_2"]["email"]
    with pytest.raises(BadSeed, match="email"):
        parse_seed(doc)


def test_key_and_id_must_agree(tiny_seed):
    doc = copy.deepcopy(tiny_seed)
    doc["orders"]["#W0000002"]["order_id"] = "#W0000009"
    with pytest.raises(BadSeed, match="#W0000002"):
        parse_seed(doc)
