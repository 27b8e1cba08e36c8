"""response-generator inside the real stage runner on real Kafka: an envelope in, one JSON answer out."""

import asyncio
import json

import pytest
from response_generator.config import Settings
from response_generator.handlers import GeneratorHandler
from supportmesh.v1.envelope_pb2 import Envelope, OrderFacts
from supportmesh_core import topics
from supportmesh_core.kafka import StageRunner, ensure_topics, new_producer

pytestmark = pytest.mark.integration


async def test_envelope_is_answered_once_on_tickets_responses(kafka_bootstrap, topic_reader, unique):
    # A private input topic and group, so a running mesh neither steals nor sees this test's message.
    input_topic = f"test.response-generator.{unique}"
    settings = Settings(OTEL_SERVICE_NAME=f"response-generator-test-{unique}",
                        KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap, DEDUPE_WINDOW_HOURS=0.01,
                        KAFKA_TOPIC_PARTITIONS=1)
    await ensure_topics(kafka_bootstrap, [input_topic, *topics.all_topics()], partitions=1)
    marks = await topic_reader.mark(topics.RESPONSES, topics.ESCALATIONS)

    env = Envelope()
    env.ticket.ticket_id, env.ticket.conversation_id = f"T-{unique}", f"C-{unique}"
    env.ticket.body = "Where is order #W2378156?"
    env.classification.intent, env.classification.confidence = "track_order", 0.93
    env.retrieval.customer_id, env.retrieval.customer_name = "yusuf_rossi_9620", "Yusuf Rossi"
    env.retrieval.orders.append(OrderFacts(order_id="#W2378156", status="delivered",
                                           tracking_ids=["843053632392"], item_names=["Office Chair"]))

    runner = StageRunner(settings, GeneratorHandler(settings.min_confidence, settings.max_steps),
                         input_topic=input_topic)
    await runner.start()
    task = asyncio.create_task(runner.run())
    producer = new_producer(kafka_bootstrap)
    await producer.start()
    try:
        key = env.ticket.conversation_id.encode()
        for _ in range(2):  # a redelivered envelope must still give one answer
            await producer.send_and_wait(input_topic, env.SerializeToString(), key=key)

        def ours(records):
            return [r for r in records if topic_reader.header(r, "ticket-id") == env.ticket.ticket_id]

        await topic_reader.collect(marks, lambda rs: len(ours(rs)) >= 1, timeout=60)
        # Read everything since the marks again a little later, so a duplicate answer would be seen.
        await asyncio.sleep(2)
        records = await topic_reader.collect(marks, lambda rs: False, timeout=3)
    finally:
        runner.stop()
        await task
        await runner.close()
        await producer.stop()

    mine = ours(records)
    assert len(mine) == 1, [r.topic for r in mine]
    [record] = mine
    assert record.topic == topics.RESPONSES
    body = json.loads(record.value)
    assert body["engine"] == "local" and body["intent"] == "track_order"
    assert "843053632392" in body["reply"]["text"] and "delivered" in body["reply"]["text"]
    assert body["reply"]["citations"] == ["order:#W2378156"]
