"""Benchmark the commerce gRPC service: lookups (and idempotent writes) per second and p50/p99 latency.

Starts a real `python -m commerce` process on free ports over a fresh temp database (hop records off, so
the running mesh's telemetry is untouched), then for each RPC runs N concurrent clients for a fixed time
and prints a table; the figures are also written as JSON to bench-results/commerce-<time>.json.

    uv run python scripts/bench_commerce.py --clients 50 --seconds 5
"""

import argparse
import asyncio
import datetime
import gzip
import json
import os
import pathlib
import random
import statistics
import tempfile
import time

import grpc
from supportmesh.commerce.v1 import commerce_pb2 as pb
from supportmesh.commerce.v1 import commerce_pb2_grpc
from supportmesh_eval.commerce_server import TOKENS, start_server

ROOT = pathlib.Path(__file__).resolve().parent.parent
OPS_TOKEN = TOKENS["ops"]


def workload() -> dict:
    """Real ids from the seed: (order, owner) pairs, e-mails, customers, delivered orders for refunds."""
    db = json.loads(gzip.decompress((ROOT / "data" / "retail" / "db.json.gz").read_bytes()))
    orders = [(oid, o["user_id"]) for oid, o in db["orders"].items()]
    delivered = [(oid, o["user_id"]) for oid, o in db["orders"].items() if o["status"] == "delivered"]
    return {"orders": orders, "delivered": delivered, "emails": [u["email"] for u in db["users"].values()],
            "customers": list(db["users"])}


def requests(ids: dict) -> dict:
    """RPC name -> a function (stub, n) making its n-th call."""
    rnd = random.Random(7)

    def get_order(stub, n):
        oid, uid = rnd.choice(ids["orders"])
        return stub.GetOrder(pb.GetOrderRequest(order_id=oid, customer_id=uid), timeout=10)

    def find_by_email(stub, n):
        return stub.FindCustomerByEmail(pb.FindCustomerByEmailRequest(email=rnd.choice(ids["emails"])), timeout=10)

    def list_orders(stub, n):
        return stub.ListOrders(pb.ListOrdersRequest(customer_id=rnd.choice(ids["customers"])), timeout=10)

    def refund(stub, n):
        oid, uid = ids["delivered"][n % len(ids["delivered"])]
        return stub.IssueRefund(pb.IssueRefundRequest(
            idempotency_key=f"bench-{n}", ticket_id=f"bench-{n}", customer_id=uid, order_id=oid, amount=0.01,
            reason="benchmark"), timeout=10)

    def refund_replay(stub, n):  # the same 100 keys again: answered from the idempotency table
        oid, uid = ids["delivered"][n % 100 % len(ids["delivered"])]
        return stub.IssueRefund(pb.IssueRefundRequest(
            idempotency_key=f"bench-{n % 100}", ticket_id=f"bench-{n % 100}", customer_id=uid, order_id=oid,
            amount=0.01, reason="benchmark"), timeout=10)

    return {"GetOrder": get_order, "FindCustomerByEmail": find_by_email, "ListOrders": list_orders,
            "IssueRefund (new key)": refund, "IssueRefund (replay)": refund_replay}


async def run_phase(target: str, call, clients: int, seconds: float, counter: list[int]) -> dict:
    """`clients` coroutines calling back to back for `seconds`; latency of every call."""
    metadata = (("x-service-token", OPS_TOKEN),)
    channels = [grpc.aio.insecure_channel(target) for _ in range(min(clients, 8))]
    stubs = [_AuthStub(commerce_pb2_grpc.CommerceServiceStub(c), metadata) for c in channels]
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + seconds

    async def client(i: int) -> None:
        nonlocal errors
        stub = stubs[i % len(stubs)]
        while time.perf_counter() < stop_at:
            n = counter[0]
            counter[0] += 1
            started = time.perf_counter()
            try:
                await call(stub, n)
                latencies.append(time.perf_counter() - started)
            except grpc.aio.AioRpcError:
                errors += 1

    began = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    elapsed = time.perf_counter() - began
    for c in channels:
        await c.close()
    latencies.sort()
    pct = (lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000) if latencies else (
        lambda q: float("nan"))
    return {"calls": len(latencies), "errors": errors, "seconds": round(elapsed, 2),
            "per_second": round(len(latencies) / elapsed, 1), "p50_ms": round(pct(0.50), 2),
            "p99_ms": round(pct(0.99), 2), "mean_ms": round(statistics.fmean(latencies) * 1000, 2) if latencies
            else None}


class _AuthStub:
    """Adds the service token to every call of the wrapped stub."""

    def __init__(self, stub, metadata) -> None:
        self._stub, self._metadata = stub, metadata

    def __getattr__(self, name):
        method = getattr(self._stub, name)
        return lambda request, **kw: method(request, metadata=self._metadata, **kw)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients per phase (default 50)")
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each phase (default 5)")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured warm-up before each phase")
    args = parser.parse_args()
    if args.clients < 1 or args.seconds <= 0:
        parser.error("--clients must be >= 1 and --seconds > 0")
    ids = workload()
    with tempfile.TemporaryDirectory(prefix="bench-commerce-") as tmp:
        proc, target = start_server(pathlib.Path(tmp))
        try:
            results = {}
            counter = [0]
            for name, call in requests(ids).items():
                if args.warmup and "IssueRefund" not in name:
                    await run_phase(target, call, args.clients, args.warmup, counter)
                results[name] = await run_phase(target, call, args.clients, args.seconds, counter)
        finally:
            proc.terminate()
            proc.wait(15)
    print(f"\ncommerce: {args.clients} concurrent clients, {args.seconds:g} s per RPC, one server process\n")
    print(f"{'rpc':<24}{'calls/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'calls':>9}{'errors':>8}")
    for name, r in results.items():
        print(f"{name:<24}{r['per_second']:>10.1f}{r['p50_ms']:>10.2f}{r['p99_ms']:>10.2f}{r['calls']:>9}"
              f"{r['errors']:>8}")
    out_dir = ROOT / "bench-results"
    out_dir.mkdir(exist_ok=True)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = out_dir / f"commerce-{stamp}.json"
    path.write_text(json.dumps({"at": stamp, "clients": args.clients, "seconds_per_phase": args.seconds,
                                "cpus": os.cpu_count(), "results": results}, indent=2))
    print(f"\nwritten to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    asyncio.run(main())
