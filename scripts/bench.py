"""Load benchmark: publish realistic tickets through the running mesh; print throughput, latency and memory.

Two phases: a burst (every ticket published as fast as possible: sustained throughput) and a paced run
at a fixed rate (end-to-end latency at that rate). Latency is measured by this client, from just before
publishing a ticket to the arrival of its outcome on tickets.responses or tickets.escalations.
The cost model: each mesh process's CPU (user + system, from /proc) over a phase divided by the phase's
tickets, and each process's share of the total. At the paced rate it includes what the processes spend while
idle between tickets (polls, heartbeats, Elasticsearch's own work), so it is higher than in the burst.

The in-process ceiling (scripts/bench_inprocess.py): the same five stages in this one process, each built by its
service's own `build()` in app.py (its Settings class, the trained classifier, the compressor's SQLite store, the
retriever's Elasticsearch and commerce gRPC clients, the analyst's commerce client), each ticket carried through
the mesh's own `Stage.handle_record` stage after stage, a forward handed to the next stage instead of to Kafka,
`--concurrency` tickets at a time (default KAFKA_MAX_BATCH, a stage's in-flight limit in the mesh). Included as in
the mesh: decoding, protobuf serialisation between stages, the ledger, retries, degradation, the routing slip,
spans, hop records (built and counted, then dropped), every Elasticsearch and commerce call. Left out: Kafka (broker,
produce, fetch, acks, commits, faststream), the hop indexer's writes into Elasticsearch, the ledger's reading of the
outcome topics, chaos flags, health servers, and the five processes: here one event loop, at most one core of
Python. Latency runs from a ticket's first stage to its outcome, beside up to `--concurrency` others; the wait for
its turn, which the burst's latency includes, is not in it. CPU per ticket: this process's, commerce's and
Elasticsearch's (from /proc, as for the mesh), measured after a few unmeasured warm-up tickets.
The compressor's and analyst's stores are fresh files in a temporary directory; commerce's store is the live one.
  --in-process  only the ceiling, on -n tickets (Kafka is not needed; Elasticsearch and commerce are).
  --ceiling     after the mesh phases, the ceiling on the burst's tickets (same seed and count, fresh ids), and
                mesh burst throughput ÷ in-process throughput, both measured in this run ("ceiling" in the JSON).
"""

import argparse
import asyncio
import gzip
import json
import os
import pathlib
import random
import resource
import sys
import tempfile
import time
import uuid
from collections import Counter

from aiokafka import AIOKafkaConsumer, TopicPartition
from supportmesh_core import topics
from supportmesh_core.kafka import ensure_topics, new_producer
from supportmesh_core.kafka_security import new_consumer

REPO = pathlib.Path(__file__).resolve().parent.parent
STATE = REPO / ".infra"


def ticket_kinds(rng: random.Random):
    """Generators of realistic tickets drawn from the seeded store and the knowledge base."""
    db = json.loads(gzip.open(REPO / "data/retail/db.json.gz").read())
    users = list(db["users"].values())
    orders = db["orders"]
    titles = []
    with gzip.open(REPO / "data/kb/office_support_articles.jsonl.gz", "rt") as f:
        for line in f:
            titles.append(json.loads(line)["title"])

    def customer():
        u = rng.choice([u for u in users[:200] if u["orders"]])
        name = f"{u['name']['first_name']} {u['name']['last_name']}"
        return u, {"email": u["email"], "name": name, "zip": u["address"]["zip"]}

    def lookup():
        u, c = customer()
        oid = rng.choice(u["orders"])
        body = rng.choice(["Hi, where is my order {o}? It should have arrived by now.",
                           "Can you tell me the status of order {o} please?",
                           "What's the tracking number for my order {o}?"]).format(o=oid)
        return "order status", body, c

    def refund():
        u, c = customer()
        oid = rng.choice(u["orders"])
        total = sum(i["price"] for i in orders[oid]["items"])
        return "refund", f"I want a refund for order {oid}, it cost ${total:.2f} and it's not what I expected.", c

    def technical():
        _, c = customer()
        return "problem", f"Hello, I have a problem: {rng.choice(titles).rstrip('.')}. What should I do?", c

    def chitchat():
        _, c = customer()
        return "hi", rng.choice(["Thanks a lot for the quick help yesterday!", "Hello, is anyone there?",
                                 "What's the weather like in Rome tomorrow?", "Tell me a joke please"]), c

    return [(lookup, 0.4), (refund, 0.2), (technical, 0.3), (chitchat, 0.1)]


def make_tickets(n: int, seed: int, run: str) -> list[dict]:
    rng = random.Random(seed)
    kinds = ticket_kinds(rng)
    makers, weights = zip(*kinds, strict=True)
    tickets = []
    for i in range(n):
        subject, body, cust = rng.choices(makers, weights)[0]()
        tid = f"T-bench-{run}-{i:05d}"
        tickets.append({"ticket_id": tid, "conversation_id": f"C-{tid}", "channel": "bench",
                        "customer": cust, "subject": subject, "body": body})
    return tickets


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


_last_progress: dict[str, int] = {}


def progress(done: int, total: int, label: str) -> None:
    step = max(1, total // 100)
    if done != total and done - _last_progress.get(label, -step) < step:
        return  # redraw once per percent, so a captured log stays short
    _last_progress[label] = done
    width = 30
    filled = int(width * done / max(total, 1))
    sys.stderr.write(f"\r{label:<8} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    sys.stderr.flush()


def degraded(value: bytes) -> bool:
    """An outcome that is not full quality: escalated because the mesh could not keep up (`degraded`), or
    answered or escalated with a stage skipped or cut short (its `degradations`); as the chaos report counts."""
    try:
        body = json.loads(value)
    except ValueError:
        return False
    return body.get("reason") == "degraded" or bool(body.get("degradations"))


async def run_phase(bootstrap: str, tickets: list[dict], rate: float | None, label: str, timeout: float) -> dict:
    """Publish `tickets` (at `rate` per second, or unpaced) and wait for every outcome."""
    sent: dict[str, float] = {}
    got: dict[str, float] = {}
    consumer = new_consumer(bootstrap, isolation_level="read_committed")
    await consumer.start()
    parts = [TopicPartition(t, p) for t in (topics.RESPONSES, topics.ESCALATIONS)
             for p in consumer.partitions_for_topic(t) or (await _refresh(consumer, t))]
    consumer.assign(parts)
    for tp, off in (await consumer.end_offsets(parts)).items():
        consumer.seek(tp, off)
    outcomes = {"responses": 0, "escalations": 0, "degraded": 0}

    async def listen():
        while len(got) < len(tickets):
            batch = await consumer.getmany(timeout_ms=200)
            now = time.perf_counter()
            for tp, recs in batch.items():
                for r in recs:
                    tid = dict(r.headers or ()).get("ticket-id", b"").decode()
                    if tid in sent and tid not in got:
                        got[tid] = now
                        outcomes["responses" if tp.topic == topics.RESPONSES else "escalations"] += 1
                        outcomes["degraded"] += degraded(r.value)
            progress(len(got), len(tickets), label)

    producer = new_producer(bootstrap, linger_ms=2)
    await producer.start()
    listener = asyncio.create_task(listen())
    start = time.perf_counter()
    try:
        for i, t in enumerate(tickets):
            if rate:
                delay = start + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            sent[t["ticket_id"]] = time.perf_counter()
            await producer.send(topics.INBOUND, json.dumps(t).encode(), key=t["conversation_id"].encode(),
                                headers=[("content-type", b"application/json")])
        await producer.flush()
        published = time.perf_counter()
        try:
            await asyncio.wait_for(listener, timeout)
        except TimeoutError:
            pass
    finally:
        listener.cancel()
        await producer.stop()
        await consumer.stop()
    sys.stderr.write("\n")
    done = time.perf_counter()
    lat = [(got[t] - sent[t]) * 1000 for t in got]
    elapsed = (max(got.values()) if got else done) - start
    return {"phase": label, "tickets": len(tickets), "outcomes": len(got), **outcomes,
            "lost_or_late": len(tickets) - len(got), "rate_target": rate,
            "publish_s": round(published - start, 2), "elapsed_s": round(elapsed, 2),
            "throughput_per_s": round(len(got) / elapsed, 1) if elapsed > 0 else 0.0,
            "p50_ms": round(percentile(lat, 50), 1), "p95_ms": round(percentile(lat, 95), 1),
            "p99_ms": round(percentile(lat, 99), 1), "max_ms": round(max(lat), 1) if lat else None}


async def _refresh(consumer: AIOKafkaConsumer, topic: str):
    await consumer._client.force_metadata_update()
    return consumer.partitions_for_topic(topic) or ()


def processes() -> dict[str, int]:
    """Every process the mesh started, by name (Elasticsearch keeps its pid file beside its data)."""
    found = {}
    for pidfile in sorted((STATE / "pids").glob("*.pid")) + sorted(STATE.glob("elasticsearch/*.pid")):
        try:
            found[pidfile.stem] = int(pidfile.read_text().strip())
        except (OSError, ValueError):
            continue
    return found


def cpu_seconds(procs: dict[str, int] | None = None) -> dict[str, float]:
    """User + system CPU seconds each mesh process (or each of `procs`) has used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = {}
    for name, pid in (processes() if procs is None else procs).items():
        try:
            fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[name] = (int(fields[11]) + int(fields[12])) / ticks
    return used


def memory(cpu: dict[str, dict[str, float]], per_ticket: dict[str, dict[str, float]]) -> list[dict]:
    """Peak (VmHWM) and current (VmRSS) resident memory, CPU share and CPU milliseconds per ticket per phase, of
    each process."""
    rows = []
    for name, pid in processes().items():
        try:
            status = pathlib.Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        row = {"process": name, "pid": pid,
               "peak_rss_mb": round(int(fields["VmHWM"].split()[0]) / 1024, 1),
               "rss_mb": round(int(fields["VmRSS"].split()[0]) / 1024, 1)}
        for phase, per in cpu.items():
            row[f"cpu_{phase}"] = f"{per.get(name, 0):.0%}"
        for phase, per in per_ticket.items():
            row[f"cpu_ms_per_ticket_{phase}"] = round(per.get(name, 0.0), 2)
        rows.append(row)
    return rows


def cost_summary(per_ticket: dict[str, float]) -> str:
    """CPU milliseconds per ticket over the whole mesh, and the share of Kafka, Elasticsearch and the stages."""
    total = sum(per_ticket.values())
    if not total:
        return "no CPU measured"
    shares = sorted(per_ticket.items(), key=lambda kv: -kv[1])
    return f"{total:.1f} ms CPU per ticket: " + ", ".join(f"{n} {v / total:.0%}" for n, v in shares if v)


def in_process_summary(label: str, latencies: list[float], outcomes: list, elapsed: float, concurrency: int) -> dict:
    """The ceiling's figures, in the mesh phases' columns, from `bench_inprocess.run_pool`'s results."""
    kinds = Counter(o.kind for o in outcomes)
    done = kinds["responses"] + kinds["escalations"]
    row = {"phase": label, "tickets": len(outcomes), "outcomes": done, "responses": kinds["responses"],
           "escalations": kinds["escalations"], "lost_or_late": kinds["lost"], "concurrency": concurrency,
           "elapsed_s": round(elapsed, 2), "throughput_per_s": round(done / elapsed, 1) if elapsed > 0 else 0.0,
           "p50_ms": round(percentile(latencies, 50), 1), "p95_ms": round(percentile(latencies, 95), 1),
           "p99_ms": round(percentile(latencies, 99), 1), "max_ms": round(max(latencies), 1) if latencies else None,
           "escalation_reasons": dict(Counter(o.reason for o in outcomes if o.kind == "escalations").most_common()),
           "hop_records_per_ticket": round(sum(o.hops for o in outcomes) / len(outcomes), 2) if outcomes else 0.0}
    if kinds["lost"]:
        row["lost_reasons"] = dict(Counter(o.reason for o in outcomes if o.kind == "lost").most_common())
    return row


def ceiling_ratio(mesh: dict, ceiling: dict, mesh_cpu: dict[str, float], ceiling_cpu: dict[str, float]) -> dict:
    """Mesh ÷ in-process: the share of the ceiling's throughput the mesh reaches, and its CPU per ticket over the
    ceiling's (each the sum over the processes measured)."""
    def ratio(a: float, b: float) -> float | None:
        return round(a / b, 3) if b else None

    mesh_ms, ceiling_ms = sum(mesh_cpu.values()), sum(ceiling_cpu.values())
    mesh_tps, ceiling_tps = mesh["throughput_per_s"], ceiling["throughput_per_s"]
    return {"mesh_throughput_per_s": mesh_tps, "in_process_throughput_per_s": ceiling_tps,
            "throughput_ratio": ratio(mesh_tps, ceiling_tps),
            "mesh_cpu_ms_per_ticket": round(mesh_ms, 2), "in_process_cpu_ms_per_ticket": round(ceiling_ms, 2),
            "cpu_ratio": ratio(mesh_ms, ceiling_ms)}


async def settle(patience_s: float = 30.0, busy_cores: float = 0.1) -> float:
    """Wait (at most `patience_s`) for the hop indexer and Elasticsearch to finish the burst's after-work, so the
    ceiling's Elasticsearch CPU is its own; returns the seconds waited."""
    start = time.perf_counter()
    while time.perf_counter() - start < patience_s:
        before = cpu_seconds()
        await asyncio.sleep(1.0)
        after = cpu_seconds()
        if sum(after[n] - before.get(n, 0.0) for n in ("hop-indexer", "elasticsearch") if n in after) < busy_cores:
            break
    return time.perf_counter() - start


async def in_process_phase(tickets: list[dict], warmup: list[dict], concurrency: int | None,
                           label: str) -> tuple[dict, dict[str, float]]:
    """The ceiling on `tickets` (after `warmup`, not measured: first connections, caches); its summary and the CPU
    milliseconds per ticket of this process, commerce and Elasticsearch."""
    import bench_inprocess  # here, so a mesh-only run does not load the five services' code

    with tempfile.TemporaryDirectory(prefix="bench-inprocess-") as data_dir:
        stages, close = await bench_inprocess.build_stages(data_dir)
        try:
            concurrency = concurrency or stages[topics.STAGES[0]].settings.max_batch
            await bench_inprocess.run_pool(stages, warmup, concurrency)
            procs = {"in-process": os.getpid(),
                     **{n: pid for n, pid in processes().items() if n in ("commerce", "elasticsearch")}}
            before = cpu_seconds(procs)
            latencies, outcomes, elapsed = await bench_inprocess.run_pool(
                stages, tickets, concurrency, lambda done: progress(done, len(tickets), label))
            after = cpu_seconds(procs)
        finally:
            await close()
    sys.stderr.write("\n")
    row = in_process_summary(label, latencies, outcomes, elapsed, concurrency)
    row["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return row, {n: (after[n] - before.get(n, 0.0)) * 1000 / len(tickets) for n in after}


def print_table(rows: list[dict], cols: list[str]) -> None:
    widths = [max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in cols]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
    for r in rows:
        print("  ".join(str(r.get(c, "")).ljust(w) for c, w in zip(cols, widths, strict=True)))


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", "--tickets", type=int, default=2000,
                    help="tickets in the burst phase (and in the in-process ceiling)")
    ap.add_argument("--rate", type=float, default=50.0, help="tickets per second in the paced phase")
    ap.add_argument("--paced", type=int, default=1000, help="tickets in the paced phase (0 to skip)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for outcomes after publishing")
    ap.add_argument("--bootstrap", default=None)
    ap.add_argument("--out", default=str(REPO / "bench-results"))
    ceiling = ap.add_mutually_exclusive_group()
    ceiling.add_argument("--in-process", action="store_true",
                         help="run only the in-process ceiling on -n tickets (no Kafka, no mesh phases)")
    ceiling.add_argument("--ceiling", action="store_true",
                         help="after the mesh phases, run the in-process ceiling on the burst's tickets and report "
                              "mesh burst throughput / in-process throughput")
    ap.add_argument("--concurrency", type=int, default=None,
                    help="tickets in flight at once in the in-process ceiling (default KAFKA_MAX_BATCH, 200)")
    args = ap.parse_args()
    bootstrap = args.bootstrap or os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    run = uuid.uuid4().hex[:6]
    phases = []
    cpu: dict[str, dict[str, float]] = {}
    per_ticket: dict[str, dict[str, float]] = {}

    async def measured(tickets, rate, label, key):
        before, t0 = cpu_seconds(), time.perf_counter()
        phases.append(await run_phase(bootstrap, tickets, rate, label, args.timeout))
        after, wall = cpu_seconds(), time.perf_counter() - t0
        used = {n: after[n] - before.get(n, 0.0) for n in after}
        # Share of one core used during the phase; the machine has os.cpu_count() of them.
        cpu[key] = {n: u / wall for n, u in used.items()}
        # The cost model: CPU milliseconds each process spent per ticket of the phase (the bench client's own
        # CPU is not counted).
        per_ticket[key] = {n: u * 1000 / len(tickets) for n, u in used.items()}

    if not args.in_process:
        await ensure_topics(bootstrap, topics.all_topics())
        if args.paced:
            await measured(make_tickets(args.paced, args.seed + 1, run + "p"), args.rate,
                           f"paced@{args.rate:g}/s", "paced")
        await measured(make_tickets(args.tickets, args.seed, run + "b"), None, "burst", "burst")
    in_process, in_process_cpu, ratio = None, {}, None
    if args.in_process or args.ceiling:
        if args.ceiling:
            sys.stderr.write(f"waited {await settle():.0f}s for the mesh to go idle\n")
        # The burst's tickets again (same seed and count), under new ids: new conversations, as in the burst.
        in_process, in_process_cpu = await in_process_phase(
            make_tickets(args.tickets, args.seed, run + "i"), make_tickets(20, args.seed + 2, run + "w"),
            args.concurrency, "in-process")
        in_process["cpu_ms_per_ticket"] = {n: round(v, 3) for n, v in in_process_cpu.items()}
    if args.ceiling:
        ratio = ceiling_ratio(phases[-1], in_process, per_ticket["burst"], in_process_cpu)
    mem = memory(cpu, per_ticket)
    print()
    print_table(phases + ([in_process] if in_process else []),
                ["phase", "tickets", "outcomes", "responses", "escalations", "degraded", "lost_or_late",
                 "concurrency", "elapsed_s", "throughput_per_s", "p50_ms", "p95_ms", "p99_ms", "max_ms"])
    if in_process:
        reasons = ", ".join(f"{r or '?'} {c}" for r, c in in_process["escalation_reasons"].items()) or "none"
        print(f"in-process escalations by reason: {reasons}")
        print(f"in-process: {cost_summary(in_process_cpu)} (peak RSS {in_process['peak_rss_mb']} MB)")
    if ratio:
        print(f"mesh burst / in-process: {ratio['mesh_throughput_per_s']}/s / {ratio['in_process_throughput_per_s']}/s"
              f" = {ratio['throughput_ratio']} of the ceiling; CPU per ticket {ratio['mesh_cpu_ms_per_ticket']} ms"
              f" / {ratio['in_process_cpu_ms_per_ticket']} ms = {ratio['cpu_ratio']}")
    print()
    print_table(mem, ["process", "pid", "peak_rss_mb", "rss_mb", *(f"cpu_{k}" for k in cpu),
                      *(f"cpu_ms_per_ticket_{k}" for k in per_ticket)])
    for key, per in per_ticket.items():
        print(f"{key}: {cost_summary(per)}")
    total = round(sum(m["rss_mb"] for m in mem), 1)
    print(f"\nwhole mesh resident now: {total} MB")
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({"phases": phases, "processes": mem, "total_rss_mb": total,
                                "cpu_ms_per_ticket": {k: {n: round(v, 3) for n, v in per.items()}
                                                      for k, per in per_ticket.items()},
                                "in_process": in_process, "ceiling": ratio, "args": vars(args)}, indent=2))
    print(f"written {path}")


if __name__ == "__main__":
    asyncio.run(main())
