"""Chaos: a service killed with SIGKILL, the Kafka broker restarted, Elasticsearch down for 60 s — mid-stream.

These stop shared servers: run them only when nobody else needs Kafka and Elasticsearch (make chaos).
"""

import asyncio
import os
import signal
import time

import pytest
from aiokafka import AIOKafkaConsumer
from elasticsearch import AsyncElasticsearch
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh_core import topics

pytestmark = pytest.mark.chaos

ES_OUTAGE_S = 60


def assert_exactly_once(result, label: str) -> None:
    assert not result.lost, f"{label}: {len(result.lost)} tickets lost: {result.lost[:5]}"
    assert not result.duplicates, f"{label}: tickets with two outcomes: {result.duplicates}"


async def test_sigkill_of_a_stage_mid_stream_loses_and_repeats_nothing(harness):
    victim = "technical-analyst"   # the stage that executes actions
    ids = harness.ids("kill", 150)
    # Every fifth ticket asks to cancel a different pending order, so cancellations are in flight when
    # the analyst dies; commerce's audit then tells whether any was carried out twice.
    bodies, cancel_ids = await harness.with_cancellations(ids, every=5)

    async def kill_and_restart() -> None:
        await asyncio.sleep(0.5)
        os.kill(harness.pid(victim), signal.SIGKILL)
        await asyncio.sleep(1)
        await asyncio.to_thread(harness.service, "start", victim)

    result = await harness.flow(f"kill -9 {victim} + restart", ids, rate=15, bodies=bodies,
                                during=kill_and_restart, at=50, timeout=150)
    actions = await harness.actions(result, cancel_ids)
    harness.record(result, notes=actions.note())
    assert_exactly_once(result, "kill -9")
    actions.assert_once()


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
