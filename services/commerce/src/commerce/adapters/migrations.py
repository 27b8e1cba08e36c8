"""The database schema as numbered migrations; a migration, once released, is never edited, only added to.

Money is stored in integer cents. Addresses are columns of the customer and of the order: an order keeps
the address it was shipped to even after the customer moves, so they are values, not shared rows. Name
and e-mail lookups go through case-folded key columns the application fills (SQLite's NOCASE folds ASCII
only).
"""

MIGRATIONS: tuple[str, ...] = (
    # 1: the catalogue, customers and orders as found in the retail seed.
    """
    CREATE TABLE store_meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE products (
        product_id TEXT PRIMARY KEY,
        name       TEXT NOT NULL
    );
    CREATE TABLE variants (
        item_id     TEXT PRIMARY KEY,
        product_id  TEXT NOT NULL REFERENCES products(product_id),
        options     TEXT NOT NULL,  -- JSON object of option name -> value
        available   INTEGER NOT NULL CHECK (available IN (0, 1)),
        price_cents INTEGER NOT NULL CHECK (price_cents >= 0)
    );
    CREATE INDEX variants_by_product ON variants(product_id);
    CREATE TABLE customers (
        customer_id    TEXT PRIMARY KEY,
        first_name     TEXT NOT NULL,
        last_name      TEXT NOT NULL,
        email          TEXT NOT NULL,
        email_key      TEXT NOT NULL UNIQUE,
        first_name_key TEXT NOT NULL,
        last_name_key  TEXT NOT NULL,
        address1 TEXT NOT NULL, address2 TEXT NOT NULL, city TEXT NOT NULL,
        state TEXT NOT NULL, country TEXT NOT NULL, zip TEXT NOT NULL
    );
    CREATE INDEX customers_by_name_zip ON customers(last_name_key, first_name_key, zip);
    CREATE TABLE payment_methods (
        payment_method_id TEXT PRIMARY KEY,
        customer_id       TEXT NOT NULL REFERENCES customers(customer_id),
        position          INTEGER NOT NULL,
        source            TEXT NOT NULL CHECK (source IN ('credit_card', 'paypal', 'gift_card')),
        brand             TEXT NOT NULL DEFAULT '',
        last_four         TEXT NOT NULL DEFAULT '',
        balance_cents     INTEGER  -- gift cards only
    );
    CREATE INDEX payment_methods_by_customer ON payment_methods(customer_id, position);
    CREATE TABLE orders (
        order_id    TEXT PRIMARY KEY,
        customer_id TEXT NOT NULL REFERENCES customers(customer_id),
        position    INTEGER NOT NULL,  -- the order's place in the customer's history
        status      TEXT NOT NULL,
        address1 TEXT NOT NULL, address2 TEXT NOT NULL, city TEXT NOT NULL,
        state TEXT NOT NULL, country TEXT NOT NULL, zip TEXT NOT NULL
    );
    CREATE INDEX orders_by_customer ON orders(customer_id, position);
    CREATE TABLE order_items (
        order_id    TEXT NOT NULL REFERENCES orders(order_id),
        line_no     INTEGER NOT NULL,  -- an order may hold the same item twice
        item_id     TEXT NOT NULL,
        product_id  TEXT NOT NULL,
        name        TEXT NOT NULL,
        price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
        options     TEXT NOT NULL,  -- JSON object, as bought
        PRIMARY KEY (order_id, line_no)
    );
    CREATE TABLE fulfillments (
        fulfillment_id INTEGER PRIMARY KEY,
        order_id       TEXT NOT NULL REFERENCES orders(order_id),
        position       INTEGER NOT NULL
    );
    CREATE INDEX fulfillments_by_order ON fulfillments(order_id, position);
    CREATE TABLE fulfillment_tracking (
        fulfillment_id INTEGER NOT NULL REFERENCES fulfillments(fulfillment_id),
        position       INTEGER NOT NULL,
        tracking_id    TEXT NOT NULL,
        PRIMARY KEY (fulfillment_id, position)
    );
    CREATE INDEX fulfillment_tracking_by_id ON fulfillment_tracking(tracking_id);
    CREATE TABLE fulfillment_items (
        fulfillment_id INTEGER NOT NULL REFERENCES fulfillments(fulfillment_id),
        position       INTEGER NOT NULL,
        item_id        TEXT NOT NULL,
        PRIMARY KEY (fulfillment_id, position)
    );
    CREATE TABLE payments (
        order_id          TEXT NOT NULL REFERENCES orders(order_id),
        position          INTEGER NOT NULL,
        transaction_type  TEXT NOT NULL CHECK (transaction_type IN ('payment', 'refund')),
        amount_cents      INTEGER NOT NULL,
        payment_method_id TEXT NOT NULL,
        PRIMARY KEY (order_id, position)
    );
    """,
    # 2: the writes: what they record on orders, cases for humans, the audit trail, idempotency keys.
    """
    ALTER TABLE orders ADD COLUMN cancel_reason TEXT NOT NULL DEFAULT '';
    ALTER TABLE orders ADD COLUMN return_item_ids TEXT NOT NULL DEFAULT '[]';       -- JSON array, sorted
    ALTER TABLE orders ADD COLUMN return_payment_method_id TEXT NOT NULL DEFAULT '';
    ALTER TABLE orders ADD COLUMN exchange_item_ids TEXT NOT NULL DEFAULT '[]';     -- JSON array, sorted
    ALTER TABLE orders ADD COLUMN exchange_new_item_ids TEXT NOT NULL DEFAULT '[]'; -- JSON array, sorted
    ALTER TABLE orders ADD COLUMN exchange_payment_method_id TEXT NOT NULL DEFAULT '';
    ALTER TABLE orders ADD COLUMN exchange_price_diff_cents INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE cases (
        case_id      TEXT PRIMARY KEY,
        status       TEXT NOT NULL CHECK (status IN ('open', 'pending_approval', 'closed')),
        reason       TEXT NOT NULL,
        priority     TEXT NOT NULL,
        summary      TEXT NOT NULL,
        ticket_id    TEXT NOT NULL,
        trace_id     TEXT NOT NULL,
        customer_id  TEXT NOT NULL,
        order_id     TEXT NOT NULL,
        amount_cents INTEGER NOT NULL DEFAULT 0,
        created_by   TEXT NOT NULL,
        created_at   TEXT NOT NULL
    );
    CREATE INDEX cases_by_ticket ON cases(ticket_id);
    CREATE TABLE audit (
        audit_id        INTEGER PRIMARY KEY AUTOINCREMENT,
        at              TEXT NOT NULL,
        caller          TEXT NOT NULL,
        rpc             TEXT NOT NULL,
        ticket_id       TEXT NOT NULL,
        trace_id        TEXT NOT NULL,
        idempotency_key TEXT NOT NULL,
        outcome         TEXT NOT NULL,  -- done | refused | pending_approval
        detail          TEXT NOT NULL,
        order_id        TEXT NOT NULL,
        customer_id     TEXT NOT NULL,
        request_json    TEXT NOT NULL,
        before_json     TEXT NOT NULL,
        after_json      TEXT NOT NULL
    );
    CREATE INDEX audit_by_ticket ON audit(ticket_id);
    CREATE INDEX audit_by_key ON audit(idempotency_key);
    CREATE INDEX audit_by_order ON audit(order_id);
    CREATE INDEX audit_by_customer ON audit(customer_id);
    -- The first answer to each (caller, key): a repeat gets it back instead of acting again.
    CREATE TABLE idempotency (
        caller      TEXT NOT NULL,
        key         TEXT NOT NULL,
        rpc         TEXT NOT NULL,
        fingerprint TEXT NOT NULL,  -- sha256 of the request, to refuse a key reused for another request
        status_code TEXT NOT NULL,  -- OK or the gRPC status name of a policy refusal
        details     TEXT NOT NULL,
        response    BLOB NOT NULL,  -- the serialized response message (empty for a refusal)
        case_id     TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        PRIMARY KEY (caller, key)
    );
    """,
    # 3: the human handback (ApproveCase): where a pending refund goes, and who approved a case when.
    """
    ALTER TABLE cases ADD COLUMN payment_method_id TEXT NOT NULL DEFAULT '';
    ALTER TABLE cases ADD COLUMN approved_by TEXT NOT NULL DEFAULT '';
    ALTER TABLE cases ADD COLUMN approved_at TEXT NOT NULL DEFAULT '';
    """,
)
