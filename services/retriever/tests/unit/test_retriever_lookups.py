"""The lookup flow and the handler with fake commerce and a fake KB: verification paths and errors."""

import time

import pytest
from retriever.adapters.kb_store import KbUnavailable
from retriever.domain.lookups import (
    MAX_LISTED_ORDERS,
    CustomerRef,
    Identity,
    LookupFailed,
    OrderRef,
    Payment,
    PaymentMethod,
    identity,
    look_up,
    payment_method_text,
)
from retriever.handlers import RetrieverHandler
from supportmesh.v1.envelope_pb2 import Entity, Envelope
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh.v1.ticket_pb2 import Customer, Ticket
from supportmesh_core.stage import Forward

pytestmark = pytest.mark.unit

YUSUF = CustomerRef("yusuf_rossi_9620", "Yusuf", "Rossi",
                    (PaymentMethod("credit_card_9513926", "Mastercard credit card ending in 2478"),
                     PaymentMethod("gift_card_1", "gift card (balance $20.00)")),
                    "763 Broadway, Suite 135, Philadelphia, PA 19122, USA")


def order(order_id: str, user="yusuf_rossi_9620") -> OrderRef:
    return OrderRef(order_id, "delivered", ["843053632392"], ["Keyboard"], 12.5, user,
                    (Payment("payment", 12.5, "credit_card_9513926"), Payment("refund", 2.5, "gift_card_1")))


class FakeCommerce:
    """In-memory store; `fail` maps a call name to the LookupFailed it raises."""

    def __init__(self, fail: dict[str, LookupFailed] | None = None, listed: int = 5) -> None:
        self.fail = fail or {}
        self.listed = listed
        self.calls: list[tuple] = []
        self.orders = {"#W2378156": order("#W2378156"), "#W1": order("#W1", user="someone_else")}

    def _call(self, name, *args):
        self.calls.append((name, *args))
        if name in self.fail:
            raise self.fail[name]

    async def find_by_email(self, email, timeout_s):
        self._call("email", email)
        if email != "yusuf.rossi7301@example.com":
            raise LookupFailed("not_found")
        return YUSUF

    async def find_by_name_zip(self, first, last, zip_code, timeout_s):
        self._call("name_zip", first, last, zip_code)
        if (first, last, zip_code) != ("Yusuf", "Rossi", "19122"):
            raise LookupFailed("not_found")
        return YUSUF

    async def get_order(self, order_id, customer_id, timeout_s):
        self._call("get_order", order_id)
        if order_id not in self.orders:
            raise LookupFailed("not_found")
        if self.orders[order_id].user_id != customer_id:
            raise LookupFailed("permission_denied")
        return self.orders[order_id]

    async def list_orders(self, customer_id, timeout_s):
        self._call("list_orders", customer_id)
        return [order(f"#W{i}") for i in range(1, self.listed + 1)]


def budget() -> float:
    return 1.0


async def test_email_verification_then_named_orders_with_errors_mapped():
    commerce = FakeCommerce()
    who = Identity(email="yusuf.rossi7301@example.com", order_ids=("#W2378156", "#W1", "#W9"))
    result = await look_up(commerce, who, about_orders=True, remaining=budget)
    assert (result.customer_id, result.customer_name) == ("yusuf_rossi_9620", "Yusuf Rossi")
    assert [o.order_id for o in result.orders] == ["#W2378156"]
    assert result.errors == ["order #W1: belongs to another customer", "order #W9: not found"]
    assert not result.commerce_unavailable


async def test_name_and_zip_is_tried_when_the_email_is_unknown():
    commerce = FakeCommerce()
    who = Identity(email="other@example.com", first_name="Yusuf", last_name="Rossi", zip_code="19122")
    result = await look_up(commerce, who, about_orders=False, remaining=budget)
    assert result.customer_id == "yusuf_rossi_9620"
    assert [c[0] for c in commerce.calls] == ["email", "name_zip"]
    assert result.errors == ["customer by email: not found"]


async def test_all_orders_with_their_items_are_listed_newest_first_when_none_is_named():
    result = await look_up(FakeCommerce(), Identity(email="yusuf.rossi7301@example.com"), True, budget)
    assert [o.order_id for o in result.orders] == ["#W5", "#W4", "#W3", "#W2", "#W1"]
    assert all(o.item_names == ["Keyboard"] for o in result.orders)


async def test_listed_orders_are_bounded_to_the_newest():
    commerce = FakeCommerce(listed=MAX_LISTED_ORDERS + 5)
    result = await look_up(commerce, Identity(email="yusuf.rossi7301@example.com"), True, budget)
    assert len(result.orders) == MAX_LISTED_ORDERS
    assert result.orders[0].order_id == f"#W{MAX_LISTED_ORDERS + 5}" and result.orders[-1].order_id == "#W6"


async def test_orders_are_not_fetched_for_an_unverified_customer():
    commerce = FakeCommerce()
    result = await look_up(commerce, Identity(order_ids=("#W2378156",)), True, budget)
    assert result.customer_id == "" and result.orders == []
    assert result.errors == ["orders: customer not verified"]
    assert commerce.calls == []


async def test_unavailable_commerce_is_flagged_and_stops_further_calls():
    commerce = FakeCommerce(fail={"email": LookupFailed("unavailable", "connection refused")})
    who = Identity(email="yusuf.rossi7301@example.com", first_name="Yusuf", last_name="Rossi",
                   zip_code="19122", order_ids=("#W2378156",))
    result = await look_up(commerce, who, True, budget)
    assert result.commerce_unavailable
    assert result.errors == ["customer by email: commerce unavailable"]
    assert [c[0] for c in commerce.calls] == ["email"]


async def test_deadline_exceeded_on_an_order_is_reported():
    commerce = FakeCommerce(fail={"get_order": LookupFailed("timeout")})
    who = Identity(email="yusuf.rossi7301@example.com", order_ids=("#W2378156", "#W1"))
    result = await look_up(commerce, who, True, budget)
    assert result.errors == ["order #W2378156: timed out"]
    assert result.commerce_unavailable


def test_identity_prefers_ticket_fields_and_normalizes_order_ids():
    who = identity("", "Yusuf  Rossi", "", [("email", "y@example.com"), ("zip", "19122"),
                                             ("order_id", "w2378156"), ("order_id", "#W2378156")])
    assert who == Identity("y@example.com", "Yusuf", "Rossi", "19122", ("#W2378156",))
    assert identity("not-an-email", "Cher", "", []).email == ""
    assert identity("", "Cher", "", []).first_name == ""


class FakeKb:
    def __init__(self, hits=None, error: Exception | None = None) -> None:
        self.hits, self.error, self.bodies, self.timeouts = hits or [], error, [], []

    async def search(self, body, timeout_s):
        self.bodies.append(body)
        self.timeouts.append(timeout_s)
        if self.error:
            raise self.error
        return self.hits


def envelope(category="ORDER", body="Where is order #W2378156?", **customer) -> Envelope:
    env = Envelope(ticket=Ticket(ticket_id="T-1", conversation_id="C-1", subject="Order", body=body,
                                 customer=Customer(**customer)),
                   deadline_unix_ms=int(time.time() * 1000) + 3000)
    env.classification.category = category
    env.classification.entities.append(Entity(type="order_id", value="#W2378156"))
    return env


async def test_handler_fills_retrieval_and_labels_the_hop():
    kb = FakeKb(hits=[{"id": "help:cancellations", "title": "Cancel", "url": "u", "description": "d",
                       "resolution": "- one", "_score": 2.0}])
    hop = HopRecord()
    env = envelope(email="yusuf.rossi7301@example.com")
    result = await RetrieverHandler(kb, FakeCommerce())(env, hop)
    assert isinstance(result, Forward)
    r = result.envelope.retrieval
    assert [a.id for a in r.articles] == ["help:cancellations"] and list(r.articles[0].steps) == ["one"]
    assert r.customer_id == "yusuf_rossi_9620" and [o.order_id for o in r.orders] == ["#W2378156"]
    assert list(r.orders[0].tracking_ids) == ["843053632392"]
    # The customer's own payment methods, address and each order's payment history, as the customer reads them.
    assert [m.description for m in r.payment_methods] == ["Mastercard credit card ending in 2478",
                                                          "gift card (balance $20.00)"]
    assert r.default_address.endswith("PA 19122, USA")
    assert [(p.transaction_type, p.amount, p.payment_method) for p in r.orders[0].payments] == [
        ("payment", 12.5, "Mastercard credit card ending in 2478"), ("refund", 2.5, "gift card")]
    assert hop.labels["retriever.articles"] == "1" and hop.labels["retriever.top_article"] == "help:cancellations"
    assert kb.bodies[0]["query"]["bool"]["filter"] == [{"term": {"product_area": "store-help"}}]
    assert 0 < kb.timeouts[0] <= 3.0


async def test_handler_degrades_when_kb_and_commerce_are_down():
    kb = FakeKb(error=KbUnavailable("ConnectionError"))
    commerce = FakeCommerce(fail={"email": LookupFailed("unavailable")})
    env = envelope(category="TECHNICAL", body="Outlook error 0x80070005", email="yusuf.rossi7301@example.com")
    result = await RetrieverHandler(kb, commerce)(env, HopRecord())
    assert list(result.envelope.degradations) == ["kb_unavailable", "commerce_unavailable"]
    assert list(result.envelope.retrieval.articles) == []
    assert list(result.envelope.retrieval.lookup_errors) == ["customer by email: commerce unavailable"]


def test_a_payment_method_unknown_to_the_profile_is_named_by_its_kind():
    assert payment_method_text({}, "gift_card_1725971") == "gift card"
    assert payment_method_text({}, "paypal_5727330") == "PayPal account"
    assert payment_method_text({"credit_card_1": "Visa credit card ending in 1111"}, "credit_card_1") == \
        "Visa credit card ending in 1111"
