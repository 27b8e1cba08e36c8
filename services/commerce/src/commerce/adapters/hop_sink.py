"""A hop sink that survives a Kafka outage at start-up: records are dropped (and counted) until connected."""

import asyncio
from collections.abc import Callable

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh_core.kafka import KafkaHopSink

log = structlog.get_logger()


class DeferredHopSink:
    """Forwards hop records to Kafka once a producer has started; drops them before that.

    Hops are telemetry: the store must answer even when Kafka is down, so the service starts without a
    producer and attaches one whenever Kafka becomes reachable.
    """

    def __init__(self) -> None:
        self._inner: KafkaHopSink | None = None
        self.producer: AIOKafkaProducer | None = None
        self.dropped = 0

    @property
    def connected(self) -> bool:
        return self._inner is not None

    async def emit(self, hop: HopRecord) -> None:
        if self._inner is None:
            self.dropped += 1
            return
        await self._inner.emit(hop)

    async def connect(self, new_producer: Callable[[], AIOKafkaProducer], timeout_s: float) -> bool:
        """Try once to start a producer; True when hop records now flow to Kafka."""
        producer = new_producer()
        try:
            await asyncio.wait_for(producer.start(), timeout_s)
        except (KafkaError, OSError, TimeoutError) as exc:
            log.warning("kafka unreachable; serving without hop records",
                        error=str(exc) or type(exc).__name__, dropped=self.dropped)
            await producer.stop()
            return False
        self.producer, self._inner = producer, KafkaHopSink(producer)
        log.info("hop records flowing to kafka", dropped_before=self.dropped)
        return True

    async def keep_connecting(self, new_producer: Callable[[], AIOKafkaProducer], timeout_s: float,
                              max_backoff_s: float = 60.0) -> None:
        """Retry `connect` with doubling back-off until it succeeds (run as a background task)."""
        backoff = min(1.0, max_backoff_s)
        while not await self.connect(new_producer, timeout_s):
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, max_backoff_s)

    async def close(self) -> None:
        """Flush and stop the producer, if one was started."""
        if self.producer is not None:
            await self.producer.stop()
