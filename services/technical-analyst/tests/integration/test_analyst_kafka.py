"""technical-analyst inside the real stage runner on real Kafka, calling a real commerce process: a refund
above the limit becomes a commerce case and an escalation naming it."""

import asyncio
import json
import time

import pytest
from supportmesh.v1.envelope_pb2 import Entity, Envelope, OrderFacts
from supportmesh_core import topics
from supportmesh_core.grpcutil import tracing_channel
from supportmesh_core.kafka import StageRunner, ensure_topics, new_producer
from technical_analyst.adapters.commerce import GrpcCommerceActions
from technical_analyst.config import Settings
from technical_analyst.handlers import AnalystHandler

pytestmark = pytest.mark.integration


async def test_refund_above_limit_reaches_tickets_escalations(kafka_bootstrap, topic_reader, unique,
                                                              commerce_addr, commerce_tokens):
    # A private input topic and group, so a running mesh neither steals nor sees this test's message.
    input_topic = f"test.technical-analyst.{unique}"
    settings = Settings(OTEL_SERVICE_NAME=f"technical-analyst-test-{unique}",
                        KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap, DEDUPE_WINDOW_HOURS=0.01,
                        KAFKA_TOPIC_PARTITIONS=1)
    await ensure_topics(kafka_bootstrap, [input_topic, *topics.all_topics()], partitions=1)
    marks = await topic_reader.mark(topics.ESCALATIONS)

    env = Envelope()
    env.ticket.ticket_id, env.ticket.conversation_id = f"T-{unique}", f"C-{unique}"
    env.ticket.body = "I want my money back for order #W2378156, 650 dollars."
    env.deadline_unix_ms = int(time.time() * 1000) + 30_000
    env.classification.intent, env.classification.confidence = "get_refund", 0.9
    env.classification.entities.extend([Entity(type="order_id", value="#W2378156"),
                                        Entity(type="amount", value="650")])
    env.retrieval.customer_id, env.retrieval.customer_name = "yusuf_rossi_9620", "Yusuf Rossi"
    env.retrieval.orders.append(OrderFacts(order_id="#W2378156", status="delivered", total=1819.92,
                                           user_id="yusuf_rossi_9620", item_names=["Mechanical Keyboard"]))
    env.routing_slip.append("response-generator")

    channel = tracing_channel(commerce_addr, settings.service_name, token=commerce_tokens["technical-analyst"])
    handler = AnalystHandler(settings.refund_approval_limit, GrpcCommerceActions(channel))
    runner = StageRunner(settings, handler, input_topic=input_topic)
    await runner.start()
    task = asyncio.create_task(runner.run())
    producer = new_producer(kafka_bootstrap)
    await producer.start()
    try:
        key = env.ticket.conversation_id.encode()
        await producer.send_and_wait(input_topic, env.SerializeToString(), key=key)
        records = await topic_reader.collect(
            marks, lambda rs: any(topic_reader.header(r, "ticket-id") == env.ticket.ticket_id for r in rs))
    finally:
        runner.stop()
        await task
        await runner.close()
        await producer.stop()
        await channel.close()

    [record] = [r for r in records if topic_reader.header(r, "ticket-id") == env.ticket.ticket_id]
    body = json.loads(record.value)
    assert body["reason"] == "refund_above_limit" and body["escalated_by"] == settings.service_name
    assert body["case_id"].startswith("CASE-") and body["case_id"] in body["customer_message"]
    assert "650.00" in body["customer_message"] and "#W2378156" in body["summary"]
    actions = [(a["name"], a["status"]) for a in body["actions"]]
    assert actions == [("issue_refund", "refused")]
    assert body["case_id"] in body["actions"][0]["detail"]
