"""`supportmesh trace` against the real Elasticsearch: a ticket's hops, its gRPC server hops, --json, not found."""

import io
import json

import pytest
from elasticsearch import AsyncElasticsearch
from hop_indexer.domain.template import index_template
from supportmesh_cli.main import run_async

pytestmark = pytest.mark.integration

T0 = "2026-11-21T10:00:00.{:09d}Z"


def hop(span, parent, service, action, start_ms, took_ms, *, ticket="", kind="consumer", outcome="success",
        **extra):
    start_ns = start_ms * 1_000_000
    doc = {"@timestamp": "2026-11-21T10:00:00.000Z", "trace": {"id": TRACE}, "span": {"id": span, "kind": kind},
           "service": {"name": service},
           "event": {"action": action, "outcome": outcome, "duration": took_ms * 1_000_000,
                     "start": T0.format(start_ns)}}
    if parent:
        doc["parent"] = {"id": parent}
    if ticket:
        doc["ticket"] = {"id": ticket}
    doc.update(extra)
    return doc


TRACE = "0af7651916cd43dd8448eb211c80319c"


@pytest.fixture
async def trace_index(es_url, unique):
    es = AsyncElasticsearch(es_url)
    index = f"supportmesh-hops-it-cli-{unique}-2026.11.21"
    body = index_template("unused")["template"]
    await es.indices.create(index=index, settings=body["settings"], mappings=body["mappings"])
    ticket = f"T-cli-{unique}"
    docs = [
        hop("a" * 16, "", "intent-classifier", "intent-classifier", 0, 3, ticket=ticket, intent="track_order",
            confidence=0.91),
        hop("b" * 16, "a" * 16, "retriever", "retriever", 5, 40, ticket=ticket, fault={"latency_ms": "30",
                                                                                           "injected": True}),
        hop("c" * 16, "b" * 16, "retriever", "call GetOrder", 10, 20, ticket=ticket, kind="client"),
        hop("d" * 16, "c" * 16, "commerce", "GetOrder", 12, 15, kind="server"),  # servers know no ticket
        hop("e" * 16, "b" * 16, "response-generator", "response-generator", 50, 4, ticket=ticket,
            outcome="failure", error={"message": "TimeoutError: model"},
            escalation={"reason": "stage_failed"}, destination="tickets.escalations"),
    ]
    for doc in docs:
        await es.index(index=index, id=doc["span"]["id"], document=doc)
    await es.indices.refresh(index=index)
    yield index, ticket
    await es.indices.delete(index=index, ignore_unavailable=True)
    await es.close()


async def test_trace_by_ticket_prints_the_waterfall_with_server_hops(es_url, trace_index):
    index, ticket = trace_index
    out = io.StringIO()
    assert await run_async(["trace", ticket, "--es", es_url, "--index", index], out=out) == 0
    text = out.getvalue()
    lines = text.splitlines()
    assert ticket in lines[0] and TRACE in lines[0] and "5 hops" in lines[0]
    body = lines[2:]
    assert [line.split()[0] for line in body] == ["intent-classifier", "retriever", "retriever", "commerce",
                                                  "response-generator"]
    assert body[3].startswith("      commerce GetOrder")  # depth 3: classifier → retriever → call → server
    assert "fault latency_ms=30" in body[1] and "error: TimeoutError: model" in body[4]
    assert "escalated: stage_failed" in body[4] and body[4].split()[-1] != "success"


async def test_trace_json_by_trace_id(es_url, trace_index):
    index, ticket = trace_index
    out = io.StringIO()
    assert await run_async(["trace", TRACE, "--json", "--es", es_url, "--index", index], out=out) == 0
    data = json.loads(out.getvalue())
    assert data["ticket_ids"] == [ticket] and data["trace_ids"] == [TRACE] and data["hop_count"] == 5
    first, _, call, server, last = data["hops"]
    assert (first["offset_ms"], first["duration_ms"], first["intent"]) == (0.0, 3.0, "track_order")
    assert (call["stage"], call["kind"], call["parent_id"]) == ("call GetOrder", "client", "b" * 16)
    assert (server["service"], server["offset_ms"], server["depth"]) == ("commerce", 12.0, 3)
    assert last["outcome"] == "failure" and last["escalation_reason"] == "stage_failed"
    assert data["hops"][1]["fault"] == {"latency_ms": "30"}


async def test_unknown_id_and_unreachable_es_fail_clearly(es_url, trace_index, capsys):
    index, _ = trace_index
    assert await run_async(["trace", "T-no-such-ticket", "--es", es_url, "--index", index], out=io.StringIO()) == 1
    assert "no hops found for 'T-no-such-ticket'" in capsys.readouterr().err
    assert await run_async(["trace", "T-x", "--es", "http://127.0.0.1:1"], out=io.StringIO()) == 2
    assert "cannot reach Elasticsearch" in capsys.readouterr().err
