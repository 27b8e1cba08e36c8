"""End to end: a refund above the limit escalates with a case, a person's approval comes back through
tickets.agent-replies (`supportmesh reply --approve`'s library calls), commerce makes the refund exactly once (its
audit and the order's payments), a repeated approval makes nothing more, the customer's next turn is told the
refund, and a reply for a ticket nobody knows is dead-lettered with the reason."""

import gzip
import json
import pathlib
import uuid

import pytest
from supportmesh.commerce.v1 import commerce_pb2, commerce_pb2_grpc
from supportmesh_cli.reply import build_reply, find_outcome, send_reply
from supportmesh_core import local_tokens, tls, topics
from supportmesh_core.kafka import new_producer
from supportmesh_core.settings import ServiceSettings

pytestmark = pytest.mark.e2e

REPO = pathlib.Path(__file__).resolve().parents[2]
OPS = (("x-service-token", local_tokens.mesh_token("ops")),)   # what deploy/mesh.sh gave ops
AMOUNT = 612.34   # above the $500 limit, below what each candidate order was paid


async def _refundable(stub) -> tuple[dict, str, str]:
    """A seeded customer and a delivered order of theirs, paid once with more than AMOUNT and not refunded yet
    in the live store (earlier runs refund some), and its payment method."""
    with gzip.open(REPO / "data" / "retail" / "db.json.gz", "rt") as f:
        users = json.load(f)["users"]
    for user_id in sorted(users)[100:300]:   # the confirmation test takes its customers from the end
        for order_id in users[user_id]["orders"]:
            live = await stub.GetOrder(commerce_pb2.GetOrderRequest(order_id=order_id, customer_id=user_id),
                                       metadata=OPS, timeout=5)
            payments = list(live.payment_history)
            if live.status == "delivered" and len(payments) == 1 and payments[0].amount > AMOUNT + 100:
                return users[user_id], order_id, payments[0].payment_method_id
    pytest.skip("no delivered, unrefunded order above the limit left; reseed the store (python -m commerce reset)")


async def _publish(producer, ticket_id: str, conversation: str, body: str, email: str) -> None:
    ticket = {"ticket_id": ticket_id, "conversation_id": conversation, "channel": "chat", "body": body,
              "customer": {"email": email}}
    await producer.send_and_wait(topics.INBOUND, json.dumps(ticket).encode(), key=conversation.encode(),
                                 headers=[("content-type", b"application/json")])


async def _outcome(topic_reader, marks, ticket_id: str) -> dict:
    def arrived(records):
        return any(topic_reader.header(r, "ticket-id") == ticket_id for r in records)

    records = await topic_reader.collect(marks, arrived, timeout=60)
    found = [r for r in records if topic_reader.header(r, "ticket-id") == ticket_id]
    assert found, f"no outcome for {ticket_id}"
    return {**json.loads(found[0].value), "topic": found[0].topic}


async def _approval_audit(stub, ticket_id: str) -> list[tuple[str, str]]:
    reply = await stub.ListAudit(commerce_pb2.ListAuditRequest(ticket_id=ticket_id), metadata=OPS, timeout=10)
    return [(e.rpc, e.outcome) for e in reply.entries]


async def _refunds(stub, order_id: str, customer_id: str) -> list[tuple[float, str]]:
    live = await stub.GetOrder(commerce_pb2.GetOrderRequest(order_id=order_id, customer_id=customer_id),
                               metadata=OPS, timeout=5)
    return [(round(p.amount, 2), p.payment_method_id) for p in live.payment_history if p.transaction_type == "refund"]


async def test_an_approved_refund_is_made_once_and_the_next_turn_is_told(mesh, kafka_bootstrap, topic_reader):
    run = uuid.uuid4().hex[:8]
    conversation, ticket, follow_up = f"C-handback-{run}", f"T-handback-{run}-1", f"T-handback-{run}-2"
    commerce = ServiceSettings(OTEL_SERVICE_NAME="e2e-handback").commerce_addr
    async with tls.local_mesh_channel(commerce) as channel:
        stub = commerce_pb2_grpc.CommerceServiceStub(channel)
        user, order_id, method = await _refundable(stub)
        producer = new_producer(kafka_bootstrap)
        await producer.start()
        try:
            marks = await topic_reader.mark(topics.RESPONSES, topics.ESCALATIONS)
            await _publish(producer, ticket, conversation, f"Hi, the items of order {order_id} arrived broken. "
                           f"Please refund me ${AMOUNT:.2f} for them.", user["email"])
            escalation = await _outcome(topic_reader, marks, ticket)
            assert (escalation["topic"], escalation["reason"]) == (topics.ESCALATIONS, "refund_above_limit")
            case_id = escalation["case_id"]
            assert case_id.startswith("CASE-")
            assert await _approval_audit(stub, ticket) == [("IssueRefund", "pending_approval")]
            assert await _refunds(stub, order_id, user["user_id"]) == []

            # The person at the desk: what `supportmesh reply <ticket> --text ... --approve` does.
            found_topic, found = await find_outcome(kafka_bootstrap, ticket, since_hours=1)
            assert (found_topic, found["case_id"]) == (topics.ESCALATIONS, case_id)
            text = "I have approved your refund; sorry about the broken items."
            approval = build_reply(ticket, found_topic, found, text, "agent:e2e", approve=True)
            assert [(a.case_id, a.action) for a in approval.approved_actions] == [(case_id, "issue_refund")]
            marks = await topic_reader.mark(topics.RESPONSES, topics.ESCALATIONS, topics.DLQ)
            await send_reply(kafka_bootstrap, approval)
            answer = await _outcome(topic_reader, marks, approval.reply_id)
            assert answer["topic"] == topics.RESPONSES, answer
            assert (answer["in_reply_to"], answer["agent_id"], answer["conversation_id"]) == (
                ticket, "agent:e2e", conversation)
            assert answer["reply"]["text"].startswith(text) and f"${AMOUNT:.2f}" in answer["reply"]["text"]
            assert [(a["name"], a["status"]) for a in answer["actions"]] == [("issue_refund", "done")]
            assert await _approval_audit(stub, ticket) == [("IssueRefund", "pending_approval"),
                                                           ("ApproveCase", "done")]
            assert await _refunds(stub, order_id, user["user_id"]) == [(AMOUNT, method)]
            case = await stub.GetCase(commerce_pb2.GetCaseRequest(case_id=case_id), metadata=OPS, timeout=5)
            assert (case.status, case.approved_by) == ("closed", "agent:e2e")

            # The same record delivered again, and a second approval of the same case by a new reply.
            marks = await topic_reader.mark(topics.RESPONSES, topics.ESCALATIONS)
            await send_reply(kafka_bootstrap, approval)
            again = build_reply(ticket, found_topic, found, "Approved (again).", "agent:e2e", approve=True)
            await send_reply(kafka_bootstrap, again)
            second = await _outcome(topic_reader, marks, again.reply_id)
            assert [(a["name"], a["status"]) for a in second["actions"]] == [("issue_refund", "done")]
            assert await _approval_audit(stub, ticket) == [("IssueRefund", "pending_approval"),
                                                           ("ApproveCase", "done")]
            assert await _refunds(stub, order_id, user["user_id"]) == [(AMOUNT, method)]

            # The customer's next message in the conversation sees the refund in the order's payment history.
            await _publish(producer, follow_up, conversation, f"Has my refund for order {order_id} gone through?",
                           user["email"])
            told = await _outcome(topic_reader, marks, follow_up)
            assert told["topic"] == topics.RESPONSES, told
            assert "refund" in told["reply"]["text"].lower() and f"{AMOUNT:.2f}" in told["reply"]["text"], told
            records = await topic_reader.collect(marks, lambda _: False, timeout=1)
            copies = [r for r in records if topic_reader.header(r, "ticket-id") == approval.reply_id]
            assert copies == [], "the redelivered reply was answered twice"
        finally:
            await producer.stop()


async def test_a_reply_for_an_unknown_ticket_is_dead_lettered_with_the_reason(mesh, kafka_bootstrap, topic_reader):
    run = uuid.uuid4().hex[:8]
    reply = {"ticket_id": f"T-nobody-{run}", "conversation_id": f"C-nobody-{run}", "agent_id": "agent:e2e",
             "text": "Hello?"}
    marks = await topic_reader.mark(topics.DLQ, topics.RESPONSES)
    producer = new_producer(kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topics.AGENT_REPLIES, json.dumps(reply).encode(),
                                     key=reply["conversation_id"].encode(),
                                     headers=[("content-type", b"application/json")])
    finally:
        await producer.stop()

    def dead(records):
        return [r for r in records if r.topic == topics.DLQ and reply["ticket_id"] in json.loads(r.value)["error"]]

    records = await topic_reader.collect(marks, dead, timeout=60)
    (record,) = dead(records)
    letter = json.loads(record.value)
    assert letter["service"] == "context-compressor" and letter["source"]["topic"] == topics.AGENT_REPLIES
    assert f"unknown ticket {reply['ticket_id']}" in letter["error"]
    assert not [r for r in records if r.topic == topics.RESPONSES and reply["ticket_id"] in r.value.decode()]
