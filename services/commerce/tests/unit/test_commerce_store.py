"""The SQLite store on a temp file: migrations, idempotent seeding, and lookups that round-trip the seed."""

import sqlite3

import pytest
from commerce.adapters import migrations
from commerce.adapters.sqlite_store import SqliteStore
from commerce.domain.ids import fold_email, fold_name
from commerce.domain.seed import parse_seed

pytestmark = pytest.mark.unit


@pytest.fixture
def store(tmp_path):
    s = SqliteStore.open(tmp_path / "commerce.sqlite3")
    yield s
    s.close()


@pytest.fixture
def tiny_store(store, tiny_seed):
    assert store.seed(parse_seed(tiny_seed), "tiny", "0" * 64)
    return store


def test_migrations_record_the_schema_version_and_are_idempotent(tmp_path):
    path = tmp_path / "db.sqlite3"
    store = SqliteStore.open(path)
    assert store.schema_version() == len(migrations.MIGRATIONS) >= 1
    assert store.migrate() == store.schema_version()
    store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == len(migrations.MIGRATIONS)


def test_a_schema_newer_than_the_code_is_refused(tmp_path):
    path = tmp_path / "db.sqlite3"
    SqliteStore.open(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_version VALUES (999, 'future')")
    with pytest.raises(RuntimeError, match="newer than this code"):
        SqliteStore.open(path)


def test_seeding_twice_loads_once(tiny_store, tiny_seed):
    before = tiny_store.counts()
    assert tiny_store.seed(parse_seed(tiny_seed), "tiny", "0" * 64) is False
    assert tiny_store.counts() == before
    assert before["orders"] == 3 and before["order_items"] == 5 and before["variants"] == 2
    assert tiny_store.meta()["seed_source"] == "tiny"


def test_a_failed_seed_leaves_nothing_behind(store, tiny_seed):
    data = parse_seed(tiny_seed)
    broken = data.__class__(customers=data.customers + data.customers[:1], orders=data.orders,
                            products=data.products)  # duplicate primary key half-way through
    with pytest.raises(sqlite3.IntegrityError):
        store.seed(broken, "broken", "1" * 64)
    assert not store.is_seeded()
    assert store.counts()["products"] == 0


def test_lookups_ignore_case(tiny_store):
    assert [c.customer_id for c in tiny_store.customers_by_email_key(fold_email("ANA.lima@example.COM"))] == [
        "ana_lima_1"]
    found = tiny_store.customers_by_name_zip(fold_name("ANA"), fold_name("lima"), "10001")
    assert [c.customer_id for c in found] == ["ana_lima_1"]
    assert tiny_store.customers_by_name_zip("ana", "lima", "99999") == []


def test_customer_keeps_order_history_and_payment_methods(tiny_store):
    ana = tiny_store.customer("ana_lima_1")
    assert ana.order_ids == ("#W0000002", "#W0000001")
    assert [(m.id, m.balance_cents) for m in ana.payment_methods] == [("gift_card_1", 5110),
                                                                      ("credit_card_1", None)]
    assert tiny_store.customer("nobody") is None


def test_order_keeps_repeated_items_shipments_and_payments(tiny_store):
    order = tiny_store.order("#W0000001")
    assert [i.item_id for i in order.items] == ["1001", "1001", "1002"]
    assert order.items[0].options == {"color": "red"}
    assert [f.tracking_ids for f in order.fulfillments] == [("111",), ("222",)]
    assert order.fulfillments[0].item_ids == ("1001", "1001")
    assert order.total_cents == 4040
    refunded = tiny_store.order("#W0000003")
    assert [p.transaction_type for p in refunded.payments] == ["payment", "refund"]
    assert tiny_store.order("#W9999999") is None


def test_orders_of_follows_the_customers_history(tiny_store):
    assert [o.order_id for o in tiny_store.orders_of("ana_lima_1")] == ["#W0000002", "#W0000001"]
    assert tiny_store.orders_of("nobody") == []


def test_drop_all_then_migrate_gives_an_empty_store(tiny_store):
    tiny_store.drop_all()
    tiny_store.migrate()
    assert not tiny_store.is_seeded()
    assert set(tiny_store.counts().values()) == {0}


def test_transaction_rolls_back_on_error(tiny_store):
    with pytest.raises(ValueError), tiny_store.transaction() as conn:
        conn.execute("UPDATE orders SET status = 'cancelled' WHERE order_id = '#W0000001'")
        raise ValueError("abort the unit of work")
    assert tiny_store.order("#W0000001").status == "delivered"


def test_the_real_seed_round_trips_exactly(store, real_seed):
    """Every customer and order of db.json comes back from SQLite equal to what was parsed."""
    seed = real_seed
    assert store.seed(seed.data, str(seed.path), seed.sha256)
    counts = store.counts()
    assert (counts["customers"], counts["orders"], counts["products"]) == (500, 1000, 50)
    for order in seed.data.orders:
        assert store.order(order.order_id) == order
    for customer in seed.data.customers:
        assert store.customer(customer.customer_id) == customer


def test_known_real_order(store, real_seed):
    seed = real_seed
    store.seed(seed.data, str(seed.path), seed.sha256)
    (yusuf,) = store.customers_by_email_key(fold_email("yusuf.rossi7301@example.com"))
    assert "#W2378156" in yusuf.order_ids
    order = store.order("#W2378156")
    assert order.customer_id == yusuf.customer_id == "yusuf_rossi_9620"
    assert order.status == "delivered" and order.tracking_ids == ("843053632392",)
    assert order.total_cents == 181992
