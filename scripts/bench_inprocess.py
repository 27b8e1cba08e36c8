"""The in-process ceiling: the five stages, built as their services build them, run in one process without Kafka."""

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiokafka import ConsumerRecord
from context_compressor import app as compressor_app
from context_compressor.adapters.catalog import product_names
from intent_classifier import app as classifier_app
from intent_classifier.handlers import TicketDecoder
from response_generator import app as generator_app
from retriever import app as retriever_app
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh_core import topics
from supportmesh_core.logging import configure_logging
from supportmesh_core.stage import Stage, decode_envelope
from supportmesh_core.telemetry import setup_tracing
from supportmesh_llm import ModelConfig
from technical_analyst import app as analyst_app

# Each service's app module and the arguments its main() passes to its build(), in the mesh's stage order.
APPS = {
    "intent-classifier": (classifier_app, lambda s: (classifier_app.load_workflows(s),
                                                     ModelConfig.from_env(s.service_name))),
    "context-compressor": (compressor_app, lambda s: (ModelConfig.from_env(s.service_name),
                                                      product_names(s.catalog_path))),
    "retriever": (retriever_app, lambda s: ()),
    "technical-analyst": (analyst_app, lambda s: (ModelConfig.from_env(s.service_name),)),
    "response-generator": (generator_app, lambda s: (ModelConfig.from_env(s.service_name),)),
}
OUTCOME_KINDS = {topics.RESPONSES: "responses", topics.ESCALATIONS: "escalations"}
# Every forward pops the slip, so a ticket visiting more stages than this has a handler refilling it forever.
MAX_HOPS = 2 * len(topics.STAGES)
_STAGE_OF_TOPIC = {topics.stage_topic(s): s for s in topics.STAGES}


@dataclass
class Outcome:
    kind: str          # "responses", "escalations", or "lost" (dead-lettered, dropped, looping)
    reason: str = ""   # the escalation's reason, or why it was lost
    stage: str = ""    # the stage that produced it
    hops: int = 0      # hop records produced on the way (counted, then dropped)
    value: bytes = b""  # the outcome record as published (a Response or Escalation)


def record(topic: str, value: bytes, key: bytes | None, headers: list[tuple[str, bytes]]) -> ConsumerRecord:
    """What the next stage's consumer would be handed: the published bytes and headers (one partition, offset 0)."""
    return ConsumerRecord(topic=topic, partition=0, offset=0, timestamp=int(time.time() * 1000), timestamp_type=0,
                          key=key, value=value, checksum=None, serialized_key_size=len(key or b""),
                          serialized_value_size=len(value), headers=headers)


async def drive(stages: dict[str, Stage], ticket: dict) -> Outcome:
    """One ticket through the stages as the mesh carries it: each stage's own `Stage.handle_record` (decode, dedupe,
    retries, degradation, routing slip), its forward handed straight to the next stage instead of to Kafka."""
    rec = record(topics.INBOUND, json.dumps(ticket).encode(), ticket["conversation_id"].encode(),
                 [("content-type", b"application/json")])
    hops, service = 0, topics.STAGES[0]
    for _ in range(MAX_HOPS):
        service = _STAGE_OF_TOPIC[rec.topic]
        out = await stages[service].handle_record(rec)
        hops += sum(o.topic == topics.HOPS for o in out)
        sent = [o for o in out if o.topic != topics.HOPS]
        if not sent:
            return Outcome("lost", "dropped", service, hops)   # a duplicate the stage's ledger suppressed
        nxt = sent[0]
        if nxt.topic in OUTCOME_KINDS:
            own = HopRecord.FromString(out[-1].value)   # the stage's own hop record comes last
            return Outcome(OUTCOME_KINDS[nxt.topic], own.escalation_reason, service, hops, nxt.value)
        if nxt.topic == topics.DLQ:
            return Outcome("lost", "dead_letter", service, hops)
        rec = record(nxt.topic, nxt.value, nxt.key, nxt.headers)
    return Outcome("lost", "routing_loop", service, hops)


async def run_pool(stages: dict[str, Stage], tickets: list[dict], concurrency: int,
                   on_done: Callable[[int], None] = lambda done: None) -> tuple[list[float], list[Outcome], float]:
    """Every ticket through `drive`, `concurrency` at a time; per-ticket latencies (ms), outcomes, elapsed seconds."""
    latencies: list[float] = []
    outcomes: list[Outcome] = []
    pending = iter(tickets)

    async def worker() -> None:
        for ticket in pending:   # shared: a worker takes the next ticket as soon as it finished one
            started = time.perf_counter()
            outcomes.append(await drive(stages, ticket))
            latencies.append((time.perf_counter() - started) * 1000)
            on_done(len(outcomes))

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, len(tickets))))))
    return latencies, outcomes, time.perf_counter() - start


async def build_stages(data_dir: str, overrides: dict[str, dict[str, str]] | None = None,
                       ) -> tuple[dict[str, Stage], Callable[[], Awaitable[None]]]:
    """Each stage as its service runs it: its Settings, its app's build() (same adapters), its decoder.

    `data_dir` replaces SUPPORTMESH_DATA_DIR, so the compressor's and the analyst's SQLite stores are fresh
    ones of the bench's, never the running services' files; `overrides` adds settings per service (a test's
    own commerce address and tokens)."""
    # The service name is set as deploy/mesh.sh sets it, so one OTEL_SERVICE_NAME in the environment cannot
    # make the five settings one service's.
    settings_of = {name: app.Settings(OTEL_SERVICE_NAME=name, SUPPORTMESH_DATA_DIR=data_dir,
                                      **(overrides or {}).get(name, {}))
                   for name, (app, _) in APPS.items()}
    configure_logging("bench-inprocess", settings_of[topics.STAGES[0]].log_level)
    setup_tracing("bench-inprocess")   # real SDK spans, as in the services (exported only if OTLP is configured)
    stages: dict[str, Stage] = {}
    closers: list[Callable[[], Awaitable[None]]] = []
    for name, (app, build_args) in APPS.items():
        settings = settings_of[name]
        handler, close = await app.build(settings, *build_args(settings))
        closers.append(close)
        decoder = TicketDecoder(settings.ticket_budget_ms) if name == topics.STAGES[0] else decode_envelope
        stages[name] = Stage(settings, handler, decoder=decoder)

    async def close_all() -> None:
        for close in reversed(closers):
            await close()

    return stages, close_all
