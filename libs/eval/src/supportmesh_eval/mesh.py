"""An evaluation's way through the running mesh: publish tickets, collect their outcomes, read commerce's audit.

Shared by scripts/eval_mesh_retail.py, scripts/eval_resolution.py and scripts/analyst_offline_retail.py.
"""

import asyncio
import json
import subprocess
import time

from aiokafka import AIOKafkaConsumer, TopicPartition
from google.protobuf import json_format
from supportmesh.commerce.v1 import commerce_pb2, commerce_pb2_grpc
from supportmesh.v1 import outcomes_pb2
from supportmesh_core import local_tokens, tls, topics
from supportmesh_core.codec import JSON_TYPE, PROTOBUF_TYPE
from supportmesh_core.kafka import new_producer
from supportmesh_core.kafka_security import new_consumer
from supportmesh_core.settings import REPO_ROOT

OPS_TOKEN = local_tokens.mesh_token("ops")   # what deploy/mesh.sh gave the ops caller
REFUND_LIMIT = 500.0   # ANALYST_REFUND_APPROVAL_LIMIT's default: returns above it go to a human
CONFIRMATION = "Yes, please go ahead."


def reset_store() -> None:
    """Reseed commerce with the service stopped, as its README requires."""
    for cmd in (["deploy/mesh.sh", "stop", "commerce"], [".venv/bin/python", "-m", "commerce", "reset"],
                ["deploy/mesh.sh", "start", "commerce"]):
        subprocess.run(cmd, cwd=REPO_ROOT, check=True, stdout=subprocess.DEVNULL)


def _decode(value: bytes, headers: dict[str, bytes], topic: str) -> dict:
    kind = outcomes_pb2.Response if topic == topics.RESPONSES else outcomes_pb2.Escalation
    if headers.get("content-type", b"").decode() == PROTOBUF_TYPE:
        msg = kind()
        msg.ParseFromString(value)
        data = json_format.MessageToDict(msg, preserving_proto_field_name=True)
    else:
        data = json.loads(value)
    data["type"] = "response" if topic == topics.RESPONSES else "escalation"
    return data


async def through_mesh(bootstrap: str, tickets: dict[str, dict], timeout: float,
                       rate: float = 0.0) -> dict[str, dict]:
    """Publish every ticket (id → its JSON without the id; keyed by its conversation id), `rate` per second
    (0: at once), and return the outcomes that arrived within `timeout` seconds, by ticket id, each with its
    `latency_ms` (publish → outcome record)."""
    got: dict[str, dict] = {}
    sent: dict[str, float] = {}
    consumer = new_consumer(bootstrap, isolation_level="read_committed")
    await consumer.start()
    producer = new_producer(bootstrap)
    await producer.start()
    try:
        parts = [TopicPartition(t, p) for t in (topics.RESPONSES, topics.ESCALATIONS)
                 for p in (consumer.partitions_for_topic(t) or await _partitions(consumer, t))]
        consumer.assign(parts)
        for tp, offset in (await consumer.end_offsets(parts)).items():
            consumer.seek(tp, offset)
        started = time.monotonic()
        for n, (tid, ticket) in enumerate(tickets.items()):
            if rate > 0:
                await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
            sent[tid] = time.time() * 1000
            await producer.send(topics.INBOUND, json.dumps({**ticket, "ticket_id": tid}).encode(),
                                key=ticket["conversation_id"].encode(), headers=[("content-type", JSON_TYPE.encode())])
        await producer.flush()
        deadline = time.monotonic() + timeout
        while len(got) < len(tickets) and time.monotonic() < deadline:
            for tp, records in (await consumer.getmany(timeout_ms=300)).items():
                for r in records:
                    headers = {k: v for k, v in (r.headers or ())}
                    tid = headers.get("ticket-id", b"").decode()
                    if tid in got:
                        got[tid]["extra_outcomes"] = got[tid].get("extra_outcomes", 0) + 1
                    elif tid in tickets:
                        got[tid] = _decode(r.value, headers, tp.topic)
                        got[tid]["latency_ms"] = r.timestamp - sent[tid]
    finally:
        await producer.stop()
        await consumer.stop()
    return got


async def _partitions(consumer: AIOKafkaConsumer, topic: str):
    await consumer._client.force_metadata_update()
    found = consumer.partitions_for_topic(topic)
    if not found:
        raise SystemExit(f"topic {topic} does not exist: is the mesh running? (make up)")
    return found


async def audits(addr: str, ticket_ids: list[str]) -> dict[str, list[dict]]:
    """Every audited write attempt per ticket id, from commerce (ops token)."""
    found = {}
    async with tls.local_mesh_channel(addr) as channel:
        stub = commerce_pb2_grpc.CommerceServiceStub(channel)
        for tid in ticket_ids:
            reply = await stub.ListAudit(commerce_pb2.ListAuditRequest(ticket_id=tid, limit=100),
                                         metadata=(("x-service-token", OPS_TOKEN),), timeout=10)
            found[tid] = [{"rpc": e.rpc, "outcome": e.outcome, "order_id": e.order_id, "detail": e.detail}
                          for e in reply.entries]
    return found


def eval_ticket(conversation: str, body: str, scenario: str, source: str = "eval_mesh_retail", **fields) -> dict:
    """An inbound ticket's JSON (without its id) as an evaluation publishes it."""
    return {"conversation_id": conversation, "channel": "eval", "subject": "", "body": body,
            "metadata": {"source": source, "scenario": scenario}, **fields}


def proposes(outcome: dict | None) -> bool:
    """Whether a reply proposes actions and waits for the customer's yes."""
    return bool(outcome and outcome["type"] == "response"
                and any(a.get("status") == "proposed" for a in outcome.get("actions", [])))
