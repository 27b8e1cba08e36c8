"""Writes a consumed batch of hops: bulk-index with backoff until each hop is indexed or dead-lettered."""

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaError
from google.protobuf.message import DecodeError
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh_core.codec import b64, now_rfc3339, to_dict

from .adapters.dead_letters import DeadLetters
from .adapters.elastic import DocStore, StoreRejected, StoreUnavailable
from .domain.documents import IndexDoc, hop_to_document
from .metrics import BULK_FAILURES, HOPS_INDEXED, INDEX_LAG

log = structlog.get_logger()


class Interrupted(Exception):
    """Stop was asked while the batch was still unwritten; it stays uncommitted and will be redelivered."""


@dataclass
class Pending:
    """One consumed record on its way to the index: its document, or the reason it has none."""

    record: ConsumerRecord
    hop: HopRecord | None
    doc: IndexDoc | None
    error: str = ""


@dataclass
class BatchStats:
    indexed: int = 0
    dead_lettered: int = 0
    failed_attempts: int = 0


class BatchWriter:
    """Delivers a batch so the caller may commit it: nothing is dropped, only indexed or dead-lettered."""

    def __init__(self, store: DocStore, dead_letters: DeadLetters, *, index_prefix: str,
                 backoff_cap_s: float = 5.0, backoff_base_s: float = 0.1,
                 sleep: Callable[[float], Awaitable[None]] | None = None) -> None:
        self._store, self._dead_letters = store, dead_letters
        self._prefix = index_prefix
        self._cap, self._base = backoff_cap_s, backoff_base_s
        self._stopping = asyncio.Event()
        self._sleep = sleep or self._interruptible_sleep
        self.template_installed = False
        self.failed_attempts = 0   # over the writer's life, so an outage shows in logs and tests

    def stop(self) -> None:
        self._stopping.set()

    async def install_template(self) -> None:
        """Install the index template once; raises StoreUnavailable while Elasticsearch is unreachable."""
        if not self.template_installed:
            await self._store.install_template()
            self.template_installed = True
            log.info("index template installed")

    async def write(self, records: list[ConsumerRecord]) -> BatchStats:
        """Return once every record is indexed or dead-lettered; raise Interrupted on stop."""
        ingested = time.time_ns()
        pending = [self._prepare(rec, ingested) for rec in records]
        letters = [self._letter(p) for p in pending if p.doc is None]
        to_index = [p for p in pending if p.doc is not None]
        stats = BatchStats()
        attempt = 0
        # Work is a stack of chunks: a refused request is split in halves until the bad document is
        # alone and can be dead-lettered; the rest of its batch is still indexed.
        chunks = [to_index] if to_index else []
        while chunks:
            chunk = chunks.pop()
            try:
                await self.install_template()  # must precede the first document of a new daily index
                results = await self._store.bulk_index([p.doc for p in chunk])
            except StoreUnavailable as exc:
                chunks.append(chunk)
                attempt = await self._backoff(attempt, stats, str(exc), sum(map(len, chunks)))
                continue
            except StoreRejected as exc:
                if len(chunk) > 1:
                    half = len(chunk) // 2
                    chunks += [chunk[half:], chunk[:half]]
                else:
                    chunk[0].error = str(exc)
                    letters.append(self._letter(chunk[0]))
                continue
            retry = []
            accepted = time.time_ns()
            for item, result in zip(chunk, results, strict=True):
                if result.ok:
                    stats.indexed += 1
                    HOPS_INDEXED.inc()
                    if item.hop is not None and item.hop.start_unix_nanos > 0:
                        ended = item.hop.start_unix_nanos + max(0, item.hop.duration_ns)
                        INDEX_LAG.observe(max(0, accepted - ended) / 1e9)
                elif result.retryable:
                    retry.append(item)
                else:
                    item.error = f"rejected by Elasticsearch (HTTP {result.status}): {result.error}"
                    letters.append(self._letter(item))
            if retry:
                chunks.append(retry)
                attempt = await self._backoff(attempt, stats, f"{len(retry)} documents refused for now",
                                              sum(map(len, chunks)))
        while letters:
            try:
                await self._dead_letters.send(letters)
                stats.dead_lettered = len(letters)
                log.warning("hops dead-lettered", count=len(letters), first_error=letters[0]["error"])
                break
            except KafkaError as exc:
                attempt = await self._backoff(attempt, stats, f"dead-letter topic: {exc}", len(letters))
        return stats

    async def _backoff(self, attempt: int, stats: BatchStats, reason: str, waiting: int) -> int:
        # Jitter keeps several indexers from retrying a recovering cluster in lockstep.
        delay = min(self._cap, self._base * 2 ** attempt) * random.uniform(0.5, 1.0)
        stats.failed_attempts += 1
        self.failed_attempts += 1
        BULK_FAILURES.inc()
        log.warning("indexing delayed; will retry", reason=reason, waiting_docs=waiting,
                    attempt=attempt + 1, retry_in_s=round(delay, 2))
        await self._sleep(delay)
        if self._stopping.is_set():
            raise Interrupted(reason)
        return attempt + 1

    async def _interruptible_sleep(self, delay: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), delay)
        except TimeoutError:
            pass

    def _prepare(self, rec: ConsumerRecord, ingested: int) -> Pending:
        hop = HopRecord()
        try:
            hop.ParseFromString(rec.value or b"")
        except (DecodeError, RecursionError) as exc:
            return Pending(rec, None, None, f"not a HopRecord: {exc}")
        doc = hop_to_document(hop, index_prefix=self._prefix, ingested_unix_nanos=ingested,
                              topic=rec.topic, partition=rec.partition, offset=rec.offset)
        return Pending(rec, hop, doc)

    @staticmethod
    def _letter(item: Pending) -> dict:
        rec = item.record
        letter = {
            "error": item.error,
            "hop": to_dict(item.hop) if item.hop is not None else None,
            "source": {"topic": rec.topic, "partition": rec.partition, "offset": rec.offset},
            "failed_at": now_rfc3339(),
        }
        if item.hop is None:
            letter["original_base64"] = b64(rec.value)
        if item.doc is not None:
            letter["index"], letter["doc_id"] = item.doc.index, item.doc.doc_id
        return letter
