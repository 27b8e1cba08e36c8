"""The indexer's faststream subscriber on the in-memory broker: index, then commit; dead letters; stop uncommitted."""

import asyncio

import pytest
from aiokafka import ConsumerRecord, TopicPartition
from faststream.kafka import TestKafkaBroker
from hop_indexer.adapters.elastic import ItemResult, StoreUnavailable
from hop_indexer.config import Settings
from hop_indexer.indexer import HopIndexer
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh_core import topics

pytestmark = pytest.mark.unit

HOPS_0 = TopicPartition(topics.HOPS, 0)


def hop(i: int) -> bytes:
    return HopRecord(start_unix_nanos=1_700_000_000 * 10**9, trace_id=f"{i:032x}", span_id=f"{i:016x}",
                     service="retriever", action="retriever", outcome="success").SerializeToString()


class FakeStore:
    """Answers each bulk with the next scripted reply (a status per document, or an outage); 201 after."""

    def __init__(self, replies: list | None = None) -> None:
        self.replies = replies or []
        self.calls: list[list[str]] = []
        self.indexed: list[str] = []

    async def install_template(self) -> None:
        pass

    async def bulk_index(self, docs):
        self.calls.append([d.doc_id for d in docs])
        reply = self.replies.pop(0) if self.replies else 201
        if isinstance(reply, Exception):
            raise reply
        statuses = reply if isinstance(reply, list) else [reply] * len(docs)
        self.indexed += [d.doc_id for d, s in zip(docs, statuses, strict=True) if s < 300]
        return [ItemResult(s, "" if s < 300 else f"mapper_parsing_exception {s}") for s in statuses]

    async def close(self) -> None:
        pass


class FakeConsumer:
    """Stands in for the aiokafka consumer the in-memory broker does not have: records each commit and
    what Elasticsearch and the dead-letter topic held at that moment."""

    def __init__(self, indexer: HopIndexer, store: FakeStore) -> None:
        self._indexer, self._store = indexer, store
        self.commits: list[tuple[dict, list[str], int]] = []

    def assignment(self) -> set[TopicPartition]:
        return {TopicPartition(topics.HOPS, p) for p in range(3)}

    def highwater(self, tp: TopicPartition) -> None:
        return None   # no fetch answered: observe_lag skips it

    async def commit(self, offsets: dict) -> None:
        letters = self._indexer.dead_letters.mock.call_count
        self.commits.append((offsets, list(self._store.indexed), letters))

    async def stop(self) -> None:
        pass


def indexer_with(store: FakeStore) -> HopIndexer:
    return HopIndexer(Settings(CHAOS_ENABLED=False, HOP_BACKOFF_CAP_S=0.05), store)


def record(partition: int, offset: int, value: bytes) -> ConsumerRecord:
    return ConsumerRecord(topic=topics.HOPS, partition=partition, offset=offset, timestamp=0, timestamp_type=0,
                          key=None, value=value, checksum=None, serialized_key_size=0,
                          serialized_value_size=len(value), headers=[])


async def test_a_batch_is_indexed_then_its_offsets_are_committed():
    store = FakeStore()
    indexer = indexer_with(store)
    async with TestKafkaBroker(indexer.broker) as broker:
        consumer = indexer.subscriber.consumer = FakeConsumer(indexer, store)
        await broker.publish_batch(hop(1), hop(2), hop(3), topic=topics.HOPS)
        # A batch from the real consumer spans partitions; each is committed one past its own last hop.
        await indexer.subscriber.process_message((record(0, 7, hop(4)), record(2, 40, hop(5)),
                                                  record(0, 8, hop(6))))
    assert store.calls == [[f"{i:016x}" for i in (1, 2, 3)], [f"{i:016x}" for i in (4, 5, 6)]]
    (first, indexed_then, _), (second, _, _) = consumer.commits
    assert first == {HOPS_0: 1} and indexed_then == [f"{i:016x}" for i in (1, 2, 3)]
    assert second == {HOPS_0: 9, TopicPartition(topics.HOPS, 2): 41}
    assert (indexer.indexed, indexer.dead_lettered) == (6, 0)


async def test_a_bad_hop_goes_to_the_dead_letter_publisher_before_the_commit():
    store = FakeStore([[201, 400]])
    indexer = indexer_with(store)
    async with TestKafkaBroker(indexer.broker) as broker:
        consumer = indexer.subscriber.consumer = FakeConsumer(indexer, store)
        await broker.publish_batch(hop(1), hop(2), b"\xff\xff\xff", topic=topics.HOPS)
        letters = [call.args[0] for call in indexer.dead_letters.mock.call_args_list]
    by_error = {letter["error"].split(" ")[0]: letter for letter in letters}
    assert set(by_error) == {"rejected", "not"}
    assert by_error["rejected"]["doc_id"] == f"{2:016x}" and "HTTP 400" in by_error["rejected"]["error"]
    assert by_error["not"]["original_base64"] == "////" and by_error["not"]["source"]["topic"] == topics.HOPS
    assert consumer.commits == [({HOPS_0: 1}, [f"{1:016x}"], 2)]   # both letters acked before the commit
    assert (indexer.indexed, indexer.dead_lettered) == (1, 2)


async def test_a_batch_interrupted_by_stop_is_not_committed_and_nothing_after_it_is_written():
    store = FakeStore([StoreUnavailable("connection refused")] * 1000)
    indexer = indexer_with(store)
    async with TestKafkaBroker(indexer.broker) as broker:
        consumer = indexer.subscriber.consumer = FakeConsumer(indexer, store)
        writing = asyncio.create_task(broker.publish_batch(hop(1), hop(2), topic=topics.HOPS))
        async with asyncio.timeout(5):
            while indexer.writer.failed_attempts < 2:
                await asyncio.sleep(0.01)
        indexer.stop()
        await asyncio.wait_for(writing, 5)
        calls = len(store.calls)
        store.replies.clear()   # Elasticsearch is back, but a batch fetched after stop is not written
        await broker.publish_batch(hop(3), topic=topics.HOPS)
        await asyncio.wait_for(indexer.run(), 5)   # returns, nothing failed
    assert consumer.commits == [] and indexer.indexed == 0
    assert len(store.calls) == calls and store.indexed == []


async def test_an_unexpected_error_stops_the_indexer_uncommitted_and_run_raises_it():
    store = FakeStore([RuntimeError("bug in the store adapter")])
    indexer = indexer_with(store)
    async with TestKafkaBroker(indexer.broker) as broker:
        consumer = indexer.subscriber.consumer = FakeConsumer(indexer, store)
        with pytest.raises(RuntimeError):
            await broker.publish_batch(hop(1), topic=topics.HOPS)
        await broker.publish_batch(hop(2), topic=topics.HOPS)   # a later batch would commit past the first
        with pytest.raises(RuntimeError, match="bug in the store adapter"):
            await asyncio.wait_for(indexer.run(), 5)
    assert consumer.commits == [] and store.calls == [[f"{1:016x}"]]
