"""The CLI against the real Kafka: a published ticket lands on tickets.inbound; tail prints what arrives."""

import asyncio
import io
import json
import signal
import sys

import pytest
from supportmesh.v1.outcomes_pb2 import Reply, Response
from supportmesh_cli.main import run_async
from supportmesh_core import topics
from supportmesh_core.codec import to_json_bytes
from supportmesh_core.kafka import ensure_topics, new_producer

pytestmark = pytest.mark.integration


async def test_publish_puts_the_ticket_on_inbound_keyed_by_conversation(
        kafka_bootstrap, unique, topic_reader):
    await ensure_topics(kafka_bootstrap, topics.all_topics())
    marks = await topic_reader.mark(topics.INBOUND)
    ticket_id = f"T-cli-{unique}"
    out = io.StringIO()
    code = await run_async(["publish", "--bootstrap", kafka_bootstrap, "--ticket-id", ticket_id,
                            "--conversation-id", f"C-{unique}", "--body", "Where is my order #W2378156?",
                            "--email", "yusuf.rossi7301@example.com", "--zip", "19122"], out=out)
    assert code == 0
    assert out.getvalue() == f"{ticket_id}\n"

    def mine(records):
        return [r for r in records if topic_reader.header(r, "ticket-id") == ticket_id]

    found = mine(await topic_reader.collect(marks, lambda rs: bool(mine(rs)), timeout=15))
    assert len(found) == 1
    record = found[0]
    assert record.key == f"C-{unique}".encode()
    assert topic_reader.header(record, "content-type") == "application/json"
    ticket = json.loads(record.value)
    assert ticket["ticket_id"] == ticket_id and ticket["conversation_id"] == f"C-{unique}"
    assert ticket["body"] == "Where is my order #W2378156?"
    assert ticket["customer"]["email"] == "yusuf.rossi7301@example.com" and ticket["channel"] == "cli"


async def test_publish_json_prints_the_ticket_sent_and_where_it_landed(kafka_bootstrap, unique, topic_reader):
    await ensure_topics(kafka_bootstrap, topics.all_topics())
    marks = await topic_reader.mark(topics.INBOUND)
    out = io.StringIO()
    code = await run_async(["publish", "--json", "--bootstrap", kafka_bootstrap, "--body", "Is my refund done?",
                            "--name", "Yusuf Rossi", "--zip", "19122", "--meta", "team=test"], out=out)
    assert code == 0
    sent = json.loads(out.getvalue())
    ticket = sent["ticket"]
    assert ticket["ticket_id"].startswith("T-") and ticket["conversation_id"] == ticket["ticket_id"]
    assert (ticket["customer"]["name"], ticket["customer"]["zip"]) == ("Yusuf Rossi", "19122")
    assert ticket["metadata"]["team"] == "test"

    def mine(records):
        return [r for r in records if topic_reader.header(r, "ticket-id") == ticket["ticket_id"]]

    found = mine(await topic_reader.collect(marks, lambda rs: bool(mine(rs)), timeout=15))
    assert [(r.topic, r.partition, r.offset) for r in found] == [(sent["topic"], sent["partition"], sent["offset"])]
    assert json.loads(found[0].value) == ticket


async def test_tail_json_prints_a_response_produced_after_it_started(kafka_bootstrap, unique):
    await ensure_topics(kafka_bootstrap, topics.all_topics())
    ticket_id = f"T-tail-{unique}"
    ready = asyncio.Event()
    out = io.StringIO()
    tail = asyncio.create_task(run_async(["tail", "--json", "--timeout", "2", "--bootstrap", kafka_bootstrap],
                                         out=out, on_ready=ready.set))
    await asyncio.wait_for(ready.wait(), 15)
    response = Response(ticket_id=ticket_id, conversation_id=ticket_id, intent="track_order", confidence=0.9,
                        reply=Reply(text=f"answer for {ticket_id}"), latency_ms=12)
    producer = new_producer(kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topics.RESPONSES, to_json_bytes(response), key=ticket_id.encode(),
                                     headers=[("content-type", b"application/json")])
    finally:
        await producer.stop()
    assert await asyncio.wait_for(tail, 30) == 0
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    ours = [line for line in lines if line.get("ticket_id") == ticket_id]
    assert len(ours) == 1
    assert ours[0]["topic"] == topics.RESPONSES
    assert ours[0]["reply"]["text"] == f"answer for {ticket_id}"


async def test_ctrl_c_stops_tail_with_exit_code_0(kafka_bootstrap):
    await ensure_topics(kafka_bootstrap, topics.all_topics())
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "supportmesh_cli", "tail", "--bootstrap", kafka_bootstrap,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        banner = await asyncio.wait_for(proc.stderr.readline(), 20)
        assert b"Ctrl-C stops" in banner
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
        assert b"Traceback" not in await proc.stderr.read()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
