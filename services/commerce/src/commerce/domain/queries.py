"""The read side of the store: validates requests, looks them up and enforces who may see an order."""

from typing import Protocol

from . import ids
from .errors import Ambiguous, InvalidArgument, NotFound, PermissionDenied
from .model import Case, Customer, Order, Product, Tracking


class StoreReader(Protocol):
    """The lookups the queries need from a store (SQLite in production, a fake in unit tests)."""

    def customer(self, customer_id: str) -> Customer | None: ...

    def customers_by_email_key(self, email_key: str) -> list[Customer]: ...

    def customers_by_name_zip(self, first_key: str, last_key: str, zip_code: str) -> list[Customer]: ...

    def order(self, order_id: str) -> Order | None: ...

    def orders_of(self, customer_id: str) -> list[Order]: ...

    def product(self, product_id: str) -> Product | None: ...

    def products(self) -> list[Product]: ...

    def case(self, case_id: str) -> Case | None: ...

    def audit(self, ticket_id: str = "", idempotency_key: str = "", order_id: str = "", customer_id: str = "",
              limit: int = 100) -> list: ...


class CommerceQueries:
    """Customer, order and tracking lookups with the store's rules; raises CommerceError subclasses."""

    def __init__(self, store: StoreReader) -> None:
        self._store = store

    def find_customer_by_email(self, email: str) -> Customer:
        return _one(self._store.customers_by_email_key(ids.email_key(email)), "no customer with that email")

    def find_customer_by_name_zip(self, first_name: str, last_name: str, zip_code: str) -> Customer:
        first, last = ids.name_key(first_name, "first_name"), ids.name_key(last_name, "last_name")
        matches = self._store.customers_by_name_zip(first, last, ids.zip_code(zip_code))
        return _one(matches, "no customer with that name and zip")

    def get_customer(self, customer_id: str) -> Customer:
        cid = ids.customer_id(customer_id)
        customer = self._store.customer(cid)
        if customer is None:
            raise NotFound(f"customer {cid} not found")
        return customer

    def get_order(self, order_id: str, customer_id: str) -> Order:
        """The order, for its owner only: unknown is NotFound, someone else's is PermissionDenied."""
        oid, cid = ids.order_id(order_id), ids.customer_id(customer_id)
        order = self._store.order(oid)
        if order is None:
            raise NotFound(f"order {oid} not found")
        if order.customer_id != cid:
            raise PermissionDenied(f"order {oid} does not belong to customer {cid}")
        return order

    def list_orders(self, customer_id: str) -> list[Order]:
        """The customer's orders in the order they were placed; NOT_FOUND for an unknown customer."""
        cid = self.get_customer(customer_id).customer_id
        return self._store.orders_of(cid)

    def get_tracking(self, order_id: str, customer_id: str) -> Tracking:
        order = self.get_order(order_id, customer_id)
        return Tracking(order_id=order.order_id, status=order.status, tracking_ids=order.tracking_ids)


    def get_product(self, product_id: str) -> Product:
        pid = product_id.strip()
        if not pid:
            raise InvalidArgument("product_id is required")
        product = self._store.product(pid)
        if product is None:
            raise NotFound(f"product {pid[:40]} not found")
        return product

    def list_products(self) -> list[Product]:
        return self._store.products()

    def get_case(self, case_id: str) -> Case:
        cid = case_id.strip()
        if not cid:
            raise InvalidArgument("case_id is required")
        case = self._store.case(cid)
        if case is None:
            raise NotFound(f"case {cid[:40]} not found")
        return case

    def list_audit(self, ticket_id: str, idempotency_key: str, order_id: str, customer_id: str,
                   limit: int) -> list:
        return self._store.audit(ticket_id, idempotency_key, order_id, customer_id, limit)


def _one(matches: list[Customer], missing: str) -> Customer:
    if not matches:
        raise NotFound(missing)
    if len(matches) > 1:
        # Guessing would show one customer's account to another; the caller must ask for more.
        raise Ambiguous(f"{len(matches)} customers match; identify the customer by email or customer id")
    return matches[0]
