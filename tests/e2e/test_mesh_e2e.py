"""End to end: tickets published on tickets.inbound reach exactly one outcome with hops in Elasticsearch."""

import asyncio
import json
import re
import uuid

import pytest
from elasticsearch import AsyncElasticsearch
from google.protobuf import json_format
from supportmesh.v1.ticket_pb2 import Ticket
from supportmesh_core import topics
from supportmesh_core.kafka import new_producer

pytestmark = pytest.mark.e2e

YUSUF = {"email": "yusuf.rossi7301@example.com", "name": "Yusuf Rossi", "zip": "19122"}

# Twenty varied tickets: order lookups on the seeded store, actions, refunds, technical questions,
# account and informational requests, chit-chat and a question we cannot help with.
TICKETS = [
    ("Where is my order?", "Hi, where is my order #W2378156? It was due yesterday.", YUSUF),
    ("Tracking", "Can you give me the tracking number for order #W2378156 please", YUSUF),
    ("Cancel", "I want to cancel order #W2378156, I changed my mind.", YUSUF),
    ("Refund", "I would like a refund for my order #W2378156.", YUSUF),
    ("Return", "How do I return the keyboard from order #W2378156?", YUSUF),
    ("Delivery time", "How long does delivery usually take to reach Philadelphia?", YUSUF),
    ("Address", "I need to change the shipping address on my order #W2378156", YUSUF),
    ("Payment", "Which payment methods do you accept?", YUSUF),
    ("Invoice", "Where can I download the invoice for my last purchase?", YUSUF),
    ("Outlook", "Outlook keeps asking for my password every few minutes, how do I fix it?", YUSUF),
    ("Teams", "Teams meetings won't load, I get error 0x8004de80 when signing in.", YUSUF),
    ("Sign-in", "Sign-in fails with AADSTS50076 when I open SharePoint from home.", YUSUF),
    ("Mailbox", "My Exchange Online mailbox is full and I cannot send email anymore.", YUSUF),
    ("Account", "How do I delete my account?", YUSUF),
    ("Password", "I forgot my password and can't log in to my account", YUSUF),
    ("Newsletter", "Please unsubscribe me from the newsletter.", YUSUF),
    ("Cancellation fee", "Is there a fee if I cancel my order?", YUSUF),
    ("Refund status", "I returned an item two weeks ago, when will I get my money back?", YUSUF),
    ("Hello", "Hello! Just wanted to say thanks, the order #W2378156 status page is handy.", YUSUF),
    ("Weather", "What's the weather going to be like in Rome tomorrow?", YUSUF),
]

BAD = [
    (b"\x8f\xff not a ticket \x00\x01", "neither JSON nor a protobuf Ticket"),
    (json.dumps({"subject": "no body"}).encode(), "body is empty"),
    (json.dumps({"body": "x" * (64 * 1024 + 10)}).encode(), "byte limit"),
    (b'{"body": "caf\xe9 au lait"}', "invalid UTF-8"),
    (json.dumps({"body": ["not", "a", "string"]}).encode(), "wrong type"),
]


async def test_tickets_get_one_outcome_and_hops_from_five_services(mesh, kafka_bootstrap, es_url, topic_reader):
    run = uuid.uuid4().hex[:8]
    marks = await topic_reader.mark(topics.RESPONSES, topics.ESCALATIONS, topics.DLQ)
    ids = [f"T-e2e-{run}-{i:02d}" for i in range(len(TICKETS))]
    bad_keys = [f"bad-{run}-{i}" for i in range(len(BAD))]
    producer = new_producer(kafka_bootstrap)
    await producer.start()
    try:
        for i, (tid, (subject, body, customer)) in enumerate(zip(ids, TICKETS, strict=True)):
            ticket = {"ticket_id": tid, "conversation_id": f"C-{tid}", "channel": "email",
                      "customer": customer, "subject": subject, "body": body, "locale": "en"}
            if i % 5 == 1:  # some producers speak protobuf: with the header, or sniffed without it
                raw = json_format.ParseDict(ticket, Ticket()).SerializeToString()
                headers = [("content-type", b"application/x-protobuf")] if i % 10 == 1 else []
            else:
                raw, headers = json.dumps(ticket).encode(), [("content-type", b"application/json")]
            await producer.send(topics.INBOUND, raw, key=f"C-{tid}".encode(), headers=headers)
        for key, (raw, _) in zip(bad_keys, BAD, strict=True):
            await producer.send(topics.INBOUND, raw, key=key.encode())
        await producer.flush()
    finally:
        await producer.stop()

    def outcome_ids(records):
        return {topic_reader.header(r, "ticket-id") for r in records if r.topic != topics.DLQ}

    def dlq_keys(records):
        return {json.loads(r.value)["source"]["key"] for r in records if r.topic == topics.DLQ}

    records = await topic_reader.collect(
        marks, lambda rs: set(ids) <= outcome_ids(rs) and set(bad_keys) <= dlq_keys(rs), timeout=120)
    # Keep listening a little longer: a second answer to any ticket would show up here.
    records += await topic_reader.collect(
        {tp: max([r.offset + 1 for r in records if (r.topic, r.partition) == (tp.topic, tp.partition)] or [off])
         for tp, off in marks.items()}, lambda rs: False, timeout=5)

    outcomes = {}
    for r in records:
        tid = topic_reader.header(r, "ticket-id")
        if r.topic != topics.DLQ and tid in ids:
            outcomes.setdefault(tid, []).append((r.topic, json.loads(r.value)))
    missing = [t for t in ids if t not in outcomes]
    assert not missing, f"tickets without an outcome: {missing}"
    twice = {t: [o[0] for o in v] for t, v in outcomes.items() if len(v) != 1}
    assert not twice, f"tickets with more than one outcome: {twice}"

    for tid in ids:
        ((topic, body),) = outcomes[tid]
        assert body["ticket_id"] == tid and len(body["trace_id"]) == 32
        if topic == topics.RESPONSES:
            assert body["reply"]["text"] and not re.search(r"\{\{|\{[a-z_]+\}", body["reply"]["text"])
        else:
            assert body["reason"] and body["summary"]

    dead = {json.loads(r.value)["source"]["key"]: json.loads(r.value) for r in records if r.topic == topics.DLQ}
    for key, (_, reason) in zip(bad_keys, BAD, strict=True):
        assert reason in dead[key]["error"], dead[key]
        assert dead[key]["source"]["topic"] == topics.INBOUND and dead[key]["original_base64"]

    track = outcomes[ids[0]][0][1]
    assert track["intent"] == "track_order"
    assert "#W2378156" in track["reply"]["text"]

    es = AsyncElasticsearch(es_url)
    try:
        traces = {tid: outcomes[tid][0][1]["trace_id"] for tid in ids}
        services: dict[str, set[str]] = {}
        for _ in range(60):
            await es.indices.refresh(index="supportmesh-hops-*")
            for tid, trace_id in traces.items():
                res = await es.search(index="supportmesh-hops-*", size=0, query={"term": {"trace.id": trace_id}},
                                      aggs={"s": {"terms": {"field": "service.name", "size": 20}}})
                services[tid] = {b["key"] for b in res["aggregations"]["s"]["buckets"]}
            answered = [t for t in ids if outcomes[t][0][0] == topics.RESPONSES]
            if all(len(services[t]) >= 5 for t in answered):
                break
            await asyncio.sleep(1)
        short = {t: sorted(services[t]) for t in answered if len(services[t]) < 5}
        assert not short, f"answered tickets whose trace has hops from fewer than 5 services: {short}"
        assert len(answered) >= 15, f"only {len(answered)} of 20 answered: {[outcomes[t][0][1] for t in ids]}"
        hit = await es.search(index="supportmesh-hops-*", query={"term": {"ticket.id": ids[0]}}, size=50)
        doc = hit["hits"]["hits"][0]["_source"]
        for field in ("@timestamp", "trace.id", "span.id", "service.name", "event.action", "event.duration",
                      "event.outcome"):
            assert field in doc or _dotted(doc, field) is not None, field
    finally:
        await es.close()


def _dotted(doc: dict, path: str):
    for part in path.split("."):
        if not isinstance(doc, dict) or part not in doc:
            return None
        doc = doc[part]
    return doc
