"""Turns the retail seed document (db.json: users, orders, products) into domain objects, checking it."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .model import (
    Address,
    Customer,
    Fulfillment,
    Order,
    OrderItem,
    Payment,
    PaymentMethod,
    Product,
    Variant,
    to_cents,
)


class BadSeed(ValueError):
    """The seed document is not what the store expects; the message names the offending record."""


@dataclass(frozen=True, slots=True)
class SeedData:
    customers: tuple[Customer, ...]
    orders: tuple[Order, ...]
    products: tuple[Product, ...]


def parse_seed(doc: Mapping[str, Any]) -> SeedData:
    """Validate and convert the whole document; raises BadSeed on the first inconsistent record."""
    try:
        products = tuple(_product(pid, p) for pid, p in doc["products"].items())
        customers = tuple(_customer(uid, u) for uid, u in doc["users"].items())
        orders = tuple(_order(oid, o) for oid, o in doc["orders"].items())
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, BadSeed):
            raise
        raise BadSeed(f"malformed seed document: {type(exc).__name__}: {exc}") from exc
    known = {c.customer_id for c in customers}
    for order in orders:
        if order.customer_id not in known:
            raise BadSeed(f"order {order.order_id} belongs to unknown user {order.customer_id}")
    return SeedData(customers=customers, orders=orders, products=products)


def _address(raw: Mapping[str, Any]) -> Address:
    return Address(
        address1=raw["address1"], address2=raw.get("address2", ""), city=raw["city"],
        state=raw["state"], country=raw["country"], zip=str(raw["zip"]),
    )


def _customer(user_id: str, raw: Mapping[str, Any]) -> Customer:
    if raw.get("user_id", user_id) != user_id:
        raise BadSeed(f"user key {user_id} does not match its user_id {raw['user_id']}")
    methods = tuple(
        PaymentMethod(
            id=pm_id, source=pm["source"], brand=pm.get("brand", ""), last_four=pm.get("last_four", ""),
            balance_cents=to_cents(pm["balance"]) if "balance" in pm else None,
        )
        for pm_id, pm in raw["payment_methods"].items()
    )
    return Customer(
        customer_id=user_id, first_name=raw["name"]["first_name"], last_name=raw["name"]["last_name"],
        email=raw["email"], address=_address(raw["address"]), payment_methods=methods,
        order_ids=tuple(raw.get("orders", ())),
    )


def _order(order_id: str, raw: Mapping[str, Any]) -> Order:
    if raw.get("order_id", order_id) != order_id:
        raise BadSeed(f"order key {order_id} does not match its order_id {raw['order_id']}")
    items = tuple(
        OrderItem(
            name=i["name"], product_id=i["product_id"], item_id=i["item_id"],
            price_cents=to_cents(i["price"]),
            options={str(k): str(v) for k, v in i.get("options", {}).items()},
        )
        for i in raw["items"]
    )
    fulfillments = tuple(
        Fulfillment(tracking_ids=tuple(f.get("tracking_id", ())), item_ids=tuple(f.get("item_ids", ())))
        for f in raw.get("fulfillments", ())
    )
    payments = tuple(
        Payment(transaction_type=p["transaction_type"], amount_cents=to_cents(p["amount"]),
                payment_method_id=p["payment_method_id"])
        for p in raw.get("payment_history", ())
    )
    return Order(
        order_id=order_id, customer_id=raw["user_id"], status=raw["status"], address=_address(raw["address"]),
        items=items, fulfillments=fulfillments, payments=payments,
    )


def _product(product_id: str, raw: Mapping[str, Any]) -> Product:
    variants = tuple(
        Variant(
            item_id=item_id, product_id=product_id, options={str(k): str(x) for k, x in v["options"].items()},
            available=bool(v["available"]), price_cents=to_cents(v["price"]),
        )
        for item_id, v in raw["variants"].items()
    )
    return Product(product_id=product_id, name=raw["name"], variants=variants)
