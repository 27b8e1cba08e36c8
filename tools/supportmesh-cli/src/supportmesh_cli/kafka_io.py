"""Kafka for a command-line tool: fail within seconds with a clear reason when the broker is unreachable."""

import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError
from pydantic import ValidationError
from supportmesh_core.kafka import new_producer
from supportmesh_core.kafka_security import KafkaSecurity, KafkaSecurityError, new_consumer, start_client

CONNECT_TIMEOUT_S = 10.0


class KafkaUnavailable(Exception):
    """Kafka cannot serve the command: no broker answered in time, or the topics it needs are missing."""


def security(**overrides: str) -> KafkaSecurity:
    """The Kafka security settings of the environment (KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_*, KAFKA_SSL_*)."""
    try:
        return KafkaSecurity(**overrides)
    except ValidationError as exc:
        problems = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        raise KafkaUnavailable(f"bad Kafka security settings: {problems}") from None


async def _start(client: AIOKafkaProducer | AIOKafkaConsumer, bootstrap: str, settings: KafkaSecurity) -> None:
    try:
        await asyncio.wait_for(start_client(client, bootstrap, settings), CONNECT_TIMEOUT_S)
    except KafkaSecurityError as exc:
        await client.stop()
        raise KafkaUnavailable(str(exc)) from None
    except (KafkaError, OSError, TimeoutError) as exc:
        await client.stop()
        reason = str(exc) or type(exc).__name__
        raise KafkaUnavailable(f"cannot reach Kafka at {bootstrap} ({reason}); "
                               "set KAFKA_BOOTSTRAP_SERVERS or --bootstrap") from None


async def started_producer(bootstrap: str) -> AIOKafkaProducer:
    settings = security()
    # A short request timeout: a person waiting at a prompt should get an answer, not a 40 s hang.
    producer = new_producer(bootstrap, security=settings, request_timeout_ms=int(CONNECT_TIMEOUT_S * 1000))
    await _start(producer, bootstrap, settings)
    return producer


async def started_reader(bootstrap: str) -> AIOKafkaConsumer:
    """A consumer outside any group, reading only committed records, for partitions assigned by hand."""
    settings = security()
    consumer = new_consumer(bootstrap, security=settings, group_id=None, enable_auto_commit=False,
                            isolation_level="read_committed",
                            request_timeout_ms=int(CONNECT_TIMEOUT_S * 1000) + 5000)
    await _start(consumer, bootstrap, settings)
    return consumer
