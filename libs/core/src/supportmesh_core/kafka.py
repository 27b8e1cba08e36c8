"""The Kafka edge on faststream: topic creation, producers for tools, the hop sink, and the stage runner.

The runner's contract (DESIGN §2): consume → handle each message (conversations in parallel, each
conversation in order) → publish what it produced (next stage, outcome, DLQ, hop records) → wait for
the broker's acks → commit the offsets up to the first message not yet published. A crash anywhere
before the commit redelivers the message; the ticket ledger makes sure a redelivered ticket is still
handled once per stage and answered only once. Replicas of a stage share its partitions: a partition being
taken away is settled first (its messages in flight finish and are committed), and one being received is
fenced (nothing starts until the ledger has read what the other replicas published; docs/architecture.md,
Replicas).

faststream owns the connection, the consume loop, the publishers, consumer and publisher metrics, the
AsyncAPI description (`declare_stage`) and the in-memory test broker. What it lacks is ours, here: its
manual ack commits the consumer's whole position and its concurrent subscribers keep order only per
partition, so the subscriber hands each message to a conversation lane and returns, and the runner commits
each partition up to its oldest message not yet published (`Watermarks`). Tracing stays ours too (the
consume span must cover the lane's work, which faststream's middleware, ending when the subscriber
returns, would not; the same W3C headers continue into gRPC metadata).
"""

import asyncio
import logging
import random
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable

import structlog
from aiokafka import AIOKafkaProducer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.admin import NewTopic
from aiokafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
from aiokafka.coordinator.assignors.sticky.sticky_assignor import StickyPartitionAssignor
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaPublisher, KafkaRouter, Topic
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.kafka.subscriber.usecase import DefaultSubscriber
from prometheus_client import REGISTRY
from supportmesh.v1.envelope_pb2 import Envelope
from supportmesh.v1.hop_pb2 import HopRecord

from . import metrics, topics
from .kafka_security import KafkaSecurity, broker_security, check_created, client_options, new_admin, start_client
from .ledger import forwarded_partition
from .settings import ServiceSettings
from .stage import Admission, Decoder, Handler, Outgoing, Stage, Verdict, decode_envelope

log = structlog.get_logger()

# What each topic carries, for the AsyncAPI document (docs/asyncapi.yaml) and nothing else.
TOPIC_DESCRIPTIONS = {
    topics.INBOUND: "Customer tickets as they arrive (JSON Ticket, or protobuf supportmesh.v1.Ticket).",
    topics.RESPONSES: "Answers to customers: one per answered ticket (JSON or protobuf supportmesh.v1.Response).",
    topics.ESCALATIONS: "Tickets handed to a person, with the reason and a summary (supportmesh.v1.Escalation).",
    topics.DLQ: "Messages no stage could read, with the error and the original bytes (supportmesh.v1.DlqRecord).",
    topics.HOPS: "One record per hop and per call a stage made, for Elasticsearch (supportmesh.v1.HopRecord).",
    topics.AGENT_REPLIES: "A human agent's reply to a ticket (JSON or protobuf supportmesh.v1.AgentReply, keyed by "
                          "conversation id): recorded as a turn, its approved actions made, sent to the customer.",
    topics.FORWARDED: "A marker per ticket a stage passed on (key: the stage, header ticket-id, no value), read by "
                      "every replica of that stage so that none handles a copy of the ticket again.",
    **{topics.stage_topic(s): f"Tickets on their way to the {s} (protobuf supportmesh.v1.Envelope)."
       for s in topics.STAGES[1:]},
}


async def ensure_topics(bootstrap: str, names: list[str], partitions: int = 3, *,
                        security: KafkaSecurity | None = None) -> None:
    """Create the topics that do not exist yet; racing creators are fine."""
    admin = new_admin(bootstrap, security=security)
    await start_client(admin, bootstrap, security)
    try:
        existing = set(await admin.list_topics())
        # stage.forwarded has a partition per stage, so each stage's ledger reads only its own markers.
        missing = [NewTopic(n, max(partitions, len(topics.STAGES)) if n == topics.FORWARDED else partitions, 1)
                   for n in names if n not in existing]
        if missing:
            try:
                check_created(await admin.create_topics(missing), bootstrap, security)
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()


def new_producer(bootstrap: str, *, security: KafkaSecurity | None = None, **overrides) -> AIOKafkaProducer:
    """A producer that never loses or reorders an acked message (acks=all, idempotent)."""
    options = {"acks": "all", "enable_idempotence": True, "linger_ms": 0, "request_timeout_ms": 30000}
    options.update(overrides)
    return AIOKafkaProducer(bootstrap_servers=bootstrap, **client_options(security), **options)


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


def new_broker(bootstrap: str, service: str, *, security: KafkaSecurity | None = None) -> KafkaBroker:
    """A faststream broker whose producer never loses or reorders an acked message (acks=all, idempotent).

    Messages publish as each finishes; a 5 ms linger lets those finishing together share a produce request
    (at 0 the broker's CPU doubled at 50 tickets/s and the paced p95 rose; docs/architecture.md).
    """
    return KafkaBroker(
        bootstrap, client_id=service, acks="all", enable_idempotence=True, linger_ms=5, request_timeout_ms=30000,
        security=broker_security(security),
        # A partition's buffer of 16 KB (the default) holds a handful of envelopes: in a burst each publish then
        # waited for the buffer to drain (a timer per publish) and sent small produce requests.
        max_batch_size=256 * 1024,
        # No dependency injection: handlers take the consumer record their decoder returns. With it, resolving a
        # `KafkaMessage` argument ran sync code in a worker thread for every message, and one stage's edge cost
        # 1.1 ms of CPU per message instead of 0.3 (scripts/bench.py, docs/architecture.md).
        apply_types=False,
        # Its per-message "Received"/"Processed" lines at debug: at info they doubled the log volume per hop.
        logger=structlog.get_logger("faststream"), log_level=logging.DEBUG,
    )


def declare_stage(broker: KafkaBroker, service: str, *, source: str | None = None,
                  listener: ConsumerRebalanceListener | None = None, max_poll_records: int | None = None,
                  group_id: str | None = None) -> tuple[DefaultSubscriber, dict[str, KafkaPublisher]]:
    """A stage's subscriber (its input topic, its own group, manual commits) and a publisher per topic it writes.

    The services run on what this declares, and `make asyncapi` documents the same declarations. `source`
    replaces the stage's own input topic (tests run a stage on a topic of their own); `group_id` (default: the
    service) gives a second input of the same service a consumer group of its own.
    """
    source = source or topics.stage_topic(service)
    group_id = group_id or service
    # faststream's Prometheus middleware measures what the stage consumes (faststream_received_*). It sits on
    # a router around the subscriber, not on the broker, so publishes skip it: per publish it cost about as
    # much CPU as the publish itself, and supportmesh_messages_out_total already counts acknowledged ones.
    router = KafkaRouter(middlewares=(KafkaPrometheusMiddleware(registry=REGISTRY, app_name=service),))
    subscriber = router.subscriber(
        # The topics are created beforehand with our partition count (ensure_topics), not by faststream.
        Topic(source, declare=False), group_id=group_id, ack_policy=AckPolicy.MANUAL,
        # A new group starts at the beginning so tickets published before the first start are not skipped.
        auto_offset_reset="earliest", max_poll_records=max_poll_records, listener=listener,
        # aiokafka has only the eager protocol (every member gives up every partition in a rebalance); sticky
        # hands most of them back to the same member, so fewer tickets change hands. Round-robin is the
        # fall-back the group agrees on while members of an older version are still in it.
        partition_assignment_strategy=(StickyPartitionAssignor, RoundRobinPartitionAssignor),
        # What is there comes as one batch, so faststream's per-message work (parse, middlewares, logging
        # context) is paid per fetch: per message it doubled the edge's CPU. An empty fetch waits 5 ms, then
        # faststream pauses as long: at 20 ms the wait was most of a hop's 20 ms transit at 50 tickets/s
        # (p50 of the whole ticket 163-186 ms, at 5 ms 73-117 ms), and the idle polling costs no measurable CPU.
        batch=True, max_records=max_poll_records, batch_timeout_ms=5,
        title=f"{source}:{group_id}", description=TOPIC_DESCRIPTIONS.get(source, ""),
    )
    broker.include_router(router)
    # Every stage topic, its own too: a routing slip is data, and a slip naming any stage must be publishable.
    targets = [topics.stage_topic(s) for s in topics.STAGES[1:]]
    targets += [topics.RESPONSES, topics.ESCALATIONS, topics.DLQ, topics.HOPS, topics.FORWARDED]
    # faststream keys AsyncAPI channels by title: a publisher to the stage's own topic must not reuse its subscriber's.
    publishers = {t: broker.publisher(t, title=f"{t}:{service}:publish", description=TOPIC_DESCRIPTIONS[t])
                  for t in targets}
    return subscriber, publishers


class _CommitOnRevoke(ConsumerRebalanceListener):
    """Settles a partition before the group hands it to another member, and fences the ones it receives."""

    def __init__(self, runner: "StageRunner") -> None:
        self._runner = runner

    async def on_partitions_revoked(self, revoked) -> None:
        await self._runner._settle(set(revoked))

    async def on_partitions_assigned(self, assigned) -> None:
        self._runner._fence()


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


class StageRunner(Stage):
    """Consumes one topic through faststream and runs the stage on each message, forwarding along the routing slip."""

    def __init__(self, settings: ServiceSettings, handler: Handler, *, input_topic: str | None = None,
                 decoder: Decoder = decode_envelope, admission: Admission | None = None,
                 group_id: str | None = None) -> None:
        super().__init__(settings, handler, decoder=decoder, admission=admission)
        self.input_topic = input_topic or topics.stage_topic(self.service)
        self.group_id = group_id or self.service
        self.partitions = settings.topic_partitions
        self.broker = new_broker(settings.kafka_bootstrap_servers, self.service, security=settings)
        self.subscriber, self.publishers = declare_stage(
            self.broker, self.service, source=self.input_topic, listener=_CommitOnRevoke(self),
            max_poll_records=settings.max_batch, group_id=self.group_id)
        self.subscriber(self._receive, decoder=raw_message)
        self._following: asyncio.Task | None = None
        self._uncommitted: dict[TopicPartition, int] = {}
        self._marks = Watermarks()
        self._in_flight: dict[asyncio.Task, TopicPartition] = {}
        self._tails: dict[bytes | None, asyncio.Task] = {}  # each conversation's newest message in flight
        self._room = asyncio.Event()   # set while fewer than max_batch messages are in flight
        self._room.set()
        # Messages the admission held back wait in a lane of their own (Admission): they neither count against
        # max_batch nor run more than lane_concurrency at once, so a flood of them cannot starve the rest.
        self._held: set[asyncio.Task] = set()
        self._held_room = asyncio.Event()
        self._held_room.set()
        self._held_lane = asyncio.Semaphore(admission.lane_concurrency if admission is not None else 1)
        self._held_next = 0.0   # when the held lane's next message may go (monotonic s)
        self._held_waiting: set[asyncio.Task] = set()   # held back and not yet being handled
        # Cleared while a rebalance moves partitions and until the ledger has read what the other replicas
        # published before it (`_fence`): nothing is started in between.
        self._fenced = asyncio.Event()
        self._fenced.set()
        self._fencing: asyncio.Task | None = None
        # Forward markers go on a producer of their own that batches them for longer (see `_publish`).
        self._markers: AIOKafkaProducer | None = None
        self._marker_partition = 0
        self._failure: BaseException | None = None
        self._dispatched = 0
        self.ready = asyncio.Event()
        self._stopping = asyncio.Event()
        self.handled = 0

    async def start(self) -> None:
        bootstrap = self.settings.kafka_bootstrap_servers
        security = self.settings   # a service's settings carry its Kafka security (KafkaSecurity)
        await _when_kafka_answers(lambda: ensure_topics(bootstrap, topics.all_topics(), self.partitions,
                                                        security=security))
        if self.input_topic not in topics.all_topics():
            await ensure_topics(bootstrap, [self.input_topic], self.partitions, security=security)
        self._following = asyncio.create_task(self.ledger.follow(bootstrap, security))
        caught_up = asyncio.create_task(self.ledger.caught_up.wait())
        # Answering twice is worse than waiting: no message is handled before the window was read back.
        await asyncio.wait([self._following, caught_up], return_when=asyncio.FIRST_COMPLETED)
        if self._following.done():
            caught_up.cancel()
            self._following.result()   # raises what stopped it
        # Not idempotent: after a broker restart an idempotent producer can fail every later send with
        # OutOfOrderSequenceNumber, and a marker may be lost or repeated anyway.
        self._markers = new_producer(bootstrap, security=security, linger_ms=50, acks=1, enable_idempotence=False)
        await start_client(self._markers, bootstrap, security)
        self._marker_partition = forwarded_partition(
            self.service, len(await self._markers.partitions_for(topics.FORWARDED)))
        await self.broker.start()
        self.faults.start()
        self.ready.set()
        metrics.TICKET_BUDGET.labels(self.service).set(self.settings.ticket_budget_ms / 1000)
        log.info("stage runner started", topic=self.input_topic, group=self.group_id)

    def stop(self) -> None:
        self._stopping.set()

    async def close(self) -> None:
        if self._fencing is not None:
            self._fencing.cancel()
        await self.faults.stop()
        if self._following is not None:
            self._following.cancel()
            await asyncio.gather(self._following, return_exceptions=True)
        await self.broker.stop()
        if self._markers is not None:
            await self._markers.stop()   # sends what it still holds

    async def run(self) -> None:
        """Commit what was handled until `stop()`; then finish what is in flight and commit it before returning.

        faststream's consume loop hands each message to `_receive` as soon as it is fetched, up to `max_batch`
        in flight: a message that arrives while a slow one runs does not wait for it (unless it is the same
        conversation, which stays in order). Offsets are committed only up to messages whose output the broker
        acknowledged, and not after every message: at most every `commit_interval_ms`, and at once when the
        topic goes quiet. What a crash redelivers in exchange (up to one interval) is deduplicated downstream
        like any redelivery.
        """
        interval = self.settings.commit_interval_ms / 1000
        last_commit = last_lag = time.monotonic()
        seen = self._dispatched
        try:
            while not self._stopping.is_set():
                if self._failure is not None:
                    raise self._failure  # a bug, not a broker error: crash, restart, read it again
                try:
                    await asyncio.wait_for(self._stopping.wait(), timeout=0.2)
                except TimeoutError:
                    pass
                consumer = self.subscriber.consumer
                if consumer is not None and time.monotonic() - last_lag >= 1.0:
                    await metrics.observe_lag(self.service, consumer)
                    last_lag = time.monotonic()
                quiet = self._dispatched == seen
                seen = self._dispatched
                if self._uncommitted and (quiet or time.monotonic() - last_commit >= interval):
                    await self._commit()
                    last_commit = time.monotonic()
        finally:
            self._let_held_go()
            await self.drain()
            await self._commit()

    async def _receive(self, records: tuple[ConsumerRecord, ...]) -> None:
        """faststream's handler for a fetch: start each message in its conversation's lane as room allows, return."""
        if self._stopping.is_set():
            await asyncio.Event().wait()  # fetch nothing more; what is read and not started is read again later
        lag = self.faults.lag_seconds()
        if lag:  # the `lagMs` fault: a consumer that falls behind
            await asyncio.sleep(lag)
        for n, rec in enumerate(records):
            if n % 32 == 31:
                await asyncio.sleep(0)   # a large fetch is read in slices, so handling in flight goes on meanwhile
            tp = TopicPartition(rec.topic, rec.partition)
            consumer = self.subscriber.consumer
            if consumer is not None and tp not in consumer.assignment():
                # Fetched before a rebalance gave the partition to another replica, which reads it again.
                continue
            env, verdict = self.triage(rec)
            held = verdict is not None and bool(verdict.held)
            room = self._held_room if held else self._room
            while not (room.is_set() and self._fenced.is_set()):
                await room.wait()
                await self._fenced.wait()
            if consumer is not None and tp not in consumer.assignment():
                continue   # taken away while this waited for room
            if verdict is not None and verdict.wait_s > 0:
                # The intake-wide limit: the message waits its turn here, and the ones behind it with it.
                metrics.INTAKE_WAIT.labels(self.service).inc(verdict.wait_s)
                await asyncio.sleep(verdict.wait_s)
            # An admitted message is decoded again when it is handled: its budget starts then, as without limits.
            self.dispatch(tp, rec, env if held else None, verdict)

    def _update_room(self) -> None:
        held = len(self._held)
        if len(self._in_flight) - held < self.settings.max_batch:
            self._room.set()
        else:
            self._room.clear()
        if self.admission is None or held < self.admission.lane_size:
            self._held_room.set()
        else:
            self._held_room.clear()

    def dispatch(self, tp: TopicPartition, rec: ConsumerRecord, env: Envelope | None = None,
                 verdict: Verdict | None = None) -> asyncio.Task:
        """Start handling one message: after the previous message of its conversation, beside all others.

        A held-back message (`verdict.held`) keeps its place in its conversation's order and in the partition's
        commit point like any other; only its handling waits for the held lane."""
        self._marks.started(tp, rec.offset)
        held = verdict is not None and bool(verdict.held)
        task = asyncio.create_task(self._handle_and_publish(tp, rec, self._tails.get(rec.key), env, verdict, held))
        self._tails[rec.key] = task
        self._in_flight[task] = tp
        if held:
            self._held.add(task)
            self._held_waiting.add(task)
        self._dispatched += 1
        self._update_room()

        def forget(done: asyncio.Task) -> None:
            self._in_flight.pop(done, None)
            self._held.discard(done)
            self._held_waiting.discard(done)
            self._update_room()
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

    async def _handle_and_publish(self, tp: TopicPartition, rec: ConsumerRecord, previous: asyncio.Task | None,
                                  env: Envelope | None = None, verdict: Verdict | None = None,
                                  held: bool = False) -> None:
        if previous is not None:
            await asyncio.wait([previous])  # the conversation's earlier message first, however it ended
            if previous.cancelled():
                # It was given up, to be read again (`_let_held_go`): so is this one, or it would overtake it.
                raise asyncio.CancelledError
        if held:
            async with self._held_lane:
                await asyncio.sleep(self._held_turn())
                self._held_waiting.discard(asyncio.current_task())   # from here on it is seen through
                await self._handle_and_publish_now(tp, rec, env, verdict)
        else:
            await self._handle_and_publish_now(tp, rec, env, verdict)

    def _let_held_go(self, partitions: set[TopicPartition] | None = None) -> None:
        """Give up the held-back messages (of `partitions`) not yet being handled: nothing of theirs is published or
        committed, so whoever reads their partition next (another replica, or this one after a restart) reads them
        again. A drain or a rebalance must not wait for a flood's paced replies, nor let them be published after
        the partition has a new owner."""
        for task in list(self._held_waiting):
            if partitions is None or self._in_flight.get(task) in partitions:
                self._held_waiting.discard(task)
                task.cancel()

    def _held_turn(self) -> float:
        """Seconds until the held lane's next message may go: its pace spreads a flood's answers over time, so the
        CPU they cost here, in the broker and in the indexer is not taken from the tickets handled meanwhile."""
        rate = self.admission.lane_rate_per_s if self.admission is not None else 0
        if rate <= 0 or len(self._held) > self.admission.lane_size // 2:
            # Half full: the pace gives way, before a full lane would stop the intake reading for everyone.
            return 0.0
        now = time.monotonic()
        slot = max(now, self._held_next)
        self._held_next = slot + 1 / rate
        return slot - now

    async def _handle_and_publish_now(self, tp: TopicPartition, rec: ConsumerRecord, env: Envelope | None,
                                      verdict: Verdict | None) -> None:
        with metrics.IN_FLIGHT.labels(self.service).track_inprogress():
            outgoing = await self.handle_record(rec, env, verdict)
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
        """A rebalance takes partitions away: let their messages in flight finish and publish (for at most
        `rebalance_drain_ms`: during a broker outage they wait on publishes that cannot succeed), commit what
        was published, and let them go. The next owner reads the rest again; its ledger knows, after its
        fence, every ticket this replica answered or passed on, so a repeat is dropped, not handled twice."""
        self._fenced.clear()
        self._let_held_go(revoked)
        pending = [task for task, tp in self._in_flight.items() if tp in revoked]
        if pending:
            _, late = await asyncio.wait(pending, timeout=self.settings.rebalance_drain_ms / 1000)
            if late:
                log.warning("partitions let go with messages still in flight; the next owner reads them again",
                            in_flight=len(late))
        await self._commit(revoked)
        for tp in revoked:
            self._marks.abandoned(tp)

    def _fence(self) -> None:
        """Partitions were assigned: start nothing until the ledger has read what every replica published."""
        self._fenced.clear()
        if self._fencing is not None:
            self._fencing.cancel()

        async def fence() -> None:
            await self.ledger.sync()
            self._fenced.set()

        self._fencing = asyncio.create_task(fence())

    async def _commit(self, only: set[TopicPartition] | None = None) -> None:
        offsets = {tp: o for tp, o in self._uncommitted.items() if only is None or tp in only}
        consumer = self.subscriber.consumer   # None on faststream's in-memory test broker: nothing to commit
        if not offsets or consumer is None:
            return
        try:
            await consumer.commit(offsets)
        except KafkaError as exc:
            # The group moved on (rebalance) or the broker is away: the new owner re-reads from the last
            # committed offset and the ticket ledger absorbs the repeats.
            log.warning("offset commit failed; messages may be redelivered", error=str(exc))
        for tp in offsets:
            if self._uncommitted.get(tp) == offsets[tp]:
                del self._uncommitted[tp]

    async def _publish(self, outgoing: list[Outgoing]) -> bool:
        """Send one message's output and wait for the acks; False (after a pause) when the broker failed.

        What was acknowledged is taken off `outgoing`, so the next try sends only the rest. Forward markers go
        only after the rest is acknowledged (a marker without its forward would drop the ticket as passed on)
        and without waiting for their own acks: a lost marker only leaves a repeat to the next stage's ledger,
        and on their producer (50 ms linger) a stage's markers share a few requests a second.
        """
        now = [o for o in outgoing if not o.after_the_rest]
        # Each publish waits for its ack; together they share the producer's batches.
        sent = await asyncio.gather(*(self.publishers[o.topic].publish(
            o.value, key=o.key, headers={k: v.decode() for k, v in o.headers}) for o in now), return_exceptions=True)
        acked = {id(o) for o, r in zip(now, sent, strict=True) if not isinstance(r, BaseException)}
        for o in now:
            if id(o) in acked:
                metrics.MESSAGES_OUT.labels(self.service, o.topic).inc()
        outgoing[:] = [o for o in outgoing if id(o) not in acked]
        errors = [r for r in sent if isinstance(r, BaseException)]
        if errors:
            bug = next((e for e in errors if not isinstance(e, KafkaError)), None)
            if bug is not None:
                raise bug
            log.error("publish failed; sending again", error=str(errors[0]), unsent=len(outgoing))
            await asyncio.sleep(1 + random.random())
            return False
        for marker in outgoing:
            await self._send_marker(marker)
        outgoing.clear()
        return True

    async def _send_marker(self, marker: Outgoing) -> None:
        if self._markers is None:   # faststream's in-memory test broker: its publisher is the only way out
            await self.publishers[marker.topic].publish(marker.value, key=marker.key,
                                                        headers={k: v.decode() for k, v in marker.headers})
            return

        def sent(done: asyncio.Future) -> None:
            if done.cancelled() or done.exception() is not None:
                log.warning("forward marker not sent; a repeat of the ticket is left to the next stage",
                            error=str(done.exception()) if not done.cancelled() else "cancelled")
            else:
                metrics.MESSAGES_OUT.labels(self.service, marker.topic).inc()

        try:
            # `send` waits while the producer's buffer is full (the broker away): a marker must never hold
            # the message it belongs to, so it is given up after a moment.
            (await asyncio.wait_for(self._markers.send(
                marker.topic, marker.value, key=marker.key, headers=marker.headers,
                partition=self._marker_partition), timeout=0.5)).add_done_callback(sent)
        except (KafkaError, TimeoutError) as exc:
            log.warning("forward marker not sent; a repeat of the ticket is left to the next stage", error=str(exc))


async def raw_message(msg) -> ConsumerRecord | tuple[ConsumerRecord, ...]:
    """faststream's decoder for our subscribers: the consumer record(s) as they are (the handler decodes them)."""
    return msg.raw_message
