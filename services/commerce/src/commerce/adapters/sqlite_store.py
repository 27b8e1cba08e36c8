"""The store on an embedded SQLite file: schema migrations, one-transaction seeding, and the lookups.

Concurrency: the connection is opened in autocommit mode and every write goes through `transaction()`
(BEGIN IMMEDIATE), which takes SQLite's write lock up front: one writer at a time across every process
using the file, so an idempotency check and the write it guards can never interleave with another's.
WAL mode lets readers (the lookups, other processes, a backup) read while a write is in progress, and
synchronous=FULL makes an acknowledged write survive a crash or power loss.
"""

import contextlib
import dataclasses
import datetime
import json
import pathlib
import sqlite3
from collections.abc import Iterator

from ..domain.ids import fold_email, fold_name
from ..domain.model import (
    Address,
    Case,
    Customer,
    Fulfillment,
    Order,
    OrderItem,
    Payment,
    PaymentMethod,
    Product,
    Variant,
)
from ..domain.seed import SeedData
from .migrations import MIGRATIONS

_TABLES_IN_DROP_ORDER = (
    "idempotency", "audit", "cases", "payments", "fulfillment_items", "fulfillment_tracking", "fulfillments",
    "order_items", "orders",
    "payment_methods", "customers", "variants", "products", "store_meta", "schema_version",
)
_ADDRESS = "address1, address2, city, state, country, zip"
_ORDER_EXTRAS = ("cancel_reason, return_item_ids, return_payment_method_id, exchange_item_ids, "
                 "exchange_new_item_ids, exchange_payment_method_id, exchange_price_diff_cents")
_CASE_COLUMNS = ("case_id, status, reason, priority, summary, ticket_id, trace_id, customer_id, order_id, "
                 "amount_cents, created_by, created_at, payment_method_id, approved_by, approved_at")
_AUDIT_COLUMNS = ("audit_id, at, caller, rpc, ticket_id, trace_id, idempotency_key, outcome, detail, order_id, "
                  "customer_id, request_json, before_json, after_json")


@dataclasses.dataclass(frozen=True, slots=True)
class StoredAnswer:
    """The first answer given for an idempotency key."""

    rpc: str
    fingerprint: str
    status_code: str
    details: str
    response: bytes
    case_id: str


@dataclasses.dataclass(frozen=True, slots=True)
class AuditRow:
    audit_id: int
    at: str
    caller: str
    rpc: str
    ticket_id: str
    trace_id: str
    idempotency_key: str
    outcome: str
    detail: str
    order_id: str
    customer_id: str
    request_json: str
    before_json: str
    after_json: str


class SqliteStore:
    """Customers, orders and products in one SQLite database file."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    @classmethod
    def open(cls, path: pathlib.Path) -> "SqliteStore":
        """Open (creating if needed) and migrate the database at `path`."""
        path.parent.mkdir(parents=True, exist_ok=True)
        # The connection may be opened in a worker thread at start-up and used on the event loop after;
        # it is never used by two threads at once, which is what check_same_thread guards against.
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=5000")
        store = cls(conn)
        store.migrate()
        return store

    def close(self) -> None:
        self._conn.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit of work: committed on success, rolled back on any exception."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    # --- schema -----------------------------------------------------------------------------------

    def schema_version(self) -> int:
        self._conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                           "applied_at TEXT NOT NULL)")
        return self._conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]

    def migrate(self) -> int:
        """Apply the migrations not yet applied, each in its own transaction; returns the schema version."""
        current = self.schema_version()
        if current > len(MIGRATIONS):
            raise RuntimeError(f"database schema version {current} is newer than this code "
                               f"({len(MIGRATIONS)}); refusing to run an older release against it")
        for version, script in enumerate(MIGRATIONS[current:], start=current + 1):
            # executescript runs statements one by one; the explicit BEGIN makes the script and its
            # version row one transaction, so a failed migration leaves no half-built schema.
            try:
                self._conn.executescript(
                    f"BEGIN IMMEDIATE;\n{script}\nINSERT INTO schema_version (version, applied_at) "
                    f"VALUES ({version}, '{_now()}');\nCOMMIT;")
            except sqlite3.Error:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
        return len(MIGRATIONS)

    def drop_all(self) -> None:
        """Remove every table this store created (data and schema)."""
        self._conn.execute("PRAGMA foreign_keys=OFF")
        try:
            with self.transaction() as conn:
                for table in _TABLES_IN_DROP_ORDER:
                    conn.execute(f"DROP TABLE IF EXISTS {table}")
        finally:
            self._conn.execute("PRAGMA foreign_keys=ON")

    # --- seeding ----------------------------------------------------------------------------------

    def is_seeded(self) -> bool:
        return self._conn.execute("SELECT 1 FROM store_meta WHERE key = 'seeded_at'").fetchone() is not None

    def seed(self, data: SeedData, source: str, sha256: str) -> bool:
        """Load the seed in one transaction unless the store was seeded before; True when it loaded.

        A seeded store is never reseeded: later writes (cancellations, refunds) must survive restarts.
        """
        with self.transaction() as conn:
            if self.is_seeded():
                return False
            _insert_seed(conn, data)
            conn.executemany("INSERT INTO store_meta (key, value) VALUES (?, ?)", [
                ("seeded_at", _now()), ("seed_source", source), ("seed_sha256", sha256)])
        return True

    def meta(self) -> dict[str, str]:
        return {row["key"]: row["value"] for row in self._conn.execute("SELECT key, value FROM store_meta")}

    def counts(self) -> dict[str, int]:
        """Rows per table, for start-up logs and the reset command."""
        return {t: self._conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("customers", "payment_methods", "orders", "order_items", "fulfillments",
                          "payments", "products", "variants", "cases", "audit", "idempotency")}

    # --- lookups ----------------------------------------------------------------------------------

    def customer(self, customer_id: str) -> Customer | None:
        found = self._customers("customer_id = ?", (customer_id,))
        return found[0] if found else None

    def customers_by_email_key(self, email_key: str) -> list[Customer]:
        return self._customers("email_key = ?", (email_key,))

    def customers_by_name_zip(self, first_key: str, last_key: str, zip_code: str) -> list[Customer]:
        return self._customers("last_name_key = ? AND first_name_key = ? AND zip = ?",
                               (last_key, first_key, zip_code))

    def order(self, order_id: str) -> Order | None:
        found = self._orders("order_id = ?", (order_id,))
        return found[0] if found else None

    def orders_of(self, customer_id: str) -> list[Order]:
        return self._orders("customer_id = ?", (customer_id,))

    def _customers(self, where: str, params: tuple) -> list[Customer]:
        rows = self._conn.execute(
            f"SELECT customer_id, first_name, last_name, email, {_ADDRESS} FROM customers WHERE {where} "
            "ORDER BY customer_id", params).fetchall()
        customers = []
        for row in rows:
            cid = row["customer_id"]
            methods = tuple(
                PaymentMethod(id=m["payment_method_id"], source=m["source"], brand=m["brand"],
                              last_four=m["last_four"], balance_cents=m["balance_cents"])
                for m in self._conn.execute(
                    "SELECT payment_method_id, source, brand, last_four, balance_cents FROM payment_methods "
                    "WHERE customer_id = ? ORDER BY position", (cid,)))
            order_ids = tuple(r[0] for r in self._conn.execute(
                "SELECT order_id FROM orders WHERE customer_id = ? ORDER BY position", (cid,)))
            customers.append(Customer(
                customer_id=cid, first_name=row["first_name"], last_name=row["last_name"], email=row["email"],
                address=_address(row), payment_methods=methods, order_ids=order_ids))
        return customers

    def _orders(self, where: str, params: tuple) -> list[Order]:
        """Orders matching `where` (on the orders table) with their lines, shipments and payments.

        Four queries whatever the number of orders, so ListOrders does not grow into N+1 round trips.
        """
        rows = self._conn.execute(
            f"SELECT order_id, customer_id, status, {_ADDRESS}, {_ORDER_EXTRAS} FROM orders WHERE {where} "
            "ORDER BY position", params).fetchall()
        if not rows:
            return []
        scope = f"SELECT order_id FROM orders WHERE {where}"
        items: dict[str, list[OrderItem]] = {}
        for r in self._conn.execute(
                f"SELECT order_id, item_id, product_id, name, price_cents, options FROM order_items "
                f"WHERE order_id IN ({scope}) ORDER BY order_id, line_no", params):
            items.setdefault(r["order_id"], []).append(OrderItem(
                name=r["name"], product_id=r["product_id"], item_id=r["item_id"],
                price_cents=r["price_cents"], options=json.loads(r["options"])))
        fulfillments: dict[str, list[Fulfillment]] = {}
        for r in self._conn.execute(
                "SELECT f.order_id, "
                "  (SELECT json_group_array(tracking_id) FROM (SELECT tracking_id "
                "   FROM fulfillment_tracking t WHERE t.fulfillment_id = f.fulfillment_id ORDER BY position))"
                " AS tracking_ids, "
                "  (SELECT json_group_array(item_id) FROM (SELECT item_id FROM fulfillment_items i "
                "   WHERE i.fulfillment_id = f.fulfillment_id ORDER BY position)) AS item_ids "
                f"FROM fulfillments f WHERE f.order_id IN ({scope}) ORDER BY f.order_id, f.position", params):
            fulfillments.setdefault(r["order_id"], []).append(Fulfillment(
                tracking_ids=tuple(json.loads(r["tracking_ids"])), item_ids=tuple(json.loads(r["item_ids"]))))
        payments: dict[str, list[Payment]] = {}
        for r in self._conn.execute(
                "SELECT order_id, transaction_type, amount_cents, payment_method_id FROM payments "
                f"WHERE order_id IN ({scope}) ORDER BY order_id, position", params):
            payments.setdefault(r["order_id"], []).append(Payment(
                transaction_type=r["transaction_type"], amount_cents=r["amount_cents"],
                payment_method_id=r["payment_method_id"]))
        return [
            Order(order_id=(oid := row["order_id"]), customer_id=row["customer_id"], status=row["status"],
                  address=_address(row), items=tuple(items.get(oid, ())),
                  fulfillments=tuple(fulfillments.get(oid, ())), payments=tuple(payments.get(oid, ())),
                  cancel_reason=row["cancel_reason"], return_item_ids=tuple(json.loads(row["return_item_ids"])),
                  return_payment_method_id=row["return_payment_method_id"],
                  exchange_item_ids=tuple(json.loads(row["exchange_item_ids"])),
                  exchange_new_item_ids=tuple(json.loads(row["exchange_new_item_ids"])),
                  exchange_payment_method_id=row["exchange_payment_method_id"],
                  exchange_price_diff_cents=row["exchange_price_diff_cents"])
            for row in rows
        ]

    # --- catalogue --------------------------------------------------------------------------------

    def variant(self, item_id: str) -> Variant | None:
        row = self._conn.execute("SELECT item_id, product_id, options, available, price_cents FROM variants "
                                 "WHERE item_id = ?", (item_id,)).fetchone()
        return _variant(row) if row else None

    def product(self, product_id: str) -> Product | None:
        row = self._conn.execute("SELECT product_id, name FROM products WHERE product_id = ?",
                                 (product_id,)).fetchone()
        if row is None:
            return None
        variants = tuple(_variant(v) for v in self._conn.execute(
            "SELECT item_id, product_id, options, available, price_cents FROM variants WHERE product_id = ? "
            "ORDER BY item_id", (product_id,)))
        return Product(product_id=row["product_id"], name=row["name"], variants=variants)

    def products(self) -> list[Product]:
        """Every product, without variants, by name."""
        return [Product(product_id=r["product_id"], name=r["name"])
                for r in self._conn.execute("SELECT product_id, name FROM products ORDER BY name, product_id")]

    # --- writes (call inside `transaction()`) -----------------------------------------------------

    def save_order(self, order: Order) -> None:
        """Write an order's changeable state: status, address, lines, payments and what writes recorded."""
        self._conn.execute(
            "UPDATE orders SET status = ?, address1 = ?, address2 = ?, city = ?, state = ?, country = ?, zip = ?, "
            "cancel_reason = ?, return_item_ids = ?, return_payment_method_id = ?, exchange_item_ids = ?, "
            "exchange_new_item_ids = ?, exchange_payment_method_id = ?, exchange_price_diff_cents = ? "
            "WHERE order_id = ?",
            (order.status, *_address_values(order.address), order.cancel_reason,
             json.dumps(list(order.return_item_ids)), order.return_payment_method_id,
             json.dumps(list(order.exchange_item_ids)), json.dumps(list(order.exchange_new_item_ids)),
             order.exchange_payment_method_id, order.exchange_price_diff_cents, order.order_id))
        self._conn.execute("DELETE FROM order_items WHERE order_id = ?", (order.order_id,))
        self._conn.executemany(
            "INSERT INTO order_items (order_id, line_no, item_id, product_id, name, price_cents, options) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(order.order_id, n, i.item_id, i.product_id, i.name, i.price_cents, json.dumps(dict(i.options)))
             for n, i in enumerate(order.items)])
        self._conn.execute("DELETE FROM payments WHERE order_id = ?", (order.order_id,))
        self._conn.executemany(
            "INSERT INTO payments (order_id, position, transaction_type, amount_cents, payment_method_id) "
            "VALUES (?, ?, ?, ?, ?)",
            [(order.order_id, n, p.transaction_type, p.amount_cents, p.payment_method_id)
             for n, p in enumerate(order.payments)])

    def save_customer_address(self, customer: Customer) -> None:
        self._conn.execute(
            "UPDATE customers SET address1 = ?, address2 = ?, city = ?, state = ?, country = ?, zip = ? "
            "WHERE customer_id = ?", (*_address_values(customer.address), customer.customer_id))

    def add_to_balance(self, customer_id: str, payment_method_id: str, cents: int) -> None:
        """Move a gift card's balance; refuses to take it below zero (the policy checked; this is the floor)."""
        updated = self._conn.execute(
            "UPDATE payment_methods SET balance_cents = balance_cents + ? WHERE payment_method_id = ? "
            "AND customer_id = ? AND source = 'gift_card' AND balance_cents + ? >= 0",
            (cents, payment_method_id, customer_id, cents)).rowcount
        if updated != 1:
            raise RuntimeError(f"gift card {payment_method_id} of {customer_id} cannot move by {cents} cents")

    def insert_case(self, case: Case) -> None:
        self._conn.execute(
            f"INSERT INTO cases ({_CASE_COLUMNS}) VALUES ({', '.join('?' * 15)})",
            (case.case_id, case.status, case.reason, case.priority, case.summary, case.ticket_id, case.trace_id,
             case.customer_id, case.order_id, case.amount_cents, case.created_by, case.created_at,
             case.payment_method_id, case.approved_by, case.approved_at))

    def approve_case(self, case_id: str, approved_by: str, at: str) -> None:
        """Close a pending-approval case as approved; refuses a case that is no longer pending (the floor)."""
        updated = self._conn.execute(
            "UPDATE cases SET status = 'closed', approved_by = ?, approved_at = ? WHERE case_id = ? "
            "AND status = 'pending_approval'", (approved_by, at, case_id)).rowcount
        if updated != 1:
            raise RuntimeError(f"case {case_id} is not pending approval")

    def case(self, case_id: str) -> Case | None:
        row = self._conn.execute(f"SELECT {_CASE_COLUMNS} FROM cases WHERE case_id = ?", (case_id,)).fetchone()
        return Case(**dict(row)) if row else None

    def insert_audit(self, row: AuditRow) -> None:
        values = dataclasses.astuple(row)[1:]
        self._conn.execute(
            f"INSERT INTO audit ({_AUDIT_COLUMNS.split(', ', 1)[1]}) VALUES ({', '.join('?' * len(values))})",
            values)

    def audit(self, ticket_id: str = "", idempotency_key: str = "", order_id: str = "", customer_id: str = "",
              limit: int = 100) -> list[AuditRow]:
        """Audit entries matching every non-empty filter, oldest first, the latest `limit` of them."""
        filters = {"ticket_id": ticket_id, "idempotency_key": idempotency_key, "order_id": order_id,
                   "customer_id": customer_id}
        where = " AND ".join(f"{k} = ?" for k, v in filters.items() if v) or "1 = 1"
        params = [v for v in filters.values() if v]
        rows = self._conn.execute(
            f"SELECT {_AUDIT_COLUMNS} FROM audit WHERE {where} ORDER BY audit_id DESC LIMIT ?",
            (*params, limit)).fetchall()
        return [AuditRow(**dict(r)) for r in reversed(rows)]

    def stored_answer(self, caller: str, key: str) -> StoredAnswer | None:
        row = self._conn.execute(
            "SELECT rpc, fingerprint, status_code, details, response, case_id FROM idempotency "
            "WHERE caller = ? AND key = ?", (caller, key)).fetchone()
        return StoredAnswer(**dict(row)) if row else None

    def store_answer(self, caller: str, key: str, answer: StoredAnswer) -> None:
        """Remember the first answer; the primary key makes a second insert for the same key fail loudly."""
        self._conn.execute(
            "INSERT INTO idempotency (caller, key, rpc, fingerprint, status_code, details, response, case_id, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (caller, key, answer.rpc, answer.fingerprint, answer.status_code, answer.details, answer.response,
             answer.case_id, _now()))


def _insert_seed(conn: sqlite3.Connection, data: SeedData) -> None:
    conn.executemany("INSERT INTO products (product_id, name) VALUES (?, ?)",
                     [(p.product_id, p.name) for p in data.products])
    conn.executemany(
        "INSERT INTO variants (item_id, product_id, options, available, price_cents) VALUES (?, ?, ?, ?, ?)",
        [(v.item_id, v.product_id, json.dumps(dict(v.options)), int(v.available), v.price_cents)
         for p in data.products for v in p.variants])
    conn.executemany(
        f"INSERT INTO customers (customer_id, first_name, last_name, email, email_key, first_name_key, "
        f"last_name_key, {_ADDRESS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(c.customer_id, c.first_name, c.last_name, c.email, fold_email(c.email),
          fold_name(c.first_name), fold_name(c.last_name), *_address_values(c.address))
         for c in data.customers])
    conn.executemany(
        "INSERT INTO payment_methods (payment_method_id, customer_id, position, source, brand, last_four, "
        "balance_cents) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(m.id, c.customer_id, pos, m.source, m.brand, m.last_four, m.balance_cents)
         for c in data.customers for pos, m in enumerate(c.payment_methods)])
    # An order's position is its place in the owner's order list; orders the list omits come after it.
    position = {oid: pos for c in data.customers for pos, oid in enumerate(c.order_ids)}
    conn.executemany(
        f"INSERT INTO orders (order_id, customer_id, position, status, {_ADDRESS}) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(o.order_id, o.customer_id, position.get(o.order_id, len(position) + n), o.status,
          *_address_values(o.address)) for n, o in enumerate(data.orders)])
    conn.executemany(
        "INSERT INTO order_items (order_id, line_no, item_id, product_id, name, price_cents, options) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(o.order_id, line, i.item_id, i.product_id, i.name, i.price_cents, json.dumps(dict(i.options)))
         for o in data.orders for line, i in enumerate(o.items)])
    shipments, tracking, shipped = [], [], []
    for o in data.orders:
        for pos, f in enumerate(o.fulfillments):
            fid = len(shipments) + 1
            shipments.append((fid, o.order_id, pos))
            tracking.extend((fid, n, t) for n, t in enumerate(f.tracking_ids))
            shipped.extend((fid, n, i) for n, i in enumerate(f.item_ids))
    conn.executemany("INSERT INTO fulfillments (fulfillment_id, order_id, position) VALUES (?, ?, ?)",
                     shipments)
    conn.executemany("INSERT INTO fulfillment_tracking (fulfillment_id, position, tracking_id) "
                     "VALUES (?, ?, ?)", tracking)
    conn.executemany("INSERT INTO fulfillment_items (fulfillment_id, position, item_id) VALUES (?, ?, ?)",
                     shipped)
    conn.executemany(
        "INSERT INTO payments (order_id, position, transaction_type, amount_cents, payment_method_id) "
        "VALUES (?, ?, ?, ?, ?)",
        [(o.order_id, pos, p.transaction_type, p.amount_cents, p.payment_method_id)
         for o in data.orders for pos, p in enumerate(o.payments)])


def _variant(row: sqlite3.Row) -> Variant:
    return Variant(item_id=row["item_id"], product_id=row["product_id"], options=json.loads(row["options"]),
                   available=bool(row["available"]), price_cents=row["price_cents"])


def _address(row: sqlite3.Row) -> Address:
    return Address(address1=row["address1"], address2=row["address2"], city=row["city"], state=row["state"],
                   country=row["country"], zip=row["zip"])


def _address_values(a: Address) -> tuple[str, ...]:
    return a.address1, a.address2, a.city, a.state, a.country, a.zip


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
