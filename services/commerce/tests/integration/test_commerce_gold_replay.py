"""Every gold write action of data/retail/tasks_train.json.gz, replayed through the real gRPC API on a freshly
seeded database per task, leaves the database in the state the policy implies.

The expected state is computed here, independently of the service's code, by applying the policy's words
to the raw seed JSON: cancel refunds what was paid (gift cards at once), item changes swap variants and
settle the price difference, returns and exchanges record what was asked, addresses change.
"""

import copy
import gzip
import json
import pathlib

import grpc
import pytest
from commerce.adapters.sqlite_store import SqliteStore
from commerce.app import SERVICE_FULL_NAME, build_authorizer
from commerce.config import Settings
from commerce.domain.queries import CommerceQueries
from commerce.servicer import CommerceServicer
from commerce.write_service import CommerceWrites
from supportmesh.commerce.v1 import commerce_pb2 as pb
from supportmesh.commerce.v1 import commerce_pb2_grpc
from supportmesh_core import local_tokens
from supportmesh_core.grpcutil import GrpcServer, tracing_channel

pytestmark = pytest.mark.integration

DATA = pathlib.Path(__file__).resolve().parents[4] / "data" / "retail"
TASKS = json.loads(gzip.decompress((DATA / "tasks_train.json.gz").read_bytes()))
WRITES = {"cancel_pending_order", "modify_pending_order_address", "modify_pending_order_items",
          "modify_pending_order_payment", "modify_user_address", "return_delivered_order_items",
          "exchange_delivered_order_items", "transfer_to_human_agents"}
ADDRESS = ("address1", "address2", "city", "state", "country", "zip")
# The one gold action the written policy forbids: the exchange's price difference ($21.10) is more than the
# only payment method, a gift card, holds ($17.00); policy.md: "it must have enough balance".
TOKENS = local_tokens.generate()
REFUSED_BY_POLICY = {("105", 0): "not enough for the price difference of $21.10"}


def _cents(x: float) -> int:
    return round(x * 100)


class Model:
    """The seed JSON with the policy applied by hand."""

    def __init__(self, db: dict) -> None:
        self.db = copy.deepcopy(db)

    def _gift(self, user_id: str, pm_id: str) -> dict | None:
        pm = self.db["users"][user_id]["payment_methods"].get(pm_id)
        return pm if pm and pm["source"] == "gift_card" else None

    def apply(self, name: str, a: dict) -> None:
        o = self.db["orders"].get(a.get("order_id", ""))
        if name == "cancel_pending_order":
            net: dict[str, int] = {}
            for p in o["payment_history"]:
                sign = 1 if p["transaction_type"] == "payment" else -1
                net[p["payment_method_id"]] = net.get(p["payment_method_id"], 0) + sign * _cents(p["amount"])
            for pm, cents in net.items():
                if cents > 0:
                    o["payment_history"].append({"transaction_type": "refund", "amount": cents / 100,
                                                 "payment_method_id": pm})
                    if (g := self._gift(o["user_id"], pm)) is not None:
                        g["balance"] = (_cents(g["balance"]) + cents) / 100
            o["status"], o["cancel_reason"] = "cancelled", a["reason"]
        elif name == "modify_pending_order_address":
            o["address"] = {k: a[k] for k in ADDRESS}
        elif name == "modify_user_address":
            self.db["users"][a["user_id"]]["address"] = {k: a[k] for k in ADDRESS}
        elif name == "modify_pending_order_items":
            diff, used = 0, set()
            for old, new in zip(a["item_ids"], a["new_item_ids"], strict=True):
                n = next(i for i, it in enumerate(o["items"]) if it["item_id"] == old and i not in used)
                used.add(n)
                item = o["items"][n]
                variant = self.db["products"][item["product_id"]]["variants"][new]
                diff += _cents(variant["price"]) - _cents(item["price"])
                item.update(item_id=new, price=variant["price"], options=variant["options"])
            if diff:
                o["payment_history"].append({"transaction_type": "payment" if diff > 0 else "refund",
                                             "amount": abs(diff) / 100, "payment_method_id": a["payment_method_id"]})
            if (g := self._gift(o["user_id"], a["payment_method_id"])) is not None:
                g["balance"] = (_cents(g["balance"]) - diff) / 100
            o["status"] = "pending (item modified)"
        elif name == "return_delivered_order_items":
            o.update(status="return requested", return_items=sorted(a["item_ids"]),
                     return_payment_method_id=a["payment_method_id"])
        elif name == "exchange_delivered_order_items":
            prices = {it["item_id"]: _cents(it["price"]) for it in o["items"]}
            variants = {v: p["variants"][v] for p in self.db["products"].values() for v in p["variants"]}
            pairs = zip(a["item_ids"], a["new_item_ids"], strict=True)
            diff = sum(_cents(variants[n]["price"]) - prices[x] for x, n in pairs)
            o.update(status="exchange requested", exchange_items=sorted(a["item_ids"]),
                     exchange_new_items=sorted(a["new_item_ids"]), exchange_payment_method_id=a["payment_method_id"],
                     exchange_price_difference=diff / 100)


def _request(name: str, a: dict, key: str, customer_id: str):
    """The gold tool call as the API request (the API also wants the verified customer and a key)."""
    base = {"idempotency_key": key, "ticket_id": f"gold-{key}"}
    address = pb.Address(**{k: a[k] for k in ADDRESS}) if "address1" in a else None
    if name == "cancel_pending_order":
        return "CancelPendingOrder", pb.CancelPendingOrderRequest(
            **base, customer_id=customer_id, order_id=a["order_id"], reason=a["reason"])
    if name == "modify_pending_order_address":
        return "ModifyPendingOrderAddress", pb.ModifyPendingOrderAddressRequest(
            **base, customer_id=customer_id, order_id=a["order_id"], address=address)
    if name == "modify_user_address":
        return "ModifyCustomerAddress", pb.ModifyCustomerAddressRequest(
            **base, customer_id=a["user_id"], address=address)
    if name in ("modify_pending_order_items", "exchange_delivered_order_items"):
        rpc = "ModifyPendingOrderItems" if name.startswith("modify") else "ExchangeDeliveredOrderItems"
        cls = pb.ModifyPendingOrderItemsRequest if name.startswith("modify") else pb.ExchangeDeliveredOrderItemsRequest
        return rpc, cls(**base, customer_id=customer_id, order_id=a["order_id"], item_ids=a["item_ids"],
                        new_item_ids=a["new_item_ids"], payment_method_id=a["payment_method_id"])
    if name == "return_delivered_order_items":
        return "ReturnDeliveredOrderItems", pb.ReturnDeliveredOrderItemsRequest(
            **base, customer_id=customer_id, order_id=a["order_id"], item_ids=a["item_ids"],
            payment_method_id=a["payment_method_id"])
    assert name == "transfer_to_human_agents", name
    return "CreateCase", pb.CreateCaseRequest(**base, reason="human_requested", priority="medium",
                                              summary=a["summary"])


def _order_state(o: pb.Order) -> dict:
    return {
        "status": o.status, "address": [getattr(o.address, k) for k in ADDRESS],
        "items": [(i.item_id, _cents(i.price), dict(i.options)) for i in o.items],
        "payments": [(p.transaction_type, _cents(p.amount), p.payment_method_id) for p in o.payment_history],
        "cancel_reason": o.cancel_reason, "return": (list(o.return_item_ids), o.return_payment_method_id),
        "exchange": (list(o.exchange_item_ids), list(o.exchange_new_item_ids), o.exchange_payment_method_id,
                     _cents(o.exchange_price_difference)),
    }


def _expected_order(o: dict) -> dict:
    return {
        "status": o["status"], "address": [o["address"].get(k, "") for k in ADDRESS],
        "items": [(i["item_id"], _cents(i["price"]), {k: str(v) for k, v in i["options"].items()})
                  for i in o["items"]],
        "payments": [(p["transaction_type"], _cents(p["amount"]), p["payment_method_id"])
                     for p in o["payment_history"]],
        "cancel_reason": o.get("cancel_reason", ""),
        "return": (o.get("return_items", []), o.get("return_payment_method_id", "")),
        "exchange": (o.get("exchange_items", []), o.get("exchange_new_items", []),
                     o.get("exchange_payment_method_id", ""), _cents(o.get("exchange_price_difference", 0))),
    }


@pytest.fixture(scope="module")
async def server():
    servicer = CommerceServicer(build_authorizer(Settings(COMMERCE_TOKENS=local_tokens.tokens_spec(TOKENS))))
    grpc_server = GrpcServer(service="commerce", port=0)
    grpc_server.add(commerce_pb2_grpc.add_CommerceServiceServicer_to_server, servicer, SERVICE_FULL_NAME)
    await grpc_server.start()
    await grpc_server.set_serving()
    yield grpc_server, servicer
    await grpc_server.stop(grace=1)


@pytest.mark.parametrize("task", [t for t in TASKS if any(a["name"] in WRITES
                                                          for a in t["evaluation_criteria"]["actions"])],
                         ids=lambda t: f"task{t['id']}")
async def test_gold_writes_replay_to_the_policy_state(server, task, real_seed, tmp_path):
    grpc_server, servicer = server
    path = tmp_path / "commerce.sqlite3"
    reader = SqliteStore.open(path)
    reader.seed(real_seed.data, str(real_seed.path), real_seed.sha256)
    writer = SqliteStore.open(path)
    servicer.attach(CommerceQueries(reader), CommerceWrites(writer, 10_000_00))
    model = Model(json.loads(gzip.decompress((DATA / "db.json.gz").read_bytes())))
    touched_orders, touched_users, calls = set(), set(), 0
    try:
        async with tracing_channel(f"127.0.0.1:{grpc_server.port}", "technical-analyst",
                                   token=TOKENS["technical-analyst"]) as channel:
            stub = commerce_pb2_grpc.CommerceServiceStub(channel)
            for n, action in enumerate(task["evaluation_criteria"]["actions"]):
                name, args = action["name"], action["arguments"]
                if name not in WRITES:
                    continue
                order = model.db["orders"].get(args.get("order_id", ""))
                user = order["user_id"] if order else args.get("user_id", "")
                rpc, request = _request(name, args, f"{task['id']}-{n}", user)
                calls += 1
                refusal = REFUSED_BY_POLICY.get((task["id"], n))
                if refusal:
                    with pytest.raises(grpc.aio.AioRpcError) as exc:
                        await getattr(stub, rpc)(request, timeout=10)
                    assert exc.value.code() == grpc.StatusCode.FAILED_PRECONDITION and refusal in exc.value.details()
                else:
                    reply = await getattr(stub, rpc)(request, timeout=10)
                    model.apply(name, args)
                    if rpc == "CreateCase":
                        case = await stub.GetCase(pb.GetCaseRequest(case_id=reply.case_id), timeout=5)
                        assert (case.summary, case.status, case.created_by) == (
                            args["summary"], "open", "technical-analyst")
                    else:
                        assert reply.summary and reply.action == rpc
                if order:
                    touched_orders.add(args["order_id"])
                if user:
                    touched_users.add(user)
            for oid in touched_orders:
                owner = model.db["orders"][oid]["user_id"]
                got = await stub.GetOrder(pb.GetOrderRequest(order_id=oid, customer_id=owner), timeout=5)
                assert _order_state(got) == _expected_order(model.db["orders"][oid]), oid
            for uid in touched_users:
                got = await stub.GetCustomer(pb.GetCustomerRequest(customer_id=uid), timeout=5)
                want = model.db["users"][uid]
                assert [getattr(got.address, k) for k in ADDRESS] == [want["address"].get(k, "") for k in ADDRESS]
                assert {m.id: _cents(m.balance) for m in got.payment_methods if m.source == "gift_card"} == {
                    k: _cents(v["balance"]) for k, v in want["payment_methods"].items() if v["source"] == "gift_card"}
        # One audit entry per write, refusals included, each naming the ticket and the caller.
        entries = writer.audit(limit=1000)
        assert len(entries) == calls
        assert all(e.caller == "technical-analyst" and e.ticket_id.startswith("gold-") for e in entries)
    finally:
        writer.close()
        reader.close()
