"""The retriever at its Kafka edge, in memory (unit) and on the real Kafka (integration)."""

import uuid

from retriever.adapters.kb_store import KbUnavailable
from retriever.config import Settings
from retriever.domain.lookups import LookupFailed
from retriever.handlers import RetrieverHandler
from supportmesh.v1.envelope_pb2 import Envelope
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh_core import topics
from supportmesh_core.kafka import StageRunner
from supportmesh_core.testing import stage_harness, unit_test_module

unit = unit_test_module(__file__, "test_retriever_lookups")  # its fakes and envelope builders
HIT = {"id": "help:cancellations", "title": "Cancel", "url": "u", "description": "d", "resolution": "- one",
       "_score": 2.0}

def runner(real: str, handler) -> StageRunner:
    # The consumer group is the service name and cannot be set apart from it, so on the real broker each test is
    # a stage of its own (name, group, topic): joining "retriever" would rebalance a running retriever.
    # Nothing the retriever does depends on its name (it is no optional stage); only `visited` shows it.
    unique = uuid.uuid4().hex[:10]
    name = f"test-retriever-{unique}" if real else "retriever"
    settings = Settings(OTEL_SERVICE_NAME=name, **({"KAFKA_BOOTSTRAP_SERVERS": real} if real else {}))
    return StageRunner(settings, handler, input_topic=f"test.edge.{unique}" if real else None)


def envelope(ticket: str, **kw) -> bytes:
    env: Envelope = unit.envelope(email="yusuf.rossi7301@example.com", **kw)
    env.ticket.ticket_id, env.ticket.conversation_id = ticket, f"C-{ticket}"   # T-1 would meet other tests' T-1
    env.routing_slip.extend(["technical-analyst", "response-generator"])
    return env.SerializeToString()


def hops_of(stage, ticket: str) -> list[HopRecord]:
    return [HopRecord.FromString(r.value) for r in stage.on(topics.HOPS, ticket)]


async def test_the_articles_customer_and_order_go_on_to_the_analyst(real):
    ticket = f"T-order-{uuid.uuid4().hex[:6]}"
    handler = RetrieverHandler(unit.FakeKb(hits=[HIT]), unit.FakeCommerce())
    async with stage_harness(runner(real, handler), real=bool(real)) as stage:
        await stage.send(envelope(ticket), key=f"C-{ticket}".encode())
        await stage.settle(1)
        (out,) = await stage.received("stage.technical-analyst", 1, ticket)
    passed = Envelope.FromString(out.value)
    assert list(passed.routing_slip) == ["response-generator"] and list(passed.visited) == [stage.runner.service]
    r = passed.retrieval
    assert [a.id for a in r.articles] == ["help:cancellations"] and r.customer_id == "yusuf_rossi_9620"
    assert [(o.order_id, list(o.tracking_ids)) for o in r.orders] == [("#W2378156", ["843053632392"])]
    assert out.key == f"C-{ticket}".encode()


async def test_with_the_kb_and_commerce_down_the_ticket_still_goes_on_degraded(real):
    # Neither failure holds the ticket: it goes on, saying what is missing (the analyst's policy reads
    # commerce_unavailable), rather than escalating or waiting here.
    ticket = f"T-down-{uuid.uuid4().hex[:6]}"
    handler = RetrieverHandler(unit.FakeKb(error=KbUnavailable("ConnectionError")),
                               unit.FakeCommerce(fail={"email": LookupFailed("unavailable")}))
    async with stage_harness(runner(real, handler), real=bool(real)) as stage:
        await stage.send(envelope(ticket, category="TECHNICAL", body="Outlook error 0x80070005"),
                         key=f"C-{ticket}".encode())
        await stage.settle(1)
        (out,) = await stage.received("stage.technical-analyst", 1, ticket)
    passed = Envelope.FromString(out.value)
    assert list(passed.degradations) == ["kb_unavailable", "commerce_unavailable"]
    assert list(passed.retrieval.lookup_errors) == ["customer by email: commerce unavailable"]
    assert not stage.on(topics.ESCALATIONS, ticket)


async def test_a_redelivered_ticket_is_dropped_not_looked_up_twice(real):
    ticket, commerce = f"T-again-{uuid.uuid4().hex[:6]}", unit.FakeCommerce()
    async with stage_harness(runner(real, RetrieverHandler(unit.FakeKb(), commerce)), real=bool(real)) as stage:
        for _ in range(2):   # the compressor's output read twice after a crash before its commit
            await stage.send(envelope(ticket), key=f"C-{ticket}".encode())
        await stage.settle(2)
        await stage.received("stage.technical-analyst", 1, ticket)
        await stage.received(topics.HOPS, 2, ticket)
    assert len(stage.on("stage.technical-analyst", ticket)) == 1
    assert [c[0] for c in commerce.calls] == ["email", "get_order"]
    assert [h.labels.get("duplicate_suppressed") for h in hops_of(stage, ticket)] == [None, "true"]
