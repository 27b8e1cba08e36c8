"""The dead-letter topic for hops Elasticsearch refuses for good, as JSON {error, hop, source, ...}."""

import asyncio
import json
from typing import Protocol

from aiokafka import AIOKafkaProducer
from supportmesh_core.codec import JSON_TYPE


class DeadLetters(Protocol):
    """Where hops that can never be indexed go, so none is silently lost."""

    async def send(self, letters: list[dict]) -> None:
        """Send every letter or raise; the caller keeps the batch uncommitted until this returns."""


class KafkaDeadLetters:
    """Writes letters to a Kafka topic and waits for every ack."""

    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self._producer, self.topic = producer, topic

    async def send(self, letters: list[dict]) -> None:
        futures = []
        for letter in letters:
            trace_id = (letter.get("hop") or {}).get("trace_id", "")
            value = json.dumps(letter, ensure_ascii=False, separators=(",", ":")).encode()
            futures.append(await self._producer.send(self.topic, value, key=trace_id.encode() or None,
                                                     headers=[("content-type", JSON_TYPE.encode())]))
        await asyncio.gather(*futures)
