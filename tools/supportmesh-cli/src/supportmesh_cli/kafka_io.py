"""Kafka for a command-line tool: fail within seconds with a clear reason when the broker is unreachable."""

import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError
from supportmesh_core.kafka import new_producer

CONNECT_TIMEOUT_S = 10.0


class KafkaUnavailable(Exception):
    """Kafka cannot serve the command: no broker answered in time, or the topics it needs are missing."""


async def _start(client: AIOKafkaProducer | AIOKafkaConsumer, bootstrap: str) -> None:
    try:
        await asyncio.wait_for(client.start(), CONNECT_TIMEOUT_S)
    except (KafkaError, OSError, TimeoutError) as exc:
        await client.stop()
        reason = str(exc) or type(exc).__name__
        raise KafkaUnavailable(f"cannot reach Kafka at {bootstrap} ({reason}); "
                               "set KAFKA_BOOTSTRAP_SERVERS or --bootstrap") from None


async def started_producer(bootstrap: str) -> AIOKafkaProducer:
    # A short request timeout: a person waiting at a prompt should get an answer, not a 40 s hang.
    producer = new_producer(bootstrap, request_timeout_ms=int(CONNECT_TIMEOUT_S * 1000))
    await _start(producer, bootstrap)
    return producer


async def started_reader(bootstrap: str) -> AIOKafkaConsumer:
    """A consumer outside any group, reading only committed records, for partitions assigned by hand."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                isolation_level="read_committed",
                                request_timeout_ms=int(CONNECT_TIMEOUT_S * 1000) + 5000)
    await _start(consumer, bootstrap)
    return consumer
