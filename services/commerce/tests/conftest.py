"""Fixtures for the commerce tests: a tiny hand-written seed document and the real seed file's path."""

import pathlib

import pytest
from commerce.adapters.seed_file import SeedFile, load_seed

REAL_SEED = pathlib.Path(__file__).resolve().parents[3] / "data" / "retail" / "db.json.gz"


@pytest.fixture(scope="session")
def real_seed() -> SeedFile:
    """The bundled retail database (500 users, 1,000 orders, 50 products), parsed once."""
    return load_seed(REAL_SEED)


def _address(zip_code: str) -> dict:
    return {"address1": "1 Main St", "address2": "", "city": "Springfield", "state": "IL",
            "country": "USA", "zip": zip_code}


@pytest.fixture
def tiny_seed() -> dict:
    """Two customers (one with a gift card), three orders (one with a repeated item), one product."""
    return {
        "products": {"100": {"name": "Lamp", "product_id": "100", "variants": {
            "1001": {"item_id": "1001", "options": {"color": "red"}, "available": True, "price": 10.1},
            "1002": {"item_id": "1002", "options": {"color": "blue"}, "available": False, "price": 20.2}}}},
        "users": {
            "ana_lima_1": {"user_id": "ana_lima_1", "name": {"first_name": "Ana", "last_name": "Lima"},
                           "address": _address("10001"), "email": "Ana.Lima@Example.com",
                           "payment_methods": {
                               "gift_card_1": {"source": "gift_card", "id": "gift_card_1", "balance": 51.1},
                               "credit_card_1": {"source": "credit_card", "id": "credit_card_1",
                                                 "brand": "visa", "last_four": "4242"}},
                           "orders": ["#W0000002", "#W0000001"]},
            "bo_chen_2": {"user_id": "bo_chen_2", "name": {"first_name": "Bo", "last_name": "Chen"},
                          "address": _address("20002"), "email": "bo@example.com",
                          "payment_methods": {"paypal_2": {"source": "paypal", "id": "paypal_2"}},
                          "orders": ["#W0000003"]},
        },
        "orders": {
            "#W0000001": {"order_id": "#W0000001", "user_id": "ana_lima_1", "address": _address("10001"),
                          "status": "delivered",
                          "items": [
                              {"name": "Lamp", "product_id": "100", "item_id": "1001", "price": 10.1,
                               "options": {"color": "red"}},
                              {"name": "Lamp", "product_id": "100", "item_id": "1001", "price": 10.1,
                               "options": {"color": "red"}},
                              {"name": "Lamp", "product_id": "100", "item_id": "1002", "price": 20.2,
                               "options": {"color": "blue"}}],
                          "fulfillments": [{"tracking_id": ["111"], "item_ids": ["1001", "1001"]},
                                           {"tracking_id": ["222"], "item_ids": ["1002"]}],
                          "payment_history": [{"transaction_type": "payment", "amount": 40.4,
                                               "payment_method_id": "gift_card_1"}]},
            "#W0000002": {"order_id": "#W0000002", "user_id": "ana_lima_1", "address": _address("10001"),
                          "status": "pending",
                          "items": [{"name": "Lamp", "product_id": "100", "item_id": "1002", "price": 20.2,
                                     "options": {"color": "blue"}}],
                          "fulfillments": [], "payment_history": [
                              {"transaction_type": "payment", "amount": 20.2,
                               "payment_method_id": "credit_card_1"}]},
            "#W0000003": {"order_id": "#W0000003", "user_id": "bo_chen_2", "address": _address("20002"),
                          "status": "cancelled",
                          "items": [{"name": "Lamp", "product_id": "100", "item_id": "1001", "price": 10.1,
                                     "options": {"color": "red"}}],
                          "fulfillments": [], "payment_history": [
                              {"transaction_type": "payment", "amount": 10.1,
                               "payment_method_id": "paypal_2"},
                              {"transaction_type": "refund", "amount": 10.1,
                               "payment_method_id": "paypal_2"}]},
        },
    }
