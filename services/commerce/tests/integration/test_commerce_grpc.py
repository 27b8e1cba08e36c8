"""The real grpc.aio server in-process on an ephemeral port, over a temp SQLite seeded from db.json.

No Kafka or Elasticsearch is involved (hops go to a ListHopSink); these are integration tests because
they run a real server and real channels.
"""

import asyncio

import grpc
import pytest
from commerce.adapters.sqlite_store import SqliteStore
from commerce.app import SERVICE_FULL_NAME, build_authorizer
from commerce.config import Settings
from commerce.domain.queries import CommerceQueries
from commerce.servicer import CommerceServicer
from commerce.write_service import CommerceWrites
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from supportmesh.commerce.v1 import commerce_pb2 as pb
from supportmesh.commerce.v1 import commerce_pb2_grpc
from supportmesh_core import local_tokens
from supportmesh_core.grpcutil import GrpcServer, tracing_channel
from supportmesh_core.hops import ListHopSink

pytestmark = pytest.mark.integration

YUSUF_EMAIL = "yusuf.rossi7301@example.com"
YUSUF = "yusuf_rossi_9620"
ORDER = "#W2378156"


TOKENS = local_tokens.generate()   # the servers here accept these and nothing else
OPS_TOKEN = TOKENS["ops"]
SETTINGS = Settings(COMMERCE_TOKENS=local_tokens.tokens_spec(TOKENS))


class Running:
    def __init__(self, server: GrpcServer, hops: ListHopSink, queries: CommerceQueries,
                 writes: CommerceWrites) -> None:
        self.server, self.hops, self.queries, self.writes = server, hops, queries, writes
        self.target = f"127.0.0.1:{server.port}"


@pytest.fixture(scope="module")
async def running(tmp_path_factory, real_seed):
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(TracerProvider())  # real span ids, so trace continuation can be checked
    path = tmp_path_factory.mktemp("commerce") / "commerce.sqlite3"
    store = SqliteStore.open(path)
    store.seed(real_seed.data, str(real_seed.path), real_seed.sha256)
    writer = SqliteStore.open(path)
    writes = CommerceWrites(writer, 50000)
    hops = ListHopSink()
    server = GrpcServer(service="commerce", port=0, hop_sink=hops)
    queries = CommerceQueries(store)
    servicer = CommerceServicer(build_authorizer(SETTINGS), queries, writes)
    server.add(commerce_pb2_grpc.add_CommerceServiceServicer_to_server, servicer, SERVICE_FULL_NAME)
    await server.start()
    await server.set_serving()
    yield Running(server, hops, queries, writes)
    await server.stop(grace=1)
    writer.close()
    store.close()


@pytest.fixture
async def stub(running):
    async with tracing_channel(running.target, "commerce-test", token=OPS_TOKEN) as channel:
        yield commerce_pb2_grpc.CommerceServiceStub(channel)


async def _hops_after(sink: ListHopSink, start: int, count: int) -> list:
    """The hop records emitted after `start`, once `count` have arrived.

    grpc.aio sends an aborted call's status before the handler unwinds, so the server records the hop
    just after the client has its answer.
    """
    for _ in range(100):
        if len(sink.hops) - start >= count:
            break
        await asyncio.sleep(0.01)
    return sink.hops[start:]


async def _expect(code: grpc.StatusCode, call) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await call
    assert exc.value.code() == code, exc.value.details()
    return exc.value.details()


async def test_health_reports_serving(running):
    async with grpc.aio.insecure_channel(running.target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for name in ("", SERVICE_FULL_NAME):
            reply = await health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_find_customer_by_email_ignores_case(stub):
    customer = await stub.FindCustomerByEmail(pb.FindCustomerByEmailRequest(email=YUSUF_EMAIL.upper()),
                                              timeout=5)
    assert customer.customer_id == YUSUF and customer.email == YUSUF_EMAIL
    assert ORDER in customer.order_ids
    assert [m.id for m in customer.payment_methods] == ["credit_card_9513926"]


async def test_find_customer_by_name_zip(stub):
    customer = await stub.FindCustomerByNameZip(
        pb.FindCustomerByNameZipRequest(first_name="yusuf", last_name="ROSSI", zip="19122"), timeout=5)
    assert customer.customer_id == YUSUF and customer.address.city == "Philadelphia"


async def test_get_customer_with_a_gift_card_balance(stub, real_seed):
    owner = next(c for c in real_seed.data.customers
                 if any(m.source == "gift_card" for m in c.payment_methods))
    customer = await stub.GetCustomer(pb.GetCustomerRequest(customer_id=owner.customer_id), timeout=5)
    gift = next(m for m in owner.payment_methods if m.source == "gift_card")
    assert next(m for m in customer.payment_methods if m.id == gift.id).balance == gift.balance_cents / 100


async def test_get_order_matches_db_json(stub):
    order = await stub.GetOrder(pb.GetOrderRequest(order_id="W2378156", customer_id=YUSUF), timeout=5)
    assert (order.order_id, order.customer_id, order.status) == (ORDER, YUSUF, "delivered")
    assert [list(f.tracking_ids) for f in order.fulfillments] == [["843053632392"]]
    assert [i.name for i in order.items] == ["Headphones", "Vacuum Cleaner", "Mechanical Keyboard",
                                             "Smart Thermostat", "Smart Watch"]
    assert order.total == pytest.approx(1819.92)
    assert [(p.transaction_type, p.amount) for p in order.payment_history] == [("payment", 1819.92)]
    assert dict(order.items[0].options) == {"type": "over-ear", "connectivity": "wireless", "color": "blue"}


async def test_list_orders(stub):
    reply = await stub.ListOrders(pb.ListOrdersRequest(customer_id=YUSUF), timeout=5)
    assert [o.order_id for o in reply.orders] == ["#W6247578", "#W9711842", "#W4776164", "#W6679257", ORDER]
    assert {o.customer_id for o in reply.orders} == {YUSUF}


async def test_get_tracking(stub):
    tracking = await stub.GetTracking(pb.GetTrackingRequest(order_id=ORDER, customer_id=YUSUF), timeout=5)
    assert (tracking.order_id, tracking.status, list(tracking.tracking_ids)) == (
        ORDER, "delivered", ["843053632392"])


@pytest.mark.parametrize("rpc,request_,code,words", [
    ("FindCustomerByEmail", pb.FindCustomerByEmailRequest(email=""), "INVALID_ARGUMENT", "email is required"),
    ("FindCustomerByEmail", pb.FindCustomerByEmailRequest(email="nobody@example.com"), "NOT_FOUND", "email"),
    ("FindCustomerByNameZip", pb.FindCustomerByNameZipRequest(first_name="Yusuf", last_name="Rossi"),
     "INVALID_ARGUMENT", "zip is required"),
    ("FindCustomerByNameZip", pb.FindCustomerByNameZipRequest(first_name="Yusuf", last_name="Rossi",
                                                               zip="00000"), "NOT_FOUND", "name and zip"),
    ("GetCustomer", pb.GetCustomerRequest(customer_id="nobody_1"), "NOT_FOUND", "nobody_1"),
    ("GetOrder", pb.GetOrderRequest(order_id="#W123", customer_id=YUSUF), "INVALID_ARGUMENT", "malformed"),
    ("GetOrder", pb.GetOrderRequest(order_id=ORDER), "INVALID_ARGUMENT", "customer_id is required"),
    ("GetOrder", pb.GetOrderRequest(order_id="#W0000000", customer_id=YUSUF), "NOT_FOUND", "#W0000000"),
    ("GetOrder", pb.GetOrderRequest(order_id=ORDER, customer_id="noah_brown_6181"), "PERMISSION_DENIED",
     "does not belong"),
    ("ListOrders", pb.ListOrdersRequest(customer_id="nobody_1"), "NOT_FOUND", "nobody_1"),
    ("GetTracking", pb.GetTrackingRequest(order_id=ORDER, customer_id="noah_brown_6181"), "PERMISSION_DENIED",
     "does not belong"),
    ("GetTracking", pb.GetTrackingRequest(order_id="#W0000000", customer_id=YUSUF), "NOT_FOUND", "#W0000000"),
])
async def test_refusals_carry_real_status_codes(stub, rpc, request_, code, words):
    details = await _expect(getattr(grpc.StatusCode, code), getattr(stub, rpc)(request_, timeout=5))
    assert words in details


async def test_not_serving_and_unavailable_until_the_store_is_attached(running):
    server = GrpcServer(service="commerce", port=0, hop_sink=ListHopSink())
    servicer = CommerceServicer(build_authorizer(SETTINGS))
    server.add(commerce_pb2_grpc.add_CommerceServiceServicer_to_server, servicer, SERVICE_FULL_NAME)
    await server.start()
    try:
        async with tracing_channel(f"127.0.0.1:{server.port}", "commerce-test", token=OPS_TOKEN) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            check = health_pb2.HealthCheckRequest(service=SERVICE_FULL_NAME)
            assert (await health.Check(check, timeout=5)).status == health_pb2.HealthCheckResponse.NOT_SERVING
            stub = commerce_pb2_grpc.CommerceServiceStub(channel)
            details = await _expect(grpc.StatusCode.UNAVAILABLE,
                                    stub.GetCustomer(pb.GetCustomerRequest(customer_id=YUSUF), timeout=5))
            assert "starting" in details
            servicer.attach(running.queries, running.writes)
            await server.set_serving()
            assert (await health.Check(check, timeout=5)).status == health_pb2.HealthCheckResponse.SERVING
            assert (await stub.GetCustomer(pb.GetCustomerRequest(customer_id=YUSUF), timeout=5)).email
    finally:
        await server.stop(grace=1)


async def test_every_call_emits_a_hop_with_action_and_outcome(running, stub):
    start = len(running.hops.hops)
    await stub.GetCustomer(pb.GetCustomerRequest(customer_id=YUSUF), timeout=5)
    someone_else = pb.GetTrackingRequest(order_id=ORDER, customer_id="noah_brown_6181")
    await _expect(grpc.StatusCode.PERMISSION_DENIED, stub.GetTracking(someone_else, timeout=5))
    await _expect(grpc.StatusCode.INVALID_ARGUMENT,
                  stub.FindCustomerByEmail(pb.FindCustomerByEmailRequest(email=""), timeout=5))
    hops = await _hops_after(running.hops, start, 3)
    assert [(h.action, h.outcome, h.service, h.span_kind) for h in hops] == [
        ("GetCustomer", "success", "commerce", "server"),
        ("GetTracking", "failure", "commerce", "server"),
        ("FindCustomerByEmail", "failure", "commerce", "server"),
    ]
    assert hops[0].labels["rpc.grpc.status_code"] == "OK"
    assert hops[1].labels["rpc.grpc.status_code"] == "PERMISSION_DENIED"
    assert "PERMISSION_DENIED" in hops[1].error_message and hops[0].error_message == ""
    assert all(h.duration_ns > 0 for h in hops)


async def test_trace_context_in_metadata_is_continued(running):
    client_hops = ListHopSink()
    tracer = trace.get_tracer("commerce-test")
    start = len(running.hops.hops)
    async with tracing_channel(running.target, "retriever", client_hops, token=TOKENS["retriever"]) as channel:
        stub = commerce_pb2_grpc.CommerceServiceStub(channel)
        with tracer.start_as_current_span("ticket") as root:
            await stub.GetOrder(pb.GetOrderRequest(order_id=ORDER, customer_id=YUSUF), timeout=5)
    trace_id = format(root.get_span_context().trace_id, "032x")
    (server_hop,) = await _hops_after(running.hops, start, 1)
    (client_hop,) = client_hops.hops
    assert server_hop.trace_id == client_hop.trace_id == trace_id != "0" * 32
    assert server_hop.parent_id == client_hop.span_id
    assert (server_hop.action, client_hop.action) == ("GetOrder", "call GetOrder")
