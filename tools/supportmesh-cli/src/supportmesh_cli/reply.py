"""`supportmesh reply`: a person answers a ticket from the terminal, optionally approving what its escalation's case
awaits; the record goes to tickets.agent-replies, checked as the mesh will check it."""

import time
import uuid

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError
from supportmesh.v1.agent_reply_pb2 import AgentReply, ApprovedAction
from supportmesh_core import topics
from supportmesh_core.codec import JSON_TYPE, to_json_bytes
from supportmesh_core.handback import CASE_ACTIONS, decode_agent_reply

from .kafka_io import KafkaUnavailable, started_producer, started_reader
from .tail import Unreadable, decode_record, ticket_of

SEARCHED = (topics.ESCALATIONS, topics.RESPONSES)


class UnknownTicket(Exception):
    """No outcome of the ticket was found: there is nothing to reply to."""


class NothingToApprove(Exception):
    """--approve on a ticket whose escalation named no action awaiting a person's approval."""


async def find_outcome(bootstrap: str, ticket_id: str, since_hours: float) -> tuple[str, dict]:
    """The ticket's latest escalation (else its latest answer) of the last `since_hours`: (topic, record)."""
    consumer = await started_reader(bootstrap)
    try:
        await consumer._client.force_metadata_update()   # see tail.follow: the one way to refresh a group-less reader
        parts = [TopicPartition(t, p) for t in SEARCHED for p in sorted(consumer.partitions_for_topic(t) or ())]
        if not parts:
            raise KafkaUnavailable(f"none of {', '.join(SEARCHED)} exist at {bootstrap} yet: is the mesh running?")
        consumer.assign(parts)
        starts = await consumer.offsets_for_times({tp: int((time.time() - since_hours * 3600) * 1000)
                                                   for tp in parts})
        ends = await consumer.end_offsets(parts)
        for tp in parts:
            if starts.get(tp) is None:
                consumer.seek(tp, ends[tp])
            else:
                consumer.seek(tp, starts[tp].offset)
        found: dict[str, tuple[int, dict]] = {}
        while [tp for tp in parts if await consumer.position(tp) < ends[tp]]:
            batch = await consumer.getmany(timeout_ms=500, max_records=2000)
            for records in batch.values():
                for rec in records:
                    header = next((v.decode(errors="replace") for k, v in rec.headers or () if k == "ticket-id"), "")
                    if header and header != ticket_id:
                        continue   # most records: skipped without decoding
                    try:
                        data = decode_record(rec)
                    except Unreadable:
                        continue
                    if ticket_of(rec, data) == ticket_id and rec.timestamp >= found.get(rec.topic, (-1, {}))[0]:
                        found[rec.topic] = (rec.timestamp, data)
    finally:
        await consumer.stop()
    for topic in SEARCHED:
        if topic in found:
            return topic, found[topic][1]
    raise UnknownTicket(f"no escalation or answer of ticket {ticket_id} on {' or '.join(SEARCHED)} in the last "
                        f"{since_hours:g} hours (is the id right? --since-hours looks further back)")


def build_reply(ticket_id: str, topic: str, outcome: dict, text: str, agent_id: str, approve: bool,
                reply_id: str = "") -> AgentReply:
    """The reply record for a ticket whose outcome was found; raises NothingToApprove, or BadMessage as the mesh."""
    reply = AgentReply(reply_id=reply_id or "AR-" + uuid.uuid4().hex[:12], ticket_id=ticket_id,
                       conversation_id=str(outcome.get("conversation_id") or ticket_id), agent_id=agent_id, text=text)
    if approve:
        case_id, reason = str(outcome.get("case_id") or ""), str(outcome.get("reason") or "")
        if topic != topics.ESCALATIONS:
            raise NothingToApprove(f"ticket {ticket_id} was answered, not escalated: there is no case to approve")
        if not case_id or reason not in CASE_ACTIONS:
            raise NothingToApprove(f"ticket {ticket_id}'s escalation ({reason or 'no reason'}, "
                                   f"{'case ' + case_id if case_id else 'no case'}) names no action awaiting "
                                   "approval; send the reply without --approve")
        reply.approved_actions.append(ApprovedAction(case_id=case_id, action=CASE_ACTIONS[reason]))
    # The same checks the compressor makes (it fills sent_at; the record then says when it was sent).
    return decode_agent_reply(to_json_bytes(reply), JSON_TYPE, reply.conversation_id.encode())


async def send_reply(bootstrap: str, reply: AgentReply) -> None:
    """Publish the reply onto tickets.agent-replies keyed by conversation id and wait for the broker's ack."""
    producer = await started_producer(bootstrap)
    try:
        await producer.send_and_wait(
            topics.AGENT_REPLIES, to_json_bytes(reply), key=reply.conversation_id.encode(),
            headers=[("content-type", JSON_TYPE.encode()), ("ticket-id", reply.ticket_id.encode()),
                     ("reply-id", reply.reply_id.encode())])
    except KafkaError as exc:
        raise KafkaUnavailable(f"{topics.AGENT_REPLIES} at {bootstrap} did not take the reply: {exc}") from None
    finally:
        await producer.stop()
