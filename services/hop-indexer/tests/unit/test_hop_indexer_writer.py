"""The batch writer with fake stores: retries without losing, dead-letters only permanent refusals."""

import asyncio

import pytest
from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaConnectionError
from hop_indexer.adapters.elastic import ItemResult, StoreRejected, StoreUnavailable
from hop_indexer.writer import BatchWriter, Interrupted
from supportmesh.v1.hop_pb2 import HopRecord

pytestmark = pytest.mark.unit


def record(offset: int, value: bytes) -> ConsumerRecord:
    return ConsumerRecord(topic="telemetry.hops", partition=0, offset=offset, timestamp=0, timestamp_type=0,
                          key=None, value=value, checksum=None, serialized_key_size=0,
                          serialized_value_size=len(value), headers=())


def hop_record(offset: int) -> ConsumerRecord:
    hop = HopRecord(start_unix_nanos=1_700_000_000 * 10**9, trace_id=f"{offset:032x}",
                    span_id=f"{offset:016x}", service="retriever", action="retriever", outcome="success")
    return record(offset, hop.SerializeToString())


class FakeStore:
    """Answers each bulk call with the next scripted reply: a status per document, or an outage."""

    def __init__(self, replies: list) -> None:
        self.replies = replies
        self.calls: list[list[str]] = []
        self.templates = 0

    async def install_template(self) -> None:
        self.templates += 1

    async def bulk_index(self, docs):
        self.calls.append([d.doc_id for d in docs])
        reply = self.replies.pop(0) if self.replies else 201
        if isinstance(reply, Exception):
            raise reply
        statuses = reply if isinstance(reply, list) else [reply] * len(docs)
        return [ItemResult(s, "" if s < 300 else f"error {s}") for s in statuses]

    async def close(self) -> None:
        pass


class FakeDeadLetters:
    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.sent: list[dict] = []

    async def send(self, letters):
        if self.failures:
            self.failures -= 1
            raise KafkaConnectionError("broker gone")
        self.sent.extend(letters)


async def no_sleep(_delay: float) -> None:
    return None


def writer(store, dead=None, sleep=no_sleep) -> BatchWriter:
    return BatchWriter(store, dead or FakeDeadLetters(), index_prefix="supportmesh-hops", sleep=sleep)


async def test_all_indexed_in_one_bulk_with_the_template_first():
    store = FakeStore([201])
    stats = await writer(store).write([hop_record(i) for i in range(3)])
    assert (stats.indexed, stats.dead_lettered, stats.failed_attempts) == (3, 0, 0)
    assert store.templates == 1
    assert store.calls == [[f"{i:016x}" for i in range(3)]]


async def test_outage_is_retried_until_it_ends_and_nothing_is_dropped():
    store = FakeStore([StoreUnavailable("refused"), StoreUnavailable("refused"), 201])
    stats = await writer(store).write([hop_record(i) for i in range(4)])
    assert stats.indexed == 4 and stats.failed_attempts == 2
    assert len(store.calls) == 3 and all(len(c) == 4 for c in store.calls)


async def test_only_the_refused_documents_are_resent():
    store = FakeStore([[201, 429, 503], 201])
    stats = await writer(store).write([hop_record(i) for i in range(3)])
    assert stats.indexed == 3
    assert store.calls[1] == [f"{1:016x}", f"{2:016x}"]


async def test_mapping_errors_and_unreadable_records_go_to_the_dead_letter_topic():
    dead = FakeDeadLetters(failures=1)
    store = FakeStore([[201, 400]])
    stats = await writer(store, dead).write([hop_record(1), hop_record(2), record(3, b"\xff\xff\xff")])
    assert (stats.indexed, stats.dead_lettered) == (1, 2)
    by_offset = {letter["source"]["offset"]: letter for letter in dead.sent}
    assert "HTTP 400" in by_offset[2]["error"] and by_offset[2]["hop"]["trace_id"] == f"{2:032x}"
    assert by_offset[2]["doc_id"] == f"{2:016x}"
    assert by_offset[3]["hop"] is None and by_offset[3]["error"].startswith("not a HopRecord")
    assert by_offset[3]["original_base64"] == "////"


async def test_stop_during_an_outage_leaves_the_batch_unwritten():
    store = FakeStore([StoreUnavailable("refused")] * 100)
    w = writer(store, sleep=None)
    task = asyncio.create_task(w.write([hop_record(1)]))
    await asyncio.sleep(0.05)
    w.stop()
    with pytest.raises(Interrupted):
        await asyncio.wait_for(task, 2)
    assert w.failed_attempts >= 1


async def test_backoff_grows_with_jitter_and_stays_under_the_cap():
    delays: list[float] = []

    async def record_sleep(delay: float) -> None:
        delays.append(delay)

    store = FakeStore([StoreUnavailable("down")] * 12 + [201])
    w = BatchWriter(store, FakeDeadLetters(), index_prefix="supportmesh-hops", backoff_cap_s=2.0,
                    backoff_base_s=0.1, sleep=record_sleep)
    await w.write([hop_record(1)])
    assert len(delays) == 12
    assert 0.05 <= delays[0] <= 0.1
    assert max(delays) <= 2.0 and delays[-1] >= 1.0


async def test_a_refused_request_is_split_until_the_bad_document_is_alone():
    bad = f"{2:016x}"

    class RefusingStore(FakeStore):
        async def bulk_index(self, docs):
            self.calls.append([d.doc_id for d in docs])
            if any(d.doc_id == bad for d in docs):
                raise StoreRejected("HTTP 400: failed to parse")
            return [ItemResult(201)] * len(docs)

    store, dead = RefusingStore([]), FakeDeadLetters()
    stats = await writer(store, dead).write([hop_record(i) for i in range(5)])
    assert (stats.indexed, stats.dead_lettered, stats.failed_attempts) == (4, 1, 0)
    assert dead.sent[0]["doc_id"] == bad and "failed to parse" in dead.sent[0]["error"]


@pytest.mark.parametrize(("status", "retryable"), [(401, True), (403, True), (429, True), (503, True),
                                                   (400, False), (404, False)])
def test_refused_credentials_wait_instead_of_dead_lettering(status, retryable):
    # A revoked key or a role missing a privilege is fixed by an operator; the hops must still be there then.
    assert ItemResult(status, "security_exception").retryable is retryable
