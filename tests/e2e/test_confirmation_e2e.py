"""End to end: a write is proposed, the customer's "yes" executes it once, and a re-sent "yes" never acts twice."""

import gzip
import json
import pathlib
import uuid

import pytest
from supportmesh.commerce.v1 import commerce_pb2, commerce_pb2_grpc
from supportmesh_core import local_tokens, tls, topics
from supportmesh_core.kafka import new_producer
from supportmesh_core.settings import ServiceSettings

pytestmark = pytest.mark.e2e

REPO = pathlib.Path(__file__).resolve().parents[2]
OPS = (("x-service-token", local_tokens.mesh_token("ops")),)   # what deploy/mesh.sh gave ops


def _seed() -> dict:
    with gzip.open(REPO / "data" / "retail" / "db.json.gz", "rt") as f:
        return json.load(f)


async def _returnable(stub) -> tuple[dict, dict, dict]:
    """A seeded customer, one of their orders that is still delivered in the live store (earlier runs return
    items), and an item of it within the refund limit whose product appears once in the order."""
    db = _seed()
    for user_id in sorted(db["users"])[-200:]:
        user = db["users"][user_id]
        for order_id in user["orders"]:
            live = await stub.GetOrder(commerce_pb2.GetOrderRequest(order_id=order_id, customer_id=user_id),
                                       metadata=OPS, timeout=5)
            names = [i.name for i in live.items]
            item = next((i for i in live.items if i.price < 400 and names.count(i.name) == 1
                         and " " in i.name), None)
            if live.status == "delivered" and item is not None:
                return user, {"order_id": order_id, "customer_id": user_id}, {"name": item.name,
                                                                              "item_id": item.item_id}
    pytest.skip("no delivered order left in the store to return from; reseed it (python -m commerce reset)")


async def _publish(producer, ticket_id: str, conversation: str, body: str) -> None:
    ticket = {"ticket_id": ticket_id, "conversation_id": conversation, "channel": "chat", "body": body}
    await producer.send(topics.INBOUND, json.dumps(ticket).encode(), key=conversation.encode(),
                        headers=[("content-type", b"application/json")])
    await producer.flush()


async def _outcome(topic_reader, marks, ticket_id: str) -> dict:
    def arrived(records):
        return any(topic_reader.header(r, "ticket-id") == ticket_id for r in records)

    records = await topic_reader.collect(marks, arrived, timeout=60)
    found = [r for r in records if topic_reader.header(r, "ticket-id") == ticket_id]
    assert found, f"no outcome for {ticket_id}"
    return {**json.loads(found[0].value), "topic": found[0].topic}


async def _audit(stub, ticket_id: str) -> list:
    reply = await stub.ListAudit(commerce_pb2.ListAuditRequest(ticket_id=ticket_id), metadata=OPS, timeout=10)
    return list(reply.entries)


async def test_propose_then_yes_executes_once_and_a_resent_yes_does_not_act_again(mesh, kafka_bootstrap,
                                                                                 topic_reader):
    run = uuid.uuid4().hex[:8]
    conversation = f"C-confirm-{run}"
    commerce = ServiceSettings(OTEL_SERVICE_NAME="e2e-confirmation").commerce_addr
    async with tls.local_mesh_channel(commerce) as channel:
        stub = commerce_pb2_grpc.CommerceServiceStub(channel)
        user, order, item = await _returnable(stub)
        name = f"{user['name']['first_name']} {user['name']['last_name']}"
        producer = new_producer(kafka_bootstrap)
        await producer.start()
        try:
            propose, yes, again = f"T-confirm-{run}-1", f"T-confirm-{run}-2", f"T-confirm-{run}-3"
            marks = await topic_reader.mark(topics.RESPONSES, topics.ESCALATIONS)
            await _publish(producer, propose, conversation,
                           f"Hi. My name is {name} and my email is {user['email']}. I want to return the "
                           f"{item['name']} I received in order {order['order_id']} and get my money back.")
            first = await _outcome(topic_reader, marks, propose)
            assert first["topic"] == topics.RESPONSES, first
            (proposed,) = [a for a in first["actions"] if a["status"] == "proposed"]
            assert proposed["name"] == "return_delivered_order_items" and proposed["idempotency_key"]
            assert item["name"] in proposed["detail"] and '"yes"' in first["reply"]["text"]
            assert await _audit(stub, propose) == []          # nothing written before the customer's yes

            marks = await topic_reader.mark(topics.RESPONSES, topics.ESCALATIONS)
            await _publish(producer, yes, conversation, "Yes, please go ahead.")
            second = await _outcome(topic_reader, marks, yes)
            assert second["topic"] == topics.RESPONSES, second
            assert [(a["name"], a["status"]) for a in second["actions"]] == [
                ("return_delivered_order_items", "done")]
            assert "As you confirmed" in second["reply"]["text"] and item["name"] in second["reply"]["text"]
            entries = await _audit(stub, propose)
            assert [(e.rpc, e.outcome) for e in entries] == [("ReturnDeliveredOrderItems", "done")]
            assert entries[0].idempotency_key == proposed["idempotency_key"]
            assert json.loads(entries[0].request_json)["item_ids"] == [item["item_id"]]

            # The same "yes" delivered again (same ticket id), then a second "yes": the conversation's messages
            # are handled in order, so once the last one is answered the re-sent one has been handled too.
            marks = await topic_reader.mark(topics.RESPONSES, topics.ESCALATIONS)
            await _publish(producer, yes, conversation, "Yes, please go ahead.")
            await _publish(producer, again, conversation, "yes")
            third = await _outcome(topic_reader, marks, again)
            assert third["topic"] == topics.RESPONSES and "already carried out" in third["reply"]["text"]
            assert [(e.rpc, e.outcome) for e in await _audit(stub, propose)] == [
                ("ReturnDeliveredOrderItems", "done")]
            live = await stub.GetOrder(commerce_pb2.GetOrderRequest(order_id=order["order_id"],
                                                                    customer_id=order["customer_id"]),
                                       metadata=OPS, timeout=5)
            assert live.status == "return requested" and list(live.return_item_ids) == [item["item_id"]]
        finally:
            await producer.stop()
