"""Chaos: a service killed with SIGKILL, the Kafka broker restarted, Elasticsearch down for 60 s — mid-stream.

These stop shared servers: run them only when nobody else needs Kafka and Elasticsearch (make chaos).
"""

import asyncio
import gzip
import json
import os
import signal
import time
from collections import Counter

import grpc
import pytest
from aiokafka import AIOKafkaConsumer
from elasticsearch import AsyncElasticsearch
from supportmesh.commerce.v1 import commerce_pb2, commerce_pb2_grpc
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh_core import topics

pytestmark = pytest.mark.chaos

ES_OUTAGE_S = 60
COMMERCE = "127.0.0.1:50051"
OPS = (("x-service-token", "dev-ops-token"),)


def assert_exactly_once(result, label: str) -> None:
    assert not result.lost, f"{label}: {len(result.lost)} tickets lost: {result.lost[:5]}"
    assert not result.duplicates, f"{label}: tickets with two outcomes: {result.duplicates}"


async def pending_orders(repo, n: int) -> list[tuple[str, str]]:
    """(order id, owner's e-mail) of `n` orders the running store still has pending, owners all different."""
    with gzip.open(repo / "data" / "retail" / "db.json.gz", "rt") as f:
        db = json.load(f)
    found: list[tuple[str, str]] = []
    owners: set[str] = set()
    async with grpc.aio.insecure_channel(COMMERCE) as channel:
        stub = commerce_pb2_grpc.CommerceServiceStub(channel)
        # From the end of the seed, away from the orders the e2e tests and examples talk about.
        for order in reversed(list(db["orders"].values())):
            if order["status"] != "pending" or order["user_id"] in owners:
                continue
            now = await stub.GetOrder(commerce_pb2.GetOrderRequest(order_id=order["order_id"],
                                                                    customer_id=order["user_id"]), metadata=OPS,
                                      timeout=5)
            if now.status == "pending":
                found.append((order["order_id"], db["users"][order["user_id"]]["email"]))
                owners.add(order["user_id"])
            if len(found) == n:
                return found
    raise AssertionError(f"the store has fewer than {n} pending orders left: reseed it (python -m commerce reset)")


async def audited_writes(ticket_ids: list[str]) -> list[commerce_pb2.AuditEntry]:
    """What commerce itself recorded as done for these tickets: the authority on actions, not the replies."""
    entries = []
    async with grpc.aio.insecure_channel(COMMERCE) as channel:
        stub = commerce_pb2_grpc.CommerceServiceStub(channel)
        for tid in ticket_ids:
            reply = await stub.ListAudit(commerce_pb2.ListAuditRequest(ticket_id=tid, limit=100), metadata=OPS,
                                         timeout=10)
            entries += [e for e in reply.entries if e.outcome == "done"]
    return entries


async def test_sigkill_of_a_stage_mid_stream_loses_and_repeats_nothing(harness):
    victim = "technical-analyst"   # the stage that executes actions
    ids = harness.ids("kill", 150)
    # Every fifth ticket asks to cancel a different pending order, so cancellations are in flight when
    # the analyst dies; commerce's audit then tells whether any was carried out twice.
    orders = await pending_orders(harness.repo, len(ids) // 5)
    bodies = [(f"Please cancel my order {orders[i // 5][0]}, I ordered it by mistake.", orders[i // 5][1])
              if i % 5 == 4 else harness.bodies[i % len(harness.bodies)] for i in range(len(ids))]

    async def kill_and_restart() -> None:
        await asyncio.sleep(0.5)
        os.kill(harness.pid(victim), signal.SIGKILL)
        await asyncio.sleep(1)
        await asyncio.to_thread(harness.service, "start", victim)

    result = await harness.flow(f"kill -9 {victim} + restart", ids, rate=15, bodies=bodies,
                                during=kill_and_restart, at=50, timeout=150)
    cancel_ids = [tid for i, tid in enumerate(ids) if i % 5 == 4]
    done = await audited_writes(cancel_ids)
    per_order = Counter(e.order_id for e in done)
    per_ticket = Counter(e.ticket_id for e in done)
    # A ticket delayed past its budget by the crash may be escalated as degraded instead of acted on; what
    # must hold is that commerce did exactly what the replies say, once.
    claimed = {tid for tid in cancel_ids if tid in result.outcomes
               for a in result.first(tid).body.get("actions", []) if a.get("status") == "done"}
    harness.record(result, notes=f"{len(cancel_ids)} cancellation tickets: {len(done)} cancellations in "
                                 f"commerce's audit, {sum(n - 1 for n in per_order.values())} repeated, "
                                 f"{len(claimed)} told to the customer")
    assert_exactly_once(result, "kill -9")
    assert all(n == 1 for n in per_order.values()), f"an order was cancelled twice: {per_order.most_common(3)}"
    assert all(n == 1 for n in per_ticket.values()), f"a ticket acted twice: {per_ticket.most_common(3)}"
    assert set(per_ticket) == claimed, f"audit and replies disagree: {sorted(set(per_ticket) ^ claimed)[:5]}"
    assert len(claimed) >= len(cancel_ids) // 2, f"only {len(claimed)} of {len(cancel_ids)} cancellations done"


async def test_kafka_broker_restart_mid_stream_loses_nothing(harness):
    restarted: dict[str, float] = {}

    async def restart_broker() -> None:
        started = time.monotonic()
        await asyncio.to_thread(harness.infra, "stop", "kafka")
        await asyncio.to_thread(harness.infra, "start", "kafka")
        restarted["seconds"] = time.monotonic() - started

    result = await harness.flow("Kafka broker restart", harness.ids("kafka", 150), rate=10,
                                during=restart_broker, at=50, timeout=240)
    harness.record(result, notes=f"broker down and back in {restarted.get('seconds', 0):.0f} s")
    assert_exactly_once(result, "broker restart")


async def hops_on_kafka(bootstrap: str, marks: dict, ids: set[str]) -> set[str]:
    """Span ids of every hop record of `ids` on telemetry.hops after `marks`."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        consumer.assign(list(marks))
        for tp, offset in marks.items():
            consumer.seek(tp, offset)
        ends = await consumer.end_offsets(list(marks))
        pending = {tp for tp in marks if marks[tp] < ends[tp]}
        spans: set[str] = set()
        while pending:
            for tp, recs in (await consumer.getmany(timeout_ms=1000)).items():
                for rec in recs:
                    hop = HopRecord.FromString(rec.value)
                    if hop.ticket_id in ids:
                        spans.add(hop.span_id)
                if recs and recs[-1].offset + 1 >= ends[tp]:
                    pending.discard(tp)
        return spans
    finally:
        await consumer.stop()


async def indexed(es_url: str, ids: list[str]) -> set[str]:
    es = AsyncElasticsearch(es_url, request_timeout=30)
    try:
        await es.indices.refresh(index="supportmesh-hops-*")
        res = await es.search(index="supportmesh-hops-*", size=10_000, source_includes=["span.id"],
                              query={"terms": {"ticket.id": ids}})
        return {h["_source"]["span"]["id"] for h in res["hits"]["hits"]}
    finally:
        await es.close()


async def test_elasticsearch_down_for_a_minute_answers_continue_and_every_hop_lands(harness):
    hop_marks = await harness.reader.mark(topics.HOPS)
    down_at = time.monotonic()
    harness.infra("stop", "es")
    try:
        result = await harness.flow("Elasticsearch down 60 s", harness.ids("esdown", 90), rate=2, timeout=120)
        await asyncio.sleep(max(0.0, ES_OUTAGE_S - (time.monotonic() - down_at)))
    finally:
        harness.infra("start", "es")
    back_at = time.monotonic()
    expected = await hops_on_kafka(harness.bootstrap, hop_marks, set(result.ids))
    found: set[str] = set()
    while time.monotonic() - back_at < 180:
        found = await indexed(harness.es_url, result.ids)
        if expected <= found:
            break
        await asyncio.sleep(3)
    harness.record(result, notes=f"{len(found & expected)}/{len(expected)} hops indexed "
                                 f"{time.monotonic() - back_at:.0f} s after ES returned")
    assert_exactly_once(result, "ES down")
    assert expected and expected <= found, f"{len(expected - found)} hops never reached Elasticsearch"
