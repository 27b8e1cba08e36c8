"""technical-analyst inside the real stage runner on real Kafka: a refund above the limit is escalated."""

import asyncio
import json

import pytest
from supportmesh.v1.envelope_pb2 import Entity, Envelope, OrderFacts
from supportmesh_core import topics
from supportmesh_core.kafka import StageRunner, ensure_topics, new_producer
from technical_analyst.config import Settings
from technical_analyst.handlers import AnalystHandler

pytestmark = pytest.mark.integration


async def test_refund_above_limit_reaches_tickets_escalations(kafka_bootstrap, topic_reader, unique):
    # A private input topic and group, so a running mesh neither steals nor sees this test's message.
    input_topic = f"test.technical-analyst.{unique}"
    settings = Settings(OTEL_SERVICE_NAME=f"technical-analyst-test-{unique}",
                        KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap, DEDUPE_WINDOW_HOURS=0.01)
    await ensure_topics(kafka_bootstrap, [input_topic, *topics.all_topics()], partitions=1)
    marks = await topic_reader.mark(topics.ESCALATIONS)

    env = Envelope()
    env.ticket.ticket_id, env.ticket.conversation_id = f"T-{unique}", f"C-{unique}"
    env.ticket.body = "I want my money back for order #W7000001, 650 dollars."
    env.classification.intent, env.classification.confidence = "get_refund", 0.9
    env.classification.entities.extend([Entity(type="order_id", value="#W7000001"),
                                        Entity(type="amount", value="650")])
    env.retrieval.customer_id, env.retrieval.customer_name = "ada_l_1", "Ada L"
    env.retrieval.orders.append(OrderFacts(order_id="#W7000001", status="delivered", total=650.0,
                                           user_id="ada_l_1", item_names=["Office Chair"]))
    env.routing_slip.append("response-generator")

    runner = StageRunner(settings, AnalystHandler(settings.refund_approval_limit), input_topic=input_topic,
                         partitions=1)
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

    [record] = [r for r in records if topic_reader.header(r, "ticket-id") == env.ticket.ticket_id]
    body = json.loads(record.value)
    assert body["reason"] == "refund_above_limit" and body["escalated_by"] == settings.service_name
    assert "650.00" in body["customer_message"] and "#W7000001" in body["summary"]
    actions = [(a["name"], a["status"]) for a in body["actions"]]
    assert actions == [("return_delivered_order_items", "proposed")]
