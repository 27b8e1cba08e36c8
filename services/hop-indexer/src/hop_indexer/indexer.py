"""The consume → index → commit loop: offsets move only after Elasticsearch (or the DLQ) has every hop."""

import asyncio

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from opentelemetry import trace
from supportmesh_core import metrics, topics
from supportmesh_core.chaos import FaultFlags
from supportmesh_core.kafka import ensure_topics, new_producer

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
        self.consumer: AIOKafkaConsumer | None = None
        self.producer: AIOKafkaProducer | None = None
        self.writer: BatchWriter | None = None
        self.indexed = 0
        self.dead_lettered = 0
        self._started = False
        self._stopping = asyncio.Event()
        self._tracer = trace.get_tracer(settings.service_name)
        self.faults = FaultFlags(settings.service_name,
                                 settings.kafka_bootstrap_servers if settings.chaos_enabled else None)

    def is_ready(self) -> bool:
        """Consuming, with the index template in place."""
        return self._started and self.writer is not None and self.writer.template_installed

    async def start(self) -> None:
        bootstrap = self.settings.kafka_bootstrap_servers
        await ensure_topics(bootstrap, [topics.HOPS, self.settings.dlq_topic])
        self.producer = new_producer(bootstrap)
        await self.producer.start()
        self.writer = BatchWriter(self.store, KafkaDeadLetters(self.producer, self.settings.dlq_topic),
                                  index_prefix=self.settings.index_prefix,
                                  backoff_cap_s=self.settings.backoff_cap_s)
        try:
            await self.writer.install_template()
        except StoreUnavailable as exc:
            # Not fatal: hops wait in Kafka, and the writer installs the template before its first bulk.
            log.warning("Elasticsearch not ready at start; indexing will wait for it", error=str(exc))
        self.consumer = AIOKafkaConsumer(
            topics.HOPS, bootstrap_servers=bootstrap, group_id=self.group_id, enable_auto_commit=False,
            # A new group starts at the beginning: hops produced before the indexer first ran are indexed too.
            auto_offset_reset="earliest", max_poll_records=self.settings.batch_max,
        )
        await self.consumer.start()
        self.faults.start()
        self._started = True
        log.info("hop indexer started", topic=topics.HOPS, group=self.group_id,
                 index_prefix=self.settings.index_prefix, dlq=self.settings.dlq_topic)

    def stop(self) -> None:
        self._stopping.set()
        if self.writer is not None:
            self.writer.stop()

    async def close(self) -> None:
        await self.faults.stop()
        if self.consumer is not None:
            await self.consumer.stop()
        if self.producer is not None:
            await self.producer.stop()
        await self.store.close()

    async def run(self) -> None:
        """Index batches until `stop()`; a batch interrupted by stop stays uncommitted."""
        assert self.consumer is not None and self.writer is not None
        while not self._stopping.is_set():
            batch = await self.consumer.getmany(timeout_ms=self.settings.batch_wait_ms,
                                                max_records=self.settings.batch_max)
            await metrics.observe_lag(self.settings.service_name, self.consumer)
            records = [r for recs in batch.values() for r in recs]
            if not records:
                continue
            with self._tracer.start_as_current_span("hop-indexer bulk") as span:
                span.set_attribute("messaging.batch.message_count", len(records))
                await self._inject_faults(span)
                try:
                    stats = await self.writer.write(records)
                except Interrupted:
                    log.info("stopping with a batch unwritten; it will be redelivered", hops=len(records))
                    return
                span.set_attribute("supportmesh.indexed", stats.indexed)
                span.set_attribute("supportmesh.dead_lettered", stats.dead_lettered)
            await self._commit({tp: recs[-1].offset + 1 for tp, recs in batch.items()})
            service = self.settings.service_name
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

    async def _commit(self, offsets: dict) -> None:
        assert self.consumer is not None
        # After a long outage the group may have moved partitions away from us. The new owner starts
        # from the last commit and indexes those hops again under the same ids, so nothing is lost.
        owned = self.consumer.assignment()
        offsets = {tp: off for tp, off in offsets.items() if tp in owned}
        if not offsets:
            return
        try:
            await self.consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError, KafkaError) as exc:
            log.warning("commit failed; the batch will be indexed again (same ids)", error=str(exc))
