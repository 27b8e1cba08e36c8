"""End to end: a stage killed with SIGKILL mid-stream and restarted loses no ticket and answers none twice."""

import asyncio
import json
import os
import signal
import subprocess
import uuid

import pytest
from supportmesh_core import topics
from supportmesh_core.kafka import new_producer

pytestmark = pytest.mark.e2e

BODIES = [
    "Where is my order #W2378156?",
    "Outlook keeps asking for my password, how do I fix it?",
    "I want a refund for order #W2378156.",
    "How do I delete my account?",
]


@pytest.mark.parametrize("victim", ["retriever", "response-generator"])
async def test_sigkill_and_restart_loses_nothing_and_answers_once(mesh, kafka_bootstrap, topic_reader, victim):
    run = uuid.uuid4().hex[:8]
    ids = [f"T-kill-{run}-{i:03d}" for i in range(120)]
    marks = await topic_reader.mark(topics.RESPONSES, topics.ESCALATIONS)
    pidfile = mesh.parent.parent / ".infra" / "pids" / f"{victim}.pid"
    producer = new_producer(kafka_bootstrap)
    await producer.start()
    try:
        for i, tid in enumerate(ids):
            ticket = {"ticket_id": tid, "conversation_id": f"C-{tid}", "body": BODIES[i % len(BODIES)],
                      "customer": {"email": "yusuf.rossi7301@example.com"}}
            await producer.send(topics.INBOUND, json.dumps(ticket).encode(), key=f"C-{tid}".encode())
            if i == 40:
                await producer.flush()
                await asyncio.sleep(0.3)  # let the victim take some of the stream in hand
                os.kill(int(pidfile.read_text()), signal.SIGKILL)
        await producer.flush()
    finally:
        await producer.stop()
    await asyncio.to_thread(subprocess.run, [str(mesh), "start", victim], check=True, timeout=120)

    def answered(records):
        return {topic_reader.header(r, "ticket-id") for r in records}

    records = await topic_reader.collect(marks, lambda rs: set(ids) <= answered(rs), timeout=120)
    records += await topic_reader.collect(
        {tp: max([r.offset + 1 for r in records if (r.topic, r.partition) == (tp.topic, tp.partition)] or [off])
         for tp, off in marks.items()}, lambda rs: False, timeout=5)
    counts: dict[str, int] = {}
    for r in records:
        tid = topic_reader.header(r, "ticket-id")
        if tid in ids:
            counts[tid] = counts.get(tid, 0) + 1
    lost = [t for t in ids if t not in counts]
    twice = {t: n for t, n in counts.items() if n > 1}
    assert not lost, f"{len(lost)} tickets lost after killing {victim}: {lost[:5]}"
    assert not twice, f"tickets answered more than once after killing {victim}: {twice}"
