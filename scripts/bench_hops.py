"""Hop completeness and indexing lag through the running mesh: N tickets in, every hop record out in ES.

Publishes N tickets on tickets.inbound at a steady rate, waits for their outcomes, then reads back every hop
record the mesh put on telemetry.hops for those tickets' traces (the expected set, gRPC client and server
hops included) and polls Elasticsearch until all of them are searchable. Reports expected vs found (lost
must be 0), duplicates, and the indexing lag per hop: `event.ingested` (when the hop-indexer took the batch)
minus `event.end` (when the hop finished), plus the time until the last hop was searchable.

  uv run python scripts/bench_hops.py [--tickets 300] [--rate 20]     (needs `make up`)
"""

import argparse
import asyncio
import json
import sys
import time
import uuid
from datetime import datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from elasticsearch import AsyncElasticsearch
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh_core import topics
from supportmesh_core.kafka import new_producer
from supportmesh_core.kafka_security import new_consumer

BODIES = [
    "Hi, where is my order #W2378156? It was due yesterday.",
    "Can you give me the tracking number for order #W2378156 please",
    "Outlook keeps asking for my password every few minutes, how do I fix it?",
    "How long does delivery usually take to reach Philadelphia?",
    "I would like a refund for my order #W2378156.",
]
CUSTOMER = {"email": "yusuf.rossi7301@example.com", "name": "Yusuf Rossi", "zip": "19122"}


async def ends(consumer: AIOKafkaConsumer, topic: str) -> dict[TopicPartition, int]:
    await consumer._client.force_metadata_update()  # the public API has no metadata refresh
    parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
    return await consumer.end_offsets(parts)


async def read_from(bootstrap: str, marks: dict, until, timeout: float) -> list:
    consumer = new_consumer(bootstrap, isolation_level="read_committed")
    await consumer.start()
    records: list = []
    try:
        consumer.assign(list(marks))
        for tp, offset in marks.items():
            consumer.seek(tp, offset)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not until(records):
            for recs in (await consumer.getmany(timeout_ms=300)).values():
                records.extend(recs)
        return records
    finally:
        await consumer.stop()


def _ns(text: str) -> int:
    head, _, frac = text.rstrip("Z").partition(".")
    return int(datetime.fromisoformat(head + "+00:00").timestamp()) * 10**9 + int(frac.ljust(9, "0")[:9])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1) if ordered else 0.0


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    parser.add_argument("--es", default="http://127.0.0.1:9200")
    parser.add_argument("--tickets", type=int, default=300)
    parser.add_argument("--rate", type=float, default=20.0, help="tickets per second")
    parser.add_argument("--timeout", type=float, default=180.0)
    args = parser.parse_args()
    run = uuid.uuid4().hex[:8]
    probe = new_consumer(args.bootstrap)
    await probe.start()
    try:
        out_marks = {**await ends(probe, topics.RESPONSES), **await ends(probe, topics.ESCALATIONS)}
        hop_marks = await ends(probe, topics.HOPS)
    finally:
        await probe.stop()

    ids = [f"T-benchhops-{run}-{i:05d}" for i in range(args.tickets)]
    producer = new_producer(args.bootstrap)
    await producer.start()
    started = time.monotonic()
    try:
        for i, tid in enumerate(ids):
            ticket = {"ticket_id": tid, "conversation_id": f"C-{tid}", "channel": "email", "customer": CUSTOMER,
                      "subject": "bench", "body": BODIES[i % len(BODIES)], "locale": "en"}
            await producer.send(topics.INBOUND, json.dumps(ticket).encode(), key=f"C-{tid}".encode(),
                                headers=[("content-type", b"application/json")])
            await asyncio.sleep(max(0.0, started + (i + 1) / args.rate - time.monotonic()))
        await producer.flush()
    finally:
        await producer.stop()
    publish_s = time.monotonic() - started
    print(f"published {len(ids)} tickets in {publish_s:.1f} s; waiting for outcomes", file=sys.stderr)

    wanted = set(ids)

    def answered(records) -> set[str]:
        return {dict(r.headers or ()).get("ticket-id", b"").decode() for r in records} & wanted

    outcomes = await read_from(args.bootstrap, out_marks, lambda rs: answered(rs) == wanted, args.timeout)
    traces = {json.loads(r.value).get("trace_id") for r in outcomes
              if dict(r.headers or ()).get("ticket-id", b"").decode() in wanted}
    traces.discard(None)
    outcomes_done_s = time.monotonic() - started
    # Every hop of those traces that reached telemetry.hops; the stage that answered last sends its hop
    # with its outcome, so a short grace period after the outcomes collects all of them.
    hop_records = await read_from(args.bootstrap, hop_marks, lambda rs: False, 5.0)
    expected = {}
    for rec in hop_records:
        hop = HopRecord.FromString(rec.value)
        if hop.trace_id in traces:
            expected[hop.span_id] = hop
    print(f"{len(answered(outcomes))} outcomes, {len(expected)} hop records; polling Elasticsearch",
          file=sys.stderr)

    es = AsyncElasticsearch(args.es, request_timeout=60)
    found: dict[str, dict] = {}
    try:
        deadline = time.monotonic() + args.timeout
        trace_list = sorted(traces)
        while time.monotonic() < deadline:
            await es.indices.refresh(index="supportmesh-hops-*")
            found = {}
            for i in range(0, len(trace_list), 500):
                response = await es.search(index="supportmesh-hops-*", size=10_000,
                                           query={"terms": {"trace.id": trace_list[i:i + 500]}},
                                           source_includes=["span.id", "event.end", "event.ingested"])
                for hit in response["hits"]["hits"]:
                    found[hit["_source"]["span"]["id"]] = hit["_source"]
            if set(expected) <= set(found):
                break
            await asyncio.sleep(0.5)
        all_indexed_s = time.monotonic() - started
    finally:
        await es.close()
    lags = [(_ns(doc["event"]["ingested"]) - _ns(doc["event"]["end"])) / 1e6 for doc in found.values()]
    print(json.dumps({
        "tickets": len(ids), "rate_per_s": args.rate, "publish_s": round(publish_s, 1),
        "outcomes": len(answered(outcomes)), "traces": len(traces),
        "hops_expected": len(expected), "hops_found": len(set(expected) & set(found)),
        "hops_lost": len(set(expected) - set(found)), "hops_per_ticket": round(len(expected) / max(1, len(ids)), 2),
        "index_lag_ms": {"p50": pct(lags, 0.5), "p95": pct(lags, 0.95), "p99": pct(lags, 0.99),
                         "max": pct(lags, 1.0)},
        "outcomes_done_s": round(outcomes_done_s, 1), "all_hops_searchable_s": round(all_indexed_s, 1),
    }, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
