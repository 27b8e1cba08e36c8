"""The ticket ledger: which tickets a stage must not handle again, read back from the outcome topics."""

import asyncio
import time
import zlib

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from . import topics
from .kafka_security import KafkaSecurity, new_consumer, start_client

log = structlog.get_logger()

# A ticket passed on but not yet answered matters only while a copy of it can still be in flight; the
# outcome topics cover everything older. An hour of markers is read back at start-up, not the whole window.
FORWARDED_WINDOW_S = 3600.0


def forwarded_partition(stage: str, partitions: int) -> int:
    """The partition of stage.forwarded that holds `stage`'s markers: a stage of the mesh has its own (the topic
    is created with one per stage), any other name (tests) the one its CRC picks; shared ones are told apart
    by the key."""
    if stage in topics.STAGES and topics.STAGES.index(stage) < partitions:
        return topics.STAGES.index(stage)
    return zlib.crc32(stage.encode()) % partitions


class TicketLedger:
    """Ticket ids a stage must not handle again: answered or escalated by any stage, or passed on by this one.

    The output topics are the record of outcomes: the ledger reads back `window` of tickets.responses and
    tickets.escalations (their `ticket-id` header) and then keeps following them, so a stage also learns
    what the stages after it answered, and survives restarts without a store of its own. What any replica
    of this stage passed on is read the same way from its markers on stage.forwarded (keyed by the stage's
    name, in the stage's own partition). Entries older than the window are forgotten, so memory stays
    bounded.

    `sync()` is the fence a new owner of partitions waits on: it returns once everything published to these
    topics before the call has been read, so a ticket another replica answered or passed on just before a
    rebalance is recognised when its copy is read again here.
    """

    def __init__(self, window_hours: float, stage: str = "") -> None:
        self._window_s = window_hours * 3600
        self._stage = stage
        self._stage_key = stage.encode()   # the key of this stage's forward markers
        self._ids: dict[str, float] = {}   # ticket id -> when recorded (unix s), about oldest first
        self.caught_up = asyncio.Event()   # the window was read back: safe to start handling
        self._requests: list[asyncio.Future] = []   # sync() calls waiting for the follower to read the ends

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

    async def sync(self) -> None:
        """Return once the follower has read everything the followed partitions held when this was called."""
        done = asyncio.get_running_loop().create_future()
        self._requests.append(done)
        await done

    async def follow(self, bootstrap: str, security: KafkaSecurity | None = None) -> None:
        """Read the window back, set `caught_up`, then follow new outcomes until cancelled."""
        attempt = 0
        while True:
            try:
                await self._read(bootstrap, security)
            except KafkaError as exc:
                # Just-created topics have no leader for a moment, or the broker is restarting.
                attempt += 1
                log.warning("outcome topics not readable; retrying", error=str(exc), attempt=attempt)
                await asyncio.sleep(min(5.0, 0.2 * 2 ** attempt))

    async def _read(self, bootstrap: str, security: KafkaSecurity | None) -> None:
        # Small fetches: the read-back of a day of outcomes otherwise held megabytes of records at once, and the
        # process kept that peak resident (the classifier went past 250 MB).
        consumer = new_consumer(bootstrap, security=security, enable_auto_commit=False,
                                max_partition_fetch_bytes=128 * 1024)
        fences: list[tuple[dict[TopicPartition, int], asyncio.Future | None]] = []
        await start_client(consumer, bootstrap, security)
        try:
            parts = [TopicPartition(t, p) for t in (topics.RESPONSES, topics.ESCALATIONS)
                     for p in await _partitions(consumer, t)]
            if self._stage:
                parts.append(TopicPartition(topics.FORWARDED, forwarded_partition(
                    self._stage, len(await _partitions(consumer, topics.FORWARDED)))))
            now = time.time()
            starts = await consumer.offsets_for_times({
                tp: int((now - (FORWARDED_WINDOW_S if tp.topic == topics.FORWARDED else self._window_s)) * 1000)
                for tp in parts})
            consumer.assign(parts)
            for tp in parts:
                if starts.get(tp) is None:
                    await consumer.seek_to_end(tp)
                else:
                    consumer.seek(tp, starts[tp].offset)
            # The read-back is the first fence; later ones are sync() calls.
            fences.append((await consumer.end_offsets(parts), None))
            while True:
                if self._requests:
                    ends = await consumer.end_offsets(parts)
                    fences += [(ends, done) for done in self._requests]
                    self._requests = []
                batch = await consumer.getmany(timeout_ms=100 if fences else 1000, max_records=1000)
                for tp, records in batch.items():
                    forwarded = tp.topic == topics.FORWARDED
                    for rec in records:
                        if forwarded and rec.key != self._stage_key:
                            continue   # another stage's markers sharing the partition (test stages, few partitions)
                        ticket_id = dict(rec.headers or ()).get("ticket-id")
                        if ticket_id:
                            self.add(ticket_id.decode(errors="replace"), rec.timestamp / 1000)
                if fences:
                    positions = {tp: await consumer.position(tp) for tp in parts}
                    reached = [f for f in fences if all(positions[tp] >= end for tp, end in f[0].items())]
                    for fence in reached:
                        fences.remove(fence)
                        if fence[1] is None:
                            self.caught_up.set()
                            log.info("outcome ledger loaded", tickets=len(self._ids),
                                     window_hours=self._window_s / 3600)
                        elif not fence[1].done():
                            fence[1].set_result(None)
        except BaseException:
            # The waiting sync() calls are asked again of the next read (or are cancelled with it).
            self._requests += [done for _, done in fences if done is not None]
            raise
        finally:
            await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    found = consumer.partitions_for_topic(topic)
    if not found:
        await consumer._client.force_metadata_update()  # the public API has no metadata refresh
        found = consumer.partitions_for_topic(topic)
    if not found:
        raise KafkaError(f"{topic} has no partitions yet")
    return found
