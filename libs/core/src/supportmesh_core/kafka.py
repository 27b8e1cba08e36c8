"""Kafka plumbing: topic creation, a hop sink, the ticket ledger, and the stage runner every agent uses.

The runner's contract (DESIGN §2): consume → handle each message (conversations in parallel, each
conversation in order) → publish what it produced (next stage, outcome, DLQ, hop records) → wait for
the broker's acks → commit the offsets up to the first message not yet published. A crash anywhere
before the commit redelivers the message; the ticket ledger makes sure a redelivered ticket is still
handled once per stage and answered only once.
"""

import asyncio
import random
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from google.protobuf.message import DecodeError
from opentelemetry import trace
from supportmesh.v1.envelope_pb2 import Envelope
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh.v1.outcomes_pb2 import DlqRecord, DlqSource, Escalation, Response

from . import metrics, topics
from .breaker import CircuitBreaker
from .chaos import Draw, FaultFlags, InjectedError, mark_fault
from .codec import BadMessage, b64, encode_output, now_rfc3339
from .hops import finish_hop, start_hop
from .settings import ServiceSettings
from .telemetry import extract_headers, inject_headers, parent_span_id

log = structlog.get_logger()

# The most of a dead-lettered message kept in its DLQ record (base64 grows it by a third).
DLQ_MAX_ORIGINAL_BYTES = 256 * 1024


async def ensure_topics(bootstrap: str, names: list[str], partitions: int = 3) -> None:
    """Create the topics that do not exist yet; racing creators are fine."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(n, partitions, 1) for n in names if n not in existing]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()


def new_producer(bootstrap: str, **overrides) -> AIOKafkaProducer:
    """A producer that never loses or reorders an acked message (acks=all, idempotent)."""
    options = {"acks": "all", "enable_idempotence": True, "linger_ms": 0, "request_timeout_ms": 30000}
    options.update(overrides)
    return AIOKafkaProducer(bootstrap_servers=bootstrap, **options)


class KafkaHopSink:
    """Sends hop records to telemetry.hops without waiting for each ack (the producer batches them)."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer

    async def emit(self, hop: HopRecord) -> None:
        try:
            await self._producer.send(topics.HOPS, hop.SerializeToString(), key=hop.trace_id.encode())
        except KafkaError as exc:
            # Telemetry must never stop a call; the loss is logged so it can be counted.
            log.warning("hop record not sent", error=str(exc), action=hop.action)


_call_hops: ContextVar[list[HopRecord] | None] = ContextVar("supportmesh_call_hops", default=None)


class StageHopSink:
    """A hop sink for the calls a stage makes while handling a message (gRPC, models).

    Their hop records join the message's own output, so they are published with the batch and
    committed with it, in the handled message's trace, without a second producer.
    """

    async def emit(self, hop: HopRecord) -> None:
        bucket = _call_hops.get()
        if bucket is not None:
            bucket.append(hop)
        else:
            log.debug("hop emitted outside a handled message; dropped", action=hop.action)


class TicketLedger:
    """Ticket ids a stage must not handle again: answered or escalated by any stage, or passed on by this one.

    The output topics are the record of outcomes: the ledger reads back `window` of tickets.responses and
    tickets.escalations (their `ticket-id` header) and then keeps following them, so a stage also learns
    what the stages after it answered, and survives restarts without a store of its own. The tickets this
    stage forwarded are kept in memory only; after a restart the stages downstream still recognise them.
    Entries older than the window are forgotten, so memory stays bounded.
    """

    def __init__(self, window_hours: float) -> None:
        self._window_s = window_hours * 3600
        self._ids: dict[str, float] = {}   # ticket id -> when recorded (unix s), about oldest first
        self.caught_up = asyncio.Event()   # the window was read back: safe to start handling

    def __contains__(self, ticket_id: str) -> bool:
        return ticket_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, ticket_id: str, at: float | None = None) -> None:
        now = time.time()
        self._ids.setdefault(ticket_id, now if at is None else at)
        cutoff = now - self._window_s
        while self._ids:
            oldest = next(iter(self._ids))
            if self._ids[oldest] >= cutoff:
                break
            del self._ids[oldest]

    def discard(self, ticket_id: str) -> None:
        self._ids.pop(ticket_id, None)

    async def follow(self, bootstrap: str) -> None:
        """Read the window back, set `caught_up`, then follow new outcomes until cancelled."""
        attempt = 0
        while True:
            try:
                await self._read(bootstrap)
            except KafkaError as exc:
                # Just-created topics have no leader for a moment, or the broker is restarting.
                attempt += 1
                log.warning("outcome topics not readable; retrying", error=str(exc), attempt=attempt)
                await asyncio.sleep(min(5.0, 0.2 * 2 ** attempt))

    async def _read(self, bootstrap: str) -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            parts = [TopicPartition(t, p) for t in (topics.RESPONSES, topics.ESCALATIONS)
                     for p in (consumer.partitions_for_topic(t) or await _partitions(consumer, t))]
            if not parts:
                raise KafkaError("outcome topics have no partitions yet")
            consumer.assign(parts)
            since_ms = int((time.time() - self._window_s) * 1000)
            starts = await consumer.offsets_for_times({tp: since_ms for tp in parts})
            behind = await consumer.end_offsets(parts)
            for tp in parts:
                start = starts.get(tp)
                if start is None:
                    await consumer.seek_to_end(tp)
                    behind.pop(tp)
                else:
                    consumer.seek(tp, start.offset)
                    if start.offset >= behind[tp]:
                        behind.pop(tp)
            while True:
                if not behind and not self.caught_up.is_set():
                    self.caught_up.set()
                    log.info("outcome ledger loaded", tickets=len(self._ids),
                             window_hours=self._window_s / 3600)
                batch = await consumer.getmany(timeout_ms=1000)
                for tp, records in batch.items():
                    for rec in records:
                        ticket_id = dict(rec.headers or ()).get("ticket-id")
                        if ticket_id:
                            self.add(ticket_id.decode(errors="replace"), rec.timestamp / 1000)
                    if tp in behind and records and records[-1].offset + 1 >= behind[tp]:
                        del behind[tp]
        finally:
            await consumer.stop()


async def _when_kafka_answers(step: Callable[[], Awaitable[None]], patience_s: float = 120.0) -> None:
    """Run a start-up step, retrying while the broker is away (a restart of Kafka and of a service can overlap)."""
    deadline = time.monotonic() + patience_s
    attempt = 0
    while True:
        attempt += 1
        try:
            return await step()
        except KafkaError as exc:
            if time.monotonic() > deadline:
                raise
            log.warning("Kafka not reachable at start-up; retrying", error=str(exc), attempt=attempt)
            await asyncio.sleep(min(5.0, 0.5 * attempt))


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()  # the public API has no metadata refresh
    return consumer.partitions_for_topic(topic) or set()


@dataclass
class Forward:
    """Pass the envelope to the next stage on its routing slip."""

    envelope: Envelope


@dataclass
class Respond:
    """Answer the customer: the ticket is done."""

    envelope: Envelope
    response: Response


@dataclass
class Escalate:
    """Hand the ticket to a human: the ticket is done."""

    envelope: Envelope
    escalation: Escalation


Result = Forward | Respond | Escalate
Handler = Callable[[Envelope, HopRecord], Awaitable[Result]]
Decoder = Callable[[ConsumerRecord], Envelope]


@dataclass
class Outgoing:
    topic: str
    value: bytes
    key: bytes | None
    headers: list[tuple[str, bytes]] = field(default_factory=list)
    ticket_id: str = ""   # set on forwards and outcomes, so a failed send can release the ledger entry


def decode_envelope(record: ConsumerRecord) -> Envelope:
    env = Envelope()
    try:
        env.ParseFromString(record.value or b"")
    except (DecodeError, RecursionError) as exc:
        raise BadMessage(f"not an Envelope: {exc}") from None
    if not env.ticket.ticket_id:
        raise BadMessage("envelope has no ticket")
    return env


def remaining_seconds(env: Envelope, floor: float = 0.05) -> float:
    """What is left of the ticket's latency budget, never less than `floor`: the timeout for calls."""
    return max(floor, (env.deadline_unix_ms - time.time() * 1000) / 1000)


class _CommitOnRevoke(ConsumerRebalanceListener):
    """Commits what was handled of a partition before the group hands it to another member."""

    def __init__(self, runner: "StageRunner") -> None:
        self._runner = runner

    async def on_partitions_revoked(self, revoked) -> None:
        await self._runner._settle(set(revoked))

    async def on_partitions_assigned(self, assigned) -> None:
        return None


class Watermarks:
    """Per partition, the offset up to which every message is published: what may be committed.

    Messages finish out of order (conversations run concurrently, a slow one does not hold the others),
    so a partition's commit point is its oldest message still in flight, or one past the newest started.
    """

    def __init__(self) -> None:
        self._open: dict[TopicPartition, set[int]] = defaultdict(set)
        self._next: dict[TopicPartition, int] = {}

    def started(self, tp: TopicPartition, offset: int) -> None:
        self._open[tp].add(offset)
        self._next[tp] = max(self._next.get(tp, 0), offset + 1)

    def finished(self, tp: TopicPartition, offset: int) -> int | None:
        """Mark one message published; returns the partition's commit point (None once it was let go)."""
        if tp not in self._next:
            return None
        self._open[tp].discard(offset)
        return min(self._open[tp], default=self._next[tp])

    def abandoned(self, tp: TopicPartition) -> None:
        """Forget a partition (revoked, or its messages will be read again from the committed offset)."""
        self._open.pop(tp, None)
        self._next.pop(tp, None)


class StageRunner:
    """Consumes one topic and runs `handler` on each message, forwarding along the routing slip."""

    def __init__(self, settings: ServiceSettings, handler: Handler, *, input_topic: str,
                 decoder: Decoder = decode_envelope, partitions: int = 3) -> None:
        self.settings = settings
        self.service = settings.service_name
        self.handler = handler
        self.input_topic = input_topic
        self.decoder = decoder
        self.partitions = partitions
        self.ledger = TicketLedger(settings.dedupe_window_hours)
        self._following: asyncio.Task | None = None
        self.producer: AIOKafkaProducer | None = None
        self.consumer: AIOKafkaConsumer | None = None
        self._uncommitted: dict[TopicPartition, int] = {}
        self._marks = Watermarks()
        self._in_flight: dict[asyncio.Task, TopicPartition] = {}
        self._tails: dict[bytes | None, asyncio.Task] = {}  # each conversation's newest message in flight
        self._failure: BaseException | None = None
        self.ready = asyncio.Event()
        self._stopping = asyncio.Event()
        self._tracer = trace.get_tracer(self.service)
        self.handled = 0
        # Chaos flags are checked here, at the handler edge, and nowhere in the stage's own code.
        self.faults = FaultFlags(self.service, settings.kafka_bootstrap_servers if settings.chaos_enabled else None)
        self.stage_breaker = CircuitBreaker(settings.stage_failure_threshold, settings.stage_breaker_cooldown_s)

    async def start(self) -> None:
        bootstrap = self.settings.kafka_bootstrap_servers
        await _when_kafka_answers(lambda: ensure_topics(bootstrap, topics.all_topics(), self.partitions))
        self._following = asyncio.create_task(self.ledger.follow(bootstrap))
        caught_up = asyncio.create_task(self.ledger.caught_up.wait())
        # Answering twice is worse than waiting: no message is handled before the window was read back.
        await asyncio.wait([self._following, caught_up], return_when=asyncio.FIRST_COMPLETED)
        if self._following.done():
            caught_up.cancel()
            self._following.result()   # raises what stopped it
        # Messages publish as each finishes; a 5 ms linger lets those finishing together share a produce request
        # (at 0 the broker's CPU doubled at 50 tickets/s and the paced p95 rose; docs/architecture.md).
        self.producer = new_producer(bootstrap, linger_ms=5)
        await self.producer.start()
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=self.service, enable_auto_commit=False,
            # A new group starts at the beginning so tickets published before the first start are not skipped.
            auto_offset_reset="earliest", max_poll_records=self.settings.max_batch,
        )
        self.consumer.subscribe([self.input_topic], listener=_CommitOnRevoke(self))
        await self.consumer.start()
        self.faults.start()
        self.ready.set()
        metrics.TICKET_BUDGET.labels(self.service).set(self.settings.ticket_budget_ms / 1000)
        log.info("stage runner started", topic=self.input_topic, group=self.service)

    def stop(self) -> None:
        self._stopping.set()

    async def close(self) -> None:
        await self.faults.stop()
        if self._following is not None:
            self._following.cancel()
            await asyncio.gather(self._following, return_exceptions=True)
        if self.consumer is not None:
            await self.consumer.stop()
        if self.producer is not None:
            await self.producer.stop()

    async def run(self) -> None:
        """Consume and handle until `stop()`; what was handled is committed before returning.

        Each message is handled as soon as it is fetched, up to `max_batch` in flight: a message that
        arrives while a slow one runs does not wait for it (unless it is the same conversation, which
        stays in order). Offsets are committed only up to messages whose output the broker acknowledged,
        and not after every message: at most every `commit_interval_ms`, and at once when the topic goes
        quiet. What a crash redelivers in exchange (up to one interval) is deduplicated downstream like
        any redelivery.
        """
        assert self.consumer is not None and self.producer is not None
        interval = self.settings.commit_interval_ms / 1000
        last_commit = last_lag = time.monotonic()
        try:
            while not self._stopping.is_set():
                if self._failure is not None:
                    raise self._failure  # a bug, not a broker error: crash, restart, read it again
                room = self.settings.max_batch - len(self._in_flight)
                if room <= 0:
                    await asyncio.wait(list(self._in_flight), timeout=0.2, return_when=asyncio.FIRST_COMPLETED)
                    continue
                batch = await self.consumer.getmany(timeout_ms=200, max_records=room)
                if time.monotonic() - last_lag >= 1.0:
                    await metrics.observe_lag(self.service, self.consumer)
                    last_lag = time.monotonic()
                if batch:
                    lag = self.faults.lag_seconds()
                    if lag:  # the `lagMs` fault: a consumer that falls behind
                        await asyncio.sleep(lag)
                    for tp, recs in batch.items():
                        metrics.MESSAGES_IN.labels(self.service, tp.topic).inc(len(recs))
                        for rec in recs:
                            self.dispatch(tp, rec)
                if self._uncommitted and (not batch or time.monotonic() - last_commit >= interval):
                    await self._commit()
                    last_commit = time.monotonic()
        finally:
            await self.drain()
            await self._commit()

    def dispatch(self, tp: TopicPartition, rec: ConsumerRecord) -> asyncio.Task:
        """Start handling one message: after the previous message of its conversation, beside all others."""
        self._marks.started(tp, rec.offset)
        task = asyncio.create_task(self._handle_and_publish(tp, rec, self._tails.get(rec.key)))
        self._tails[rec.key] = task
        self._in_flight[task] = tp

        def forget(done: asyncio.Task) -> None:
            self._in_flight.pop(done, None)
            if self._tails.get(rec.key) is done:
                del self._tails[rec.key]
            if not done.cancelled() and done.exception() is not None and self._failure is None:
                self._failure = done.exception()

        task.add_done_callback(forget)
        return task

    async def drain(self) -> None:
        """Wait for the messages in flight to be handled and published."""
        if self._in_flight:
            await asyncio.wait(list(self._in_flight))

    async def _handle_and_publish(self, tp: TopicPartition, rec: ConsumerRecord,
                                  previous: asyncio.Task | None) -> None:
        if previous is not None:
            await asyncio.wait([previous])  # the conversation's earlier message first, however it ended
        with metrics.IN_FLIGHT.labels(self.service).track_inprogress():
            outgoing = await self.handle_record(rec)
        while not await self._publish(outgoing):
            if self._stopping.is_set():
                # Not published, not committed: read again after the restart, answered then.
                for o in outgoing:
                    if o.ticket_id:
                        self.ledger.discard(o.ticket_id)
                return
        point = self._marks.finished(tp, rec.offset)
        if point is not None:
            self._uncommitted[tp] = point
        self.handled += 1

    async def _settle(self, revoked: set[TopicPartition]) -> None:
        """A rebalance takes partitions away: commit what was published and let them go. Their messages still
        in flight are not waited for (a rebalance during a broker outage would wait on publishes that cannot
        succeed); the partition's next owner reads them again and its ticket ledger absorbs the repeats."""
        await self._commit(revoked)
        for tp in revoked:
            self._marks.abandoned(tp)

    async def _commit(self, only: set[TopicPartition] | None = None) -> None:
        offsets = {tp: o for tp, o in self._uncommitted.items() if only is None or tp in only}
        if not offsets or self.consumer is None:
            return
        try:
            await self.consumer.commit(offsets)
        except KafkaError as exc:
            # The group moved on (rebalance) or the broker is away: the new owner re-reads from the last
            # committed offset and the ticket ledger absorbs the repeats.
            log.warning("offset commit failed; messages may be redelivered", error=str(exc))
        for tp in offsets:
            if self._uncommitted.get(tp) == offsets[tp]:
                del self._uncommitted[tp]

    async def _publish(self, outgoing: list[Outgoing]) -> bool:
        """Send one message's output and wait for the acks; False (after a pause) when the broker failed."""
        assert self.producer is not None
        try:
            futures = [await self.producer.send(o.topic, o.value, key=o.key, headers=o.headers) for o in outgoing]
            await asyncio.gather(*futures)
            for o in outgoing:
                metrics.MESSAGES_OUT.labels(self.service, o.topic).inc()
            return True
        except KafkaError as exc:
            log.error("publish failed; sending again", error=str(exc))
            await asyncio.sleep(1 + random.random())
            return False

    async def handle_record(self, rec: ConsumerRecord) -> list[Outgoing]:
        """Everything one input message produces, hop record last. Never raises."""
        ctx = extract_headers(rec.headers)
        with self._tracer.start_as_current_span(f"{self.service} process", context=ctx,
                                                kind=trace.SpanKind.CONSUMER) as span:
            hop = start_hop(self.service, self.service, span, parent_span_id(ctx), "consumer")
            hop.kafka_topic, hop.kafka_partition, hop.kafka_offset = rec.topic, rec.partition, rec.offset
            try:
                env = self.decoder(rec)
            except BadMessage as exc:
                span.set_attribute("supportmesh.dlq", True)
                hop.destination = topics.DLQ
                hop.action = "dead_letter"
                return [self._dead_letter(rec, str(exc), hop.trace_id), self._hop_out(finish_hop(hop, str(exc)))]
            hop.ticket_id, hop.conversation_id = env.ticket.ticket_id, env.ticket.conversation_id
            if env.ticket.ticket_id in self.ledger:
                # A redelivery (after a crash or a rebalance upstream) of a ticket handled here or answered
                # further on: a second pass could take another path (a late copy has lost its budget) and
                # answer the ticket a second time from a stage that does not know of the first answer.
                hop.labels["duplicate_suppressed"] = "true"
                log.info("duplicate ticket dropped", ticket=env.ticket.ticket_id)
                return [self._hop_out(finish_hop(hop, ""))]
            if not env.trace_id:
                env.trace_id = hop.trace_id
            structlog.contextvars.bind_contextvars(ticket_id=env.ticket.ticket_id)
            drawn = self.faults.draw()
            if drawn is not None:
                mark_fault(span, hop, drawn.attributes(self.faults.current()))
            call_hops: list[HopRecord] = []
            token = _call_hops.set(call_hops)
            try:
                result, error = await self._run_handler(env, hop, drawn)
                if result.envelope.degradations:
                    hop.labels["degradations"] = "; ".join(result.envelope.degradations)
                out = self._route(result, hop)
            finally:
                _call_hops.reset(token)
                structlog.contextvars.unbind_contextvars("ticket_id")
            for call in call_hops:
                call.ticket_id, call.conversation_id = hop.ticket_id, hop.conversation_id
                out.append(self._hop_out(call))
            out.append(self._hop_out(finish_hop(hop, error)))
            metrics.observe_hop(hop)
            return out

    async def _run_handler(self, env: Envelope, hop: HopRecord, drawn: Draw | None = None) -> tuple[Result, str]:
        """The handler with retries, a deadline per attempt, and the degradation paths (DESIGN §2, Resilience)."""
        if drawn is not None and drawn.delay_ms:
            # An injected slow service: the time counts against the ticket's budget like real slowness.
            await asyncio.sleep(drawn.delay_ms / 1000)
        optional = self.settings.is_optional_stage()
        if (optional and env.deadline_unix_ms
                and env.deadline_unix_ms - time.time() * 1000 < self.settings.degrade_below_ms):
            return self._skip(env, hop, "low_budget"), ""
        if not self.stage_breaker.allow():
            if optional:
                return self._skip(env, hop, "stage_failing"), ""
            error = f"{self.service} failed {self.settings.stage_failure_threshold}+ tickets in a row; not tried"
            hop.escalation_reason = "degraded"
            return Escalate(env, Escalation(
                reason="degraded",
                summary=f"{error}. Customer wrote: {env.ticket.subject} {env.ticket.body[:500]}",
                customer_message="We have passed your request to a member of our support team, who will reply "
                                 "shortly.")), error
        attempts = self.settings.handler_attempts
        error = ""
        for attempt in range(1, attempts + 1):
            work = Envelope()
            work.CopyFrom(env)  # each attempt starts from the message as received
            hop.retries = attempt - 1
            try:
                async with asyncio.timeout(self._attempt_timeout(env)):
                    if drawn is not None:
                        await self.faults.during_attempt(drawn)
                    result = await self.handler(work, hop)
                self.stage_breaker.record_success()
                return result, ""
            except Exception as exc:  # noqa: BLE001 - a failing stage escalates instead of blocking the topic
                if isinstance(exc, InjectedError):
                    hop.fault["error"] = "injected"
                    span = trace.get_current_span()
                    span.set_attribute("fault.error", "injected")
                error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                log.warning("stage handler failed", attempt=attempt, error=error)
                if attempt < attempts:
                    await asyncio.sleep(min(1.0, 0.05 * 2 ** attempt) * (0.5 + random.random()))
        self.stage_breaker.record_failure()
        hop.escalation_reason = "stage_failed"
        escalation = Escalation(
            reason="stage_failed",
            summary=f"{self.service} failed {attempts} times ({error}). Customer wrote: "
                    f"{env.ticket.subject} {env.ticket.body[:500]}",
            customer_message="We have passed your request to a member of our support team, who will reply shortly.",
        )
        return Escalate(env, escalation), error

    def _attempt_timeout(self, env: Envelope) -> float:
        """What is left of the ticket's budget, but at least the floor: a late ticket is still handled."""
        floor = self.settings.stage_timeout_floor_ms / 1000
        if not env.deadline_unix_ms:
            return max(floor, self.settings.ticket_budget_ms / 1000)
        return max(floor, remaining_seconds(env))

    def _skip(self, env: Envelope, hop: HopRecord, why: str) -> Forward:
        """Degradation: pass the ticket on without this (optional) stage's work, and say so."""
        env.degradations.append(f"{self.service}: skipped ({why})")
        hop.labels["degraded"] = why
        log.info("optional stage skipped", reason=why)
        return Forward(env)

    def _route(self, result: Result, hop: HopRecord) -> list[Outgoing]:
        env = result.envelope
        key = env.ticket.conversation_id.encode()
        headers = inject_headers() + [("ticket-id", env.ticket.ticket_id.encode())]
        if isinstance(result, Forward):
            if self.service not in env.visited:
                env.visited.append(self.service)
            if not env.routing_slip:
                return self._route(Escalate(env, Escalation(
                    reason="routing_error", summary=f"{self.service} had no next stage on the routing slip",
                    customer_message="We have passed your request to our support team.")), hop)
            nxt = env.routing_slip.pop(0)
            hop.destination = topics.stage_topic(nxt)
            self.ledger.add(env.ticket.ticket_id)
            return [Outgoing(hop.destination, env.SerializeToString(), key,
                             headers + [("content-type", b"application/x-protobuf")], env.ticket.ticket_id)]
        ticket_id = env.ticket.ticket_id
        if ticket_id in self.ledger:
            hop.labels["duplicate_suppressed"] = "true"
            log.info("duplicate outcome suppressed", ticket=ticket_id)
            return []
        self.ledger.add(ticket_id)
        latency_ms = int(time.time() * 1000 - env.received_unix_ms) if env.received_unix_ms else 0
        c = env.classification
        if isinstance(result, Respond):
            msg, topic = result.response, topics.RESPONSES
            msg.answered_at = msg.answered_at or now_rfc3339()
            msg.intent, msg.category, msg.priority = c.intent, c.category, c.priority
            msg.sentiment, msg.confidence = c.sentiment, c.confidence
            msg.degradations.extend(d for d in env.degradations if d not in msg.degradations)
        else:
            msg, topic = result.escalation, topics.ESCALATIONS
            msg.escalated_at = msg.escalated_at or now_rfc3339()
            msg.escalated_by = msg.escalated_by or self.service
            msg.intent, msg.category, msg.priority = c.intent, c.category, c.priority or "medium"
            msg.sentiment, msg.confidence = c.sentiment, c.confidence
            hop.escalation_reason = msg.reason
        msg.ticket_id, msg.conversation_id, msg.trace_id = ticket_id, env.ticket.conversation_id, hop.trace_id
        msg.latency_ms = min(max(0, latency_ms), 2**31 - 1)
        metrics.observe_outcome(self.service, topic, msg.latency_ms, c.sentiment)
        hop.destination = topic
        value, ctype = encode_output(msg, self.settings.output_format)
        return [Outgoing(topic, value, key, headers + [("content-type", ctype.encode())], ticket_id)]

    def _dead_letter(self, rec: ConsumerRecord, error: str, trace_id: str) -> Outgoing:
        log.warning("dead-lettered", topic=rec.topic, partition=rec.partition, offset=rec.offset, error=error)
        original = rec.value or b""
        if len(original) > DLQ_MAX_ORIGINAL_BYTES:
            # Base64 of a near-1 MB message would not fit in a Kafka record: the publish would fail and the
            # batch be redelivered forever. The source offset still points at the whole message.
            error += f" (original truncated to {DLQ_MAX_ORIGINAL_BYTES} of {len(original)} bytes)"
            original = original[:DLQ_MAX_ORIGINAL_BYTES]
        record = DlqRecord(
            error=error, source=DlqSource(topic=rec.topic, partition=rec.partition, offset=rec.offset,
                                          key=(rec.key or b"").decode(errors="replace")),
            original_base64=b64(original), received_at=now_rfc3339(), service=self.service, trace_id=trace_id)
        value, ctype = encode_output(record, self.settings.output_format)
        return Outgoing(topics.DLQ, value, rec.key, inject_headers() + [("content-type", ctype.encode())])

    @staticmethod
    def _hop_out(hop: HopRecord) -> Outgoing:
        return Outgoing(topics.HOPS, hop.SerializeToString(), hop.trace_id.encode())
