"""The intent-classifier at its Kafka edge, raw tickets in, in memory (unit) and on the real Kafka (integration)."""

import json
import uuid

import pytest
import yaml
from intent_classifier.config import Settings
from intent_classifier.domain.workflows import parse_workflows
from intent_classifier.handlers import ClassifierHandler, TicketDecoder
from supportmesh.v1.envelope_pb2 import Envelope
from supportmesh_core import topics
from supportmesh_core.kafka import StageRunner
from supportmesh_core.testing import stage_harness
from supportmesh_core.topics import STAGES
from supportmesh_intent.classifier import Classifier

JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def handler(model, settings):
    # As the unit tests build it: the session's trained model, the shipped workflows, no language model.
    workflows = parse_workflows(yaml.safe_load(settings.workflows_path.read_text()), STAGES)
    workflows.check_intents(model.labels)
    return ClassifierHandler(Classifier(model), workflows, settings.min_confidence)


def runner(real: str, handler) -> StageRunner:
    # The consumer group is the service name and cannot be set apart from it, so on the real broker each test is
    # a stage of its own (name, group, topic): joining "intent-classifier" would rebalance a running classifier,
    # and tickets.inbound would hand it the test's tickets. The name decides neither the decoder (passed here as
    # app.py passes it) nor an optional stage; only `visited` and escalated_by show it.
    unique = uuid.uuid4().hex[:10]
    name = f"test-classifier-{unique}" if real else "intent-classifier"
    settings = Settings(OTEL_SERVICE_NAME=name, **({"KAFKA_BOOTSTRAP_SERVERS": real} if real else {}))
    return StageRunner(settings, handler, input_topic=f"test.edge.{unique}" if real else None,
                       decoder=TicketDecoder(settings.ticket_budget_ms))


def ticket(ticket_id: str, subject: str, body: str) -> bytes:
    return json.dumps({"ticket_id": ticket_id, "conversation_id": f"C-{ticket_id}", "subject": subject,
                       "body": body, "customer": {"name": "Yusuf Rossi", "email": "yusuf@example.com"}}).encode()


async def test_a_raw_ticket_is_classified_and_sent_down_its_workflow(real, handler):
    tid = f"T-cancel-{uuid.uuid4().hex[:6]}"
    async with stage_harness(runner(real, handler), real=bool(real)) as stage:
        await stage.send(ticket(tid, "Cancel", "please cancel order #W1234567"), key=f"C-{tid}".encode(),
                         headers=JSON)
        await stage.settle(1)
        (out,) = await stage.received("stage.context-compressor", 1, tid)
    env = Envelope.FromString(out.value)
    assert list(env.routing_slip) == ["retriever", "technical-analyst", "response-generator"]
    assert list(env.visited) == [stage.runner.service] and out.key == f"C-{tid}".encode()
    c = env.classification
    assert (c.intent, c.workflow) == ("cancel_order", "resolve")
    assert [(e.type, e.value) for e in c.entities] == [("order_id", "#W1234567")]
    # The ticket's budget starts here: every later stage times its calls against this deadline.
    assert env.deadline_unix_ms - env.received_unix_ms == stage.runner.settings.ticket_budget_ms


async def test_a_threat_goes_straight_to_a_person(real, handler):
    tid = f"T-threat-{uuid.uuid4().hex[:6]}"
    body = "Refund me now or I will come to your office and make you regret it. Order #W1234567."
    async with stage_harness(runner(real, handler), real=bool(real)) as stage:
        await stage.send(ticket(tid, "Refund", body), key=f"C-{tid}".encode(), headers=JSON)
        await stage.settle(1)
        (out,) = await stage.received(topics.ESCALATIONS, 1, tid)
    handoff = json.loads(out.value)
    assert handoff["reason"] == "threat" and handoff["priority"] == "urgent"
    assert handoff["escalated_by"] == stage.runner.service and handoff["customer_message"].startswith("Hi Yusuf,")
    assert not stage.on("stage.context-compressor", tid)


async def test_an_unreadable_raw_ticket_goes_to_the_dlq_and_nowhere_else(real, handler):
    async with stage_harness(runner(real, handler), real=bool(real)) as stage:
        await stage.send(b"{not json", key=b"C-poison", headers=JSON)
        await stage.settle(1)
        dead = [json.loads(r.value) for r in await stage.received(topics.DLQ, 1)]
    # A dead letter has no ticket id: it is ours when it came from this stage's input topic.
    (record,) = [d for d in dead if d["source"]["topic"] == stage.runner.input_topic]
    assert record["error"].startswith("not JSON") and record["source"]["key"] == "C-poison"
    assert record["original_base64"] and record["service"] == stage.runner.service
    assert not [r for r in stage.on("stage.context-compressor") if r.key == b"C-poison"]
