"""The technical-analyst at its Kafka edge, in memory (unit) and on the real Kafka (integration)."""

import json
import uuid

from supportmesh.v1.envelope_pb2 import Envelope, OrderFacts
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh_core import topics
from supportmesh_core.kafka import StageRunner
from supportmesh_core.testing import stage_harness, unit_test_module
from technical_analyst.config import Settings
from technical_analyst.domain.execution import ExecutionResult

unit = unit_test_module(__file__, "test_analyst_handler")  # its fakes and envelope builders

def runner(real: str, handler) -> StageRunner:
    # The consumer group is the service name and cannot be set apart from it, so on the real broker each test is
    # a stage of its own (name, group, topic): joining "technical-analyst" would rebalance a running analyst.
    # Nothing the analyst does depends on its name (it is no optional stage); only escalated_by shows it.
    unique = uuid.uuid4().hex[:10]
    name = f"test-analyst-{unique}" if real else "technical-analyst"
    settings = Settings(OTEL_SERVICE_NAME=name, **({"KAFKA_BOOTSTRAP_SERVERS": real} if real else {}))
    return StageRunner(settings, handler, input_topic=f"test.edge.{unique}" if real else None)


def envelope(ticket: str, intent: str, category: str, order: OrderFacts) -> bytes:
    env: Envelope = unit.envelope(intent, category, orders=[order])
    env.ticket.ticket_id, env.ticket.conversation_id = ticket, f"C-{ticket}"   # T-9 would meet other tests' T-9
    env.routing_slip.append("response-generator")
    return env.SerializeToString()


def hops_of(stage, ticket: str) -> list[HopRecord]:
    return [HopRecord.FromString(r.value) for r in stage.on(topics.HOPS, ticket)]


async def test_a_cancel_is_done_once_and_passed_to_the_generator(real):
    ticket, commerce = f"T-cancel-{uuid.uuid4().hex[:6]}", unit.FakeCommerce()
    async with stage_harness(runner(real, unit.handler(commerce=commerce)), real=bool(real)) as stage:
        await stage.send(envelope(ticket, "cancel_order", "ORDER", unit.ORDER), key=f"C-{ticket}".encode())
        await stage.settle(1)
        (out,) = await stage.received("stage.response-generator", 1, ticket)
    passed = Envelope.FromString(out.value)
    assert list(passed.routing_slip) == [] and list(passed.visited) == [stage.runner.service]
    a = passed.analysis
    assert (a.policy_decision, a.policy_code) == ("allowed", "cancel_pending_order_done")
    assert [(x.name, x.status) for x in a.actions] == [("cancel_pending_order", "done")]
    assert [(c[0].order_id, c[2]) for c in commerce.calls] == [("#W2378156", ticket)]


async def test_a_refund_above_the_limit_is_escalated_with_its_case(real):
    ticket = f"T-refund-{uuid.uuid4().hex[:6]}"
    commerce = unit.FakeCommerce(ExecutionResult("needs_approval", "A refund of $812.40 ... case CASE-1 asks ...",
                                                 "CASE-1"))
    big = OrderFacts(order_id="#W7", status="delivered", total=812.4, user_id="yusuf_rossi_9620",
                     item_names=["Office Chair"], tracking_ids=["843053632392"])
    async with stage_harness(runner(real, unit.handler(commerce=commerce)), real=bool(real)) as stage:
        await stage.send(envelope(ticket, "get_refund", "REFUND", big), key=f"C-{ticket}".encode())
        await stage.settle(1)
        (out,) = await stage.received(topics.ESCALATIONS, 1, ticket)
    handoff = json.loads(out.value)
    assert handoff["reason"] == "refund_above_limit" and handoff["case_id"] == "CASE-1"
    assert handoff["escalated_by"] == stage.runner.service and handoff["intent"] == "get_refund"
    assert "CASE-1" in handoff["customer_message"] and "No refund has been made" in handoff["customer_message"]
    assert [(x["name"], x["status"]) for x in handoff["actions"]] == [("issue_refund", "refused")]
    assert not stage.on("stage.response-generator", ticket)   # a person answers it, not the generator


async def test_a_redelivered_cancel_is_dropped_not_written_twice(real):
    ticket, commerce = f"T-again-{uuid.uuid4().hex[:6]}", unit.FakeCommerce()
    async with stage_harness(runner(real, unit.handler(commerce=commerce)), real=bool(real)) as stage:
        for _ in range(2):   # the retriever's output read twice after a crash before its commit
            await stage.send(envelope(ticket, "cancel_order", "ORDER", unit.ORDER), key=f"C-{ticket}".encode())
        await stage.settle(2)
        await stage.received("stage.response-generator", 1, ticket)
        await stage.received(topics.HOPS, 2, ticket)
    assert len(stage.on("stage.response-generator", ticket)) == 1 and len(commerce.calls) == 1
    assert [h.labels.get("duplicate_suppressed") for h in hops_of(stage, ticket)] == [None, "true"]
