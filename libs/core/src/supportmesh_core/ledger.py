"""The ticket ledger: which tickets a stage must not handle again, read back from the outcome topics."""

import asyncio
import time

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from . import topics

log = structlog.get_logger()


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



async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()  # the public API has no metadata refresh
    return consumer.partitions_for_topic(topic) or set()

