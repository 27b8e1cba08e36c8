"""The store's data model: immutable customers, orders and products, with money in integer cents."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal


def to_cents(amount: float | int | str) -> int:
    """Dollars (as found in the seed data) to integer cents, so sums and comparisons are exact."""
    return int((Decimal(str(amount)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def to_dollars(cents: int) -> float:
    """Integer cents back to the dollars the API speaks."""
    return cents / 100


@dataclass(frozen=True, slots=True)
class Address:
    address1: str
    address2: str
    city: str
    state: str
    country: str
    zip: str


@dataclass(frozen=True, slots=True)
class PaymentMethod:
    id: str
    source: str  # credit_card | paypal | gift_card
    brand: str = ""
    last_four: str = ""
    balance_cents: int | None = None  # gift cards only


@dataclass(frozen=True, slots=True)
class Customer:
    customer_id: str
    first_name: str
    last_name: str
    email: str
    address: Address
    payment_methods: tuple[PaymentMethod, ...] = ()
    order_ids: tuple[str, ...] = ()  # in the order the customer placed them


@dataclass(frozen=True, slots=True)
class OrderItem:
    name: str
    product_id: str
    item_id: str
    price_cents: int
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Fulfillment:
    tracking_ids: tuple[str, ...]
    item_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Payment:
    transaction_type: str  # payment | refund
    amount_cents: int
    payment_method_id: str


@dataclass(frozen=True, slots=True)
class Order:
    order_id: str
    customer_id: str
    status: str
    address: Address
    items: tuple[OrderItem, ...] = ()
    fulfillments: tuple[Fulfillment, ...] = ()
    payments: tuple[Payment, ...] = ()
    # What the writes record about themselves (empty until one happens).
    cancel_reason: str = ""
    return_item_ids: tuple[str, ...] = ()
    return_payment_method_id: str = ""
    exchange_item_ids: tuple[str, ...] = ()
    exchange_new_item_ids: tuple[str, ...] = ()
    exchange_payment_method_id: str = ""
    exchange_price_diff_cents: int = 0

    @property
    def total_cents(self) -> int:
        """The order total is the sum of its item prices.

        Shipping, tax and refunds are not part of it: refunds live in the payment history, and in the
        seed data every order's payment equals this sum exactly.
        """
        return sum(item.price_cents for item in self.items)

    @property
    def tracking_ids(self) -> tuple[str, ...]:
        """Every tracking id across the order's fulfillments, in shipment order, without repeats."""
        return tuple(dict.fromkeys(t for f in self.fulfillments for t in f.tracking_ids))


@dataclass(frozen=True, slots=True)
class Variant:
    item_id: str
    product_id: str
    options: Mapping[str, str]
    available: bool
    price_cents: int


@dataclass(frozen=True, slots=True)
class Product:
    product_id: str
    name: str
    variants: tuple[Variant, ...] = ()


@dataclass(frozen=True, slots=True)
class Case:
    case_id: str
    status: str  # open | pending_approval | closed
    reason: str
    priority: str
    summary: str
    ticket_id: str = ""
    trace_id: str = ""
    customer_id: str = ""
    order_id: str = ""
    amount_cents: int = 0
    created_by: str = ""
    created_at: str = ""
    payment_method_id: str = ""   # a pending refund: the method the policy chose for it
    approved_by: str = ""         # the human agent who approved the pending action
    approved_at: str = ""


@dataclass(frozen=True, slots=True)
class Tracking:
    order_id: str
    status: str
    tracking_ids: tuple[str, ...]
