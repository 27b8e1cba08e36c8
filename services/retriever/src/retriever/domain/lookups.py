"""The customer and order lookup flow: verify who is writing, then fetch the orders they name.

Commerce calls go through the `Commerce` protocol; its adapter turns transport failures into
`LookupFailed`, so this module never imports gRPC and never lets a lookup crash the stage.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

# A verified customer's orders handed on when the ticket names none: enough for the analyst to tell the
# order by the items it holds (the store's customers have a handful), bounded so an envelope stays small.
MAX_LISTED_ORDERS = 20
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
METHOD_KINDS = {"credit_card": "credit card", "paypal": "PayPal account", "gift_card": "gift card"}


class LookupFailed(Exception):
    """A commerce call that did not return: kind is not_found, permission_denied, unavailable or timeout."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class Payment:
    """One line of an order's payment history, its method as the customer reads it."""

    transaction_type: str   # payment | refund
    amount: float
    method: str


@dataclass(frozen=True)
class PaymentMethod:
    id: str
    description: str


@dataclass(frozen=True)
class CustomerRef:
    customer_id: str
    first_name: str
    last_name: str
    payment_methods: tuple[PaymentMethod, ...] = ()
    address: str = ""

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True)
class OrderRef:
    order_id: str
    status: str
    tracking_ids: list[str]
    item_names: list[str]
    total: float
    user_id: str
    payments: tuple[Payment, ...] = ()


class Commerce(Protocol):
    """The commerce lookups the retriever needs; every call is bounded by `timeout_s` seconds."""

    async def find_by_email(self, email: str, timeout_s: float) -> CustomerRef: ...
    async def find_by_name_zip(self, first: str, last: str, zip_code: str,
                               timeout_s: float) -> CustomerRef: ...
    async def get_order(self, order_id: str, customer_id: str, timeout_s: float) -> OrderRef: ...
    async def list_orders(self, customer_id: str, timeout_s: float) -> list[OrderRef]: ...


@dataclass(frozen=True)
class Identity:
    """What the ticket tells us about who wrote it and which orders it names."""

    email: str = ""
    first_name: str = ""
    last_name: str = ""
    zip_code: str = ""
    order_ids: tuple[str, ...] = ()


@dataclass
class LookupResult:
    customer_id: str = ""
    customer_name: str = ""
    payment_methods: tuple[PaymentMethod, ...] = ()
    address: str = ""
    orders: list[OrderRef] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    commerce_unavailable: bool = False


_MESSAGES = {"not_found": "not found", "permission_denied": "belongs to another customer",
             "unavailable": "commerce unavailable", "timeout": "timed out"}


def describe(subject: str, failure: LookupFailed) -> str:
    """A short, log- and human-readable line for lookup_errors, e.g. 'order #W123: not found'."""
    return f"{subject}: {_MESSAGES.get(failure.kind, failure.kind)}"


def normalize_order_id(raw: str) -> str:
    """Order ids as the store writes them: '#W' and digits ('w2378156' → '#W2378156')."""
    value = raw.strip().lstrip("#").upper()
    return f"#{value}" if value else ""


def split_name(full_name: str) -> tuple[str, str]:
    """First and last name from a full name: the first word, and the last word."""
    parts = full_name.split()
    if len(parts) < 2:
        return "", ""
    return parts[0], parts[-1]


def identity(email: str, name: str, zip_code: str, entities: list[tuple[str, str]]) -> Identity:
    """The ticket's identity, ticket.customer fields first, then the classifier's entities."""
    by_type: dict[str, list[str]] = {}
    for kind, value in entities:
        if value.strip():
            by_type.setdefault(kind, []).append(value.strip())
    email = email.strip() or next(iter(by_type.get("email", [])), "")
    first, last = split_name(name or next(iter(by_type.get("name", [])), ""))
    zip_code = zip_code.strip() or next(iter(by_type.get("zip", [])), "")
    orders = tuple(dict.fromkeys(filter(None, map(normalize_order_id, by_type.get("order_id", [])))))
    return Identity(email=email if _EMAIL.match(email) else "", first_name=first, last_name=last,
                    zip_code=zip_code, order_ids=orders)


async def look_up(commerce: Commerce, who: Identity, about_orders: bool,
                  remaining: Callable[[], float]) -> LookupResult:
    """Verify the customer (e-mail first, then name + zip) and fetch their orders.

    Orders are only fetched for a verified customer: the store shows an order to its owner only.
    `remaining()` gives the seconds left of the ticket's budget, the timeout of each call; once
    commerce is unreachable the remaining calls are skipped rather than each waiting it out.
    """
    result = LookupResult()
    customer = await _verify(commerce, who, remaining, result)
    if customer is None:
        if who.order_ids and not result.commerce_unavailable:
            result.errors.append("orders: customer not verified")
        return result
    result.customer_id, result.customer_name = customer.customer_id, customer.name
    result.payment_methods, result.address = customer.payment_methods, customer.address
    for order_id in who.order_ids:
        if result.commerce_unavailable:
            break
        try:
            result.orders.append(await commerce.get_order(order_id, customer.customer_id, remaining()))
        except LookupFailed as exc:
            _record(result, f"order {order_id}", exc)
    if not who.order_ids and about_orders:
        # "My order" without an id: the analyst tells which one from the items the ticket names, so every
        # order goes along with its item names. The store lists orders as placed; newest first here.
        try:
            orders = await commerce.list_orders(customer.customer_id, remaining())
            result.orders.extend(reversed(orders[-MAX_LISTED_ORDERS:]))
        except LookupFailed as exc:
            _record(result, "orders", exc)
    return result


async def _verify(commerce: Commerce, who: Identity, remaining: Callable[[], float],
                  result: LookupResult) -> CustomerRef | None:
    if who.email:
        try:
            return await commerce.find_by_email(who.email, remaining())
        except LookupFailed as exc:
            _record(result, "customer by email", exc)
            if result.commerce_unavailable:
                return None
    if who.first_name and who.zip_code:
        try:
            return await commerce.find_by_name_zip(who.first_name, who.last_name, who.zip_code,
                                                   remaining())
        except LookupFailed as exc:
            _record(result, "customer by name and zip", exc)
    return None


def _record(result: LookupResult, subject: str, failure: LookupFailed) -> None:
    result.errors.append(describe(subject, failure))
    if failure.kind in ("unavailable", "timeout"):
        result.commerce_unavailable = True


def payment_method_text(profile: dict[str, str], method_id: str) -> str:
    """How the customer knows the method an order names: their profile's description, else its kind
    from the id ("gift_card_1725971" → "gift card"). A gift card's balance is today's, not the order's."""
    source = method_id.rsplit("_", 1)[0] if method_id[-1:].isdigit() else method_id
    text = profile.get(method_id) or METHOD_KINDS.get(source, source.replace("_", " "))
    return text.split(" (balance", 1)[0]
