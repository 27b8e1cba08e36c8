"""The dead-letter topic for hops Elasticsearch refuses for good, as JSON {error, hop, source, ...}."""

import asyncio
import json
from typing import Protocol

from faststream.kafka import KafkaPublisher
from supportmesh_core.codec import JSON_TYPE


class DeadLetters(Protocol):
    """Where hops that can never be indexed go, so none is silently lost."""

    async def send(self, letters: list[dict]) -> None:
        """Send every letter or raise; the caller keeps the batch uncommitted until this returns."""


class KafkaDeadLetters:
    """Publishes letters through the broker's declared DLQ publisher (acks=all) and waits for every ack."""

    def __init__(self, publisher: KafkaPublisher) -> None:
        self._publisher = publisher

    async def send(self, letters: list[dict]) -> None:
        # Each publish waits for its ack; started together they share the producer's batches.
        await asyncio.gather(*(self._publisher.publish(
            json.dumps(letter, ensure_ascii=False, separators=(",", ":")).encode(),
            key=(letter.get("hop") or {}).get("trace_id", "").encode() or None,
            headers={"content-type": JSON_TYPE}) for letter in letters))
