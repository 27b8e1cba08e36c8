"""The store's rules over a fake store: validation first, then NOT_FOUND, ownership, ambiguity."""

import pytest
from commerce.domain.errors import Ambiguous, InvalidArgument, NotFound, PermissionDenied
from commerce.domain.model import Customer, Order
from commerce.domain.queries import CommerceQueries
from commerce.domain.seed import parse_seed

pytestmark = pytest.mark.unit


class FakeStore:
    """An in-memory StoreReader that records the keys it was asked for."""

    def __init__(self, customers: list[Customer], orders: list[Order]) -> None:
        self.customers = {c.customer_id: c for c in customers}
        self.orders = {o.order_id: o for o in orders}
        self.asked: list[tuple] = []

    def customer(self, customer_id):
        return self.customers.get(customer_id)

    def customers_by_email_key(self, email_key):
        self.asked.append(("email", email_key))
        return [c for c in self.customers.values() if c.email.casefold() == email_key]

    def customers_by_name_zip(self, first_key, last_key, zip_code):
        self.asked.append(("name", first_key, last_key, zip_code))
        return [c for c in self.customers.values() if (c.first_name.casefold(), c.last_name.casefold(),
                                                      c.address.zip) == (first_key, last_key, zip_code)]

    def order(self, order_id):
        self.asked.append(("order", order_id))
        return self.orders.get(order_id)

    def orders_of(self, customer_id):
        return [o for o in self.orders.values() if o.customer_id == customer_id]


@pytest.fixture
def fake(tiny_seed):
    data = parse_seed(tiny_seed)
    return FakeStore(list(data.customers), list(data.orders))


@pytest.fixture
def queries(fake):
    return CommerceQueries(fake)


def test_email_lookup_sends_the_folded_key(queries, fake):
    assert queries.find_customer_by_email(" ANA.LIMA@example.com").customer_id == "ana_lima_1"
    assert fake.asked == [("email", "ana.lima@example.com")]


def test_unknown_email_is_not_found(queries):
    with pytest.raises(NotFound):
        queries.find_customer_by_email("nobody@example.com")


def test_empty_email_is_invalid_before_any_lookup(queries, fake):
    with pytest.raises(InvalidArgument, match="email is required"):
        queries.find_customer_by_email("")
    assert fake.asked == []


def test_name_zip_lookup(queries):
    assert queries.find_customer_by_name_zip("bo", "CHEN", "20002").customer_id == "bo_chen_2"
    with pytest.raises(NotFound):
        queries.find_customer_by_name_zip("bo", "chen", "10001")


def test_two_matching_customers_are_ambiguous(fake, queries):
    ana = fake.customers["ana_lima_1"]
    fake.customers["ana_lima_2"] = Customer(customer_id="ana_lima_2", first_name="Ana", last_name="Lima",
                                            email="other@example.com", address=ana.address)
    with pytest.raises(Ambiguous, match="2 customers"):
        queries.find_customer_by_name_zip("Ana", "Lima", "10001")


def test_get_order_normalises_the_id_and_checks_the_owner(queries, fake):
    assert queries.get_order("w0000001", "ana_lima_1").order_id == "#W0000001"
    assert fake.asked == [("order", "#W0000001")]
    with pytest.raises(PermissionDenied, match="#W0000001.*bo_chen_2"):
        queries.get_order("#W0000001", "bo_chen_2")
    with pytest.raises(NotFound, match="#W7777777"):
        queries.get_order("#W7777777", "ana_lima_1")


@pytest.mark.parametrize("order_id,customer_id,field", [("#W0000001", "", "customer_id"),
                                                        ("#W00001", "ana_lima_1", "order_id"),
                                                        ("", "ana_lima_1", "order_id")])
def test_get_order_refuses_malformed_input(queries, order_id, customer_id, field):
    with pytest.raises(InvalidArgument, match=field):
        queries.get_order(order_id, customer_id)


def test_list_orders(queries):
    assert [o.order_id for o in queries.list_orders("bo_chen_2")] == ["#W0000003"]
    with pytest.raises(NotFound, match="customer nobody"):
        queries.list_orders("nobody")


def test_tracking_gathers_every_shipment(queries):
    tracking = queries.get_tracking("#W0000001", "ana_lima_1")
    assert (tracking.order_id, tracking.status, tracking.tracking_ids) == ("#W0000001", "delivered",
                                                                          ("111", "222"))
    assert queries.get_tracking("#W0000002", "ana_lima_1").tracking_ids == ()
    with pytest.raises(PermissionDenied):
        queries.get_tracking("#W0000003", "ana_lima_1")
