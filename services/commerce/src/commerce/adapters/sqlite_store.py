"""The store on an embedded SQLite file: schema migrations, one-transaction seeding, and the lookups.

Concurrency: the connection is opened in autocommit mode and every write goes through `transaction()`
(BEGIN IMMEDIATE), so the writes a later issue adds get one writer at a time and atomic multi-row
changes. WAL mode lets other processes (a sqlite3 shell, a backup) read while the service writes.
"""

import contextlib
import datetime
import json
import pathlib
import sqlite3
from collections.abc import Iterator

from ..domain.ids import fold_email, fold_name
from ..domain.model import Address, Customer, Fulfillment, Order, OrderItem, Payment, PaymentMethod
from ..domain.seed import SeedData
from .migrations import MIGRATIONS

_TABLES_IN_DROP_ORDER = (
    "payments", "fulfillment_items", "fulfillment_tracking", "fulfillments", "order_items", "orders",
    "payment_methods", "customers", "variants", "products", "store_meta", "schema_version",
)
_ADDRESS = "address1, address2, city, state, country, zip"


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
        conn.execute("PRAGMA synchronous=NORMAL")
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
                          "payments", "products", "variants")}

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
            f"SELECT order_id, customer_id, status, {_ADDRESS} FROM orders WHERE {where} ORDER BY position",
            params).fetchall()
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
                  fulfillments=tuple(fulfillments.get(oid, ())), payments=tuple(payments.get(oid, ())))
            for row in rows
        ]


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


def _address(row: sqlite3.Row) -> Address:
    return Address(address1=row["address1"], address2=row["address2"], city=row["city"], state=row["state"],
                   country=row["country"], zip=row["zip"])


def _address_values(a: Address) -> tuple[str, ...]:
    return a.address1, a.address2, a.city, a.state, a.country, a.zip


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
