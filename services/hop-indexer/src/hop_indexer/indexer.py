"""The Kafka edge on faststream: a batch subscriber that indexes each batch, then commits its offsets."""

import asyncio
from typing import Any

import structlog
from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from faststream import AckPolicy
from faststream.kafka import Topic
from opentelemetry import trace
from supportmesh_core import metrics, topics
from supportmesh_core.chaos import FaultFlags
from supportmesh_core.kafka import TOPIC_DESCRIPTIONS, ensure_topics, new_broker

from .adapters.dead_letters import KafkaDeadLetters
from .adapters.elastic import DocStore, StoreUnavailable
from .config import Settings
from .writer import BatchWriter, Interrupted

log = structlog.get_logger()


class HopIndexer:
    """Consumes telemetry.hops as its own consumer group and bulk-indexes every hop."""

    def __init__(self, settings: Settings, store: DocStore, *, group_id: str | None = None) -> None:
        self.settings = settings
        self.store = store
        self.group_id = group_id or settings.service_name
        self.broker = new_broker(settings.kafka_bootstrap_servers, settings.service_name, security=settings)
        self.subscriber = self.broker.subscriber(
            # Created beforehand with our partition count (ensure_topics), not by faststream.
            Topic(topics.HOPS, declare=False), group_id=self.group_id, ack_policy=AckPolicy.MANUAL,
            # A new group starts at the beginning: hops produced before the indexer first ran are indexed too.
            auto_offset_reset="earliest",
            batch=True, max_records=settings.batch_max, batch_timeout_ms=settings.batch_wait_ms,
            # The broker holds a fetch until 64 KB of hops are there or the batch wait is over, so a bulk request
            # carries a few hundred hops: one per fetch carried 5-6 at 50 tickets/s, 60 bulks a second, and
            # Elasticsearch's work per bulk was most of its CPU.
            fetch_min_bytes=64 * 1024, fetch_max_wait_ms=settings.batch_wait_ms,
            title=f"{topics.HOPS}:{settings.service_name}", description=TOPIC_DESCRIPTIONS[topics.HOPS],
        )
        self.dead_letters = self.broker.publisher(
            settings.dlq_topic, title=f"{settings.dlq_topic}:{settings.service_name}",
            description="Hops Elasticsearch refused for good, or records that are not a HopRecord (JSON).",
        )
        self.subscriber(self._index_batch, decoder=_records)
        self.writer = BatchWriter(store, KafkaDeadLetters(self.dead_letters),
                                  index_prefix=settings.index_prefix, backoff_cap_s=settings.backoff_cap_s)
        self.indexed = 0
        self.dead_lettered = 0
        self._started = False
        self._stopping = asyncio.Event()
        self._failure: BaseException | None = None
        self._tracer = trace.get_tracer(settings.service_name)
        self.faults = FaultFlags(settings.service_name,
                                 settings.kafka_bootstrap_servers if settings.chaos_enabled else None,
                                 security=settings)

    def is_ready(self) -> bool:
        """Consuming, with the index template in place."""
        return self._started and self.writer.template_installed

    async def start(self) -> None:
        await ensure_topics(self.settings.kafka_bootstrap_servers, [topics.HOPS, self.settings.dlq_topic],
                            security=self.settings)
        try:
            await self.writer.install_template()
        except StoreUnavailable as exc:
            # Not fatal: hops wait in Kafka, and the writer installs the template before its first bulk.
            log.warning("Elasticsearch not ready at start; indexing will wait for it", error=str(exc))
        await self.broker.start()
        self.faults.start()
        self._started = True
        log.info("hop indexer started", topic=topics.HOPS, group=self.group_id,
                 index_prefix=self.settings.index_prefix, dlq=self.settings.dlq_topic)

    def stop(self) -> None:
        self._stopping.set()
        self.writer.stop()

    async def close(self) -> None:
        await self.faults.stop()
        await self.broker.stop()
        await self.store.close()

    async def run(self) -> None:
        """Index batches until `stop()`; a batch interrupted by stop stays uncommitted."""
        await self._stopping.wait()
        # Fetch nothing more; this waits for the batch in hand to be committed or interrupted.
        await self.subscriber.stop()
        if self._failure is not None:
            raise self._failure  # a bug, not an outage: crash, restart, read the batch again

    async def _index_batch(self, records: Any) -> None:
        """faststream's handler, one batch at a time: every hop indexed or dead-lettered, then the commit."""
        if self._stopping.is_set():
            return  # fetched after stop or a failure: left uncommitted, read again after the restart
        service = self.settings.service_name
        if (consumer := self.subscriber.consumer) is not None:
            await metrics.observe_lag(service, consumer)
        with self._tracer.start_as_current_span("hop-indexer bulk") as span:
            span.set_attribute("messaging.batch.message_count", len(records))
            await self._inject_faults(span)
            try:
                stats = await self.writer.write(list(records))
            except Interrupted:
                log.info("stopping with a batch unwritten; it will be redelivered", hops=len(records))
                return
            except Exception as exc:
                # faststream would log it and fetch the next batch, whose commit would cover this one:
                # stop taking batches instead, and let run() raise it.
                self._failure = exc
                self.stop()
                raise
            span.set_attribute("supportmesh.indexed", stats.indexed)
            span.set_attribute("supportmesh.dead_lettered", stats.dead_lettered)
        await self._commit(records)
        metrics.MESSAGES_IN.labels(service, topics.HOPS).inc(len(records))
        if stats.dead_lettered:
            metrics.MESSAGES_OUT.labels(service, self.settings.dlq_topic).inc(stats.dead_lettered)
        self.indexed += stats.indexed
        self.dead_lettered += stats.dead_lettered

    async def _inject_faults(self, span) -> None:
        """The indexer's handler edge for chaos: latency, hang and lag delay a whole bulk (indexing lag)."""
        drawn = self.faults.draw()
        lag = self.faults.lag_seconds()
        if drawn is None and not lag:
            return
        current = self.faults.current()
        span.set_attribute("fault.spec", current.describe() if current else "none")
        delay = lag + (drawn.delay_ms / 1000 if drawn else 0)
        span.set_attribute("fault.latency_ms", int(delay * 1000))
        await asyncio.sleep(delay)
        if drawn is not None:
            await self.faults.hang(drawn)

    async def _commit(self, records: tuple[ConsumerRecord, ...]) -> None:
        """Commit, per partition, one past the batch's last hop.

        Not `msg.ack()`: that commits the consumer's whole position, which equals this only while faststream
        hands out one batch at a time and nothing seeks. These are the offsets just written, whatever the
        consumer read meanwhile, and only for partitions a rebalance during a long outage left us.
        """
        consumer = self.subscriber.consumer   # None on faststream's in-memory test broker: nothing to commit
        if consumer is None:
            return
        ends: dict[TopicPartition, int] = {}
        for rec in records:
            tp = TopicPartition(rec.topic, rec.partition)
            ends[tp] = max(ends.get(tp, 0), rec.offset + 1)
        # A partition moved to another member is indexed again by it from the last commit, under the same ids.
        owned = consumer.assignment()
        offsets = {tp: end for tp, end in ends.items() if tp in owned}
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
        except KafkaError as exc:
            log.warning("commit failed; the batch will be indexed again (same ids)", error=str(exc))


async def _records(msg) -> tuple[ConsumerRecord, ...]:
    """faststream's decoder for the batch: the consumer records as they are (the writer decodes each hop)."""
    return msg.raw_message
