"""Loads N hop documents (default 1M) through the real index template, then measures trace lookups by ticket id.

The documents are made by the hop-indexer's own mapping code from HopRecords shaped like real traces (nine
hops per ticket: five stages, two gRPC calls with their server hops), spread over daily indices
<prefix>-YYYY.MM.DD under supportmesh-hops-*, so the real template applies. The default prefix
`supportmesh-hops-bench` keeps them apart from the live index (the janitor never touches other prefixes);
they are deleted at the end unless --keep.

Measured: load rate; then for random tickets, (a) one `term ticket.id` search sorted by @timestamp, as a
Kibana saved search runs it, and (b) the `supportmesh trace` lookup (ticket → its trace → every hop),
both as wall-clock time at the client. Prints one JSON object.

  uv run python scripts/bench_trace_lookup.py [--docs 1000000] [--lookups 500] [--keep]
"""

import argparse
import asyncio
import json
import random
import sys
import time

from elasticsearch import AsyncElasticsearch
from hop_indexer.adapters.elastic import ElasticDocStore
from hop_indexer.domain.documents import hop_to_document
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh_cli.trace import fetch
from supportmesh_eval.stats import percentiles

STAGES = ["intent-classifier", "context-compressor", "retriever", "technical-analyst", "response-generator"]
HOPS_PER_TICKET = 9
DAY_NS = 86_400 * 10**9


def ticket_hops(n: int, start_ns: int, rng: random.Random) -> list[HopRecord]:
    trace_id = f"{rng.getrandbits(128):032x}"
    ticket = f"T-bench-{n:09d}"
    spans = [f"{rng.getrandbits(64):016x}" for _ in range(HOPS_PER_TICKET)]
    hops, t, parent = [], start_ns, ""
    for i, stage in enumerate(STAGES):
        took = rng.randint(500_000, 50_000_000)
        hop = HopRecord(start_unix_nanos=t, trace_id=trace_id, span_id=spans[i], parent_id=parent, service=stage,
                        action=stage, duration_ns=took, outcome="success" if rng.random() > 0.02 else "failure",
                        ticket_id=ticket, conversation_id=ticket, kafka_topic=f"stage.{stage}",
                        kafka_partition=n % 3, kafka_offset=n, span_kind="consumer", intent="track_order",
                        confidence=round(rng.random(), 3), engine="local", message="where is my order [email]")
        hops.append(hop)
        if stage == "retriever":
            for j, method in enumerate(("FindCustomerByEmail", "GetOrder")):
                client, server = spans[5 + 2 * j], spans[6 + 2 * j]
                hops.append(HopRecord(start_unix_nanos=t + 1000, trace_id=trace_id, span_id=client,
                                      parent_id=spans[i], service=stage, action=f"call {method}",
                                      duration_ns=took // 3, outcome="success", ticket_id=ticket,
                                      conversation_id=ticket, span_kind="client"))
                hops.append(HopRecord(start_unix_nanos=t + 2000, trace_id=trace_id, span_id=server, parent_id=client,
                                      service="commerce", action=method, duration_ns=took // 4, outcome="success",
                                      span_kind="server", labels={"rpc_grpc_status_code": "OK"}))
        parent, t = spans[i], t + took + 100_000
    return hops


async def load(es: AsyncElasticsearch, prefix: str, docs: int, days: int, batch: int, concurrency: int) -> float:
    rng = random.Random(7)
    now = time.time_ns()
    tickets = docs // HOPS_PER_TICKET
    queue: asyncio.Queue = asyncio.Queue(maxsize=concurrency * 2)

    async def sender() -> None:
        while (ops := await queue.get()) is not None:
            response = await es.bulk(operations=ops, refresh=False)
            if response["errors"]:
                first = next(i for i in response["items"] if i["index"].get("error"))
                raise RuntimeError(f"bulk refused a document: {first}")

    senders = [asyncio.create_task(sender()) for _ in range(concurrency)]
    started = time.monotonic()
    ops: list[dict] = []
    for n in range(tickets):
        # Spread over `days` daily indices, newest first, as a retention window fills up.
        start = now - rng.randrange(days * DAY_NS)
        for hop in ticket_hops(n, start, rng):
            doc = hop_to_document(hop, index_prefix=prefix, ingested_unix_nanos=start + 500_000_000,
                                  topic="telemetry.hops", partition=n % 3, offset=n)
            ops += [{"index": {"_index": doc.index, "_id": doc.doc_id}}, doc.body]
        if len(ops) >= batch * 2:
            await queue.put(ops)
            ops = []
            if n and n % 20_000 == 0:
                print(f"  {n * HOPS_PER_TICKET:,} docs queued, {time.monotonic() - started:.0f} s", file=sys.stderr)
    if ops:
        await queue.put(ops)
    for _ in senders:
        await queue.put(None)
    await asyncio.gather(*senders)
    return time.monotonic() - started


async def measure(es: AsyncElasticsearch, pattern: str, tickets: int, lookups: int) -> dict:
    rng = random.Random(11)
    ids = [f"T-bench-{rng.randrange(tickets):09d}" for _ in range(lookups)]
    term_ms, took_ms, trace_ms, hop_counts = [], [], [], []
    for ticket in ids[:20]:  # warm-up: the first searches load the field data structures
        await es.search(index=pattern, query={"term": {"ticket.id": ticket}}, size=100)
    for ticket in ids:
        t0 = time.perf_counter()
        response = await es.search(index=pattern, query={"term": {"ticket.id": ticket}},
                                   sort=[{"@timestamp": "asc"}], size=100)
        term_ms.append((time.perf_counter() - t0) * 1000)
        took_ms.append(response["took"])
        t0 = time.perf_counter()
        trace = await fetch(es, pattern, ticket)
        trace_ms.append((time.perf_counter() - t0) * 1000)
        hop_counts.append(len(trace.hops))
    assert all(c == HOPS_PER_TICKET for c in hop_counts), f"a trace lookup missed hops: {set(hop_counts)}"
    return {"lookups": lookups, "ticket_term_query_ms": percentiles(term_ms), "es_took_ms": percentiles(took_ms),
            "supportmesh_trace_ms": percentiles(trace_ms), "hops_per_trace": HOPS_PER_TICKET}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--es", default="http://127.0.0.1:9200")
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--prefix", default="supportmesh-hops-bench")
    parser.add_argument("--lookups", type=int, default=500)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--skip-load", action="store_true", help="measure an index loaded by an earlier --keep run")
    parser.add_argument("--keep", action="store_true", help="leave the bench indices in place")
    args = parser.parse_args()
    if not args.prefix.startswith("supportmesh-hops-"):
        parser.error("--prefix must start with supportmesh-hops- so the real template applies")
    pattern = f"{args.prefix}-*"
    store = ElasticDocStore(args.es, "supportmesh-hops-*", 30)
    await store.install_template()
    await store.close()
    es = AsyncElasticsearch(args.es, request_timeout=120)
    result: dict = {"docs": args.docs // HOPS_PER_TICKET * HOPS_PER_TICKET, "days": args.days, "pattern": pattern}
    try:
        if not args.skip_load:
            await es.indices.delete(index=pattern, ignore_unavailable=True, allow_no_indices=True)
            seconds = await load(es, args.prefix, args.docs, args.days, args.batch, args.concurrency)
            result["load_s"] = round(seconds, 1)
            result["load_docs_per_s"] = round(result["docs"] / seconds)
        await es.indices.refresh(index=pattern)
        count = (await es.count(index=pattern))["count"]
        assert count == result["docs"], f"{count} documents in {pattern}, expected {result['docs']}"
        stats = await es.indices.stats(index=pattern, metric="store")
        result["indices"] = len(stats["indices"])
        result["store_mb"] = round(stats["_all"]["primaries"]["store"]["size_in_bytes"] / 2**20, 1)
        result.update(await measure(es, pattern, result["docs"] // HOPS_PER_TICKET, args.lookups))
    finally:
        if not args.keep:
            await es.indices.delete(index=pattern, ignore_unavailable=True, allow_no_indices=True)
        await es.close()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
