"""Kibana saved objects: generated file is current, references resolve, fields exist, searches find their hops.

Kibana itself does not run on this machine, so each saved search's KQL is translated to the Elasticsearch
query DSL (the subset the generator uses: `field : value`, `field : *`, `field >= n`, `and`, `or`) and run
against real hop documents, built by the hop-indexer's own mapping code, in an index with the real template.
"""

import importlib.util
import json
import pathlib
import re
import time

import pytest
from elasticsearch import AsyncElasticsearch
from hop_indexer.domain.documents import hop_to_document
from hop_indexer.domain.template import index_template
from supportmesh.v1.hop_pb2 import HopRecord

pytestmark = pytest.mark.integration

REPO = pathlib.Path(__file__).resolve().parents[2]
NDJSON = REPO / "deploy" / "kibana" / "saved_objects.ndjson"
TEMPLATE = index_template("supportmesh-hops-*")["template"]["mappings"]


def load_generator():
    spec = importlib.util.spec_from_file_location("kibana_generate", REPO / "deploy" / "kibana" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def objects() -> list[dict]:
    return [json.loads(line) for line in NDJSON.read_text().splitlines() if line.strip()]


def mapped_type(field: str) -> str | None:
    """The type the template gives `field` (explicitly, as a multi-field, or by a dynamic template)."""
    node: dict = {"properties": TEMPLATE["properties"]}
    parts = field.split(".")
    for i, part in enumerate(parts):
        props = node.get("properties", {})
        if part in props:
            node = props[part]
            continue
        if part in node.get("fields", {}) and i == len(parts) - 1:
            return node["fields"][part]["type"]
        for rule in TEMPLATE["dynamic_templates"]:
            (spec,) = rule.values()
            pattern = spec.get("path_match", "")
            if pattern and re.fullmatch(pattern.replace(".", r"\.").replace("*", r"[^.]+"), field):
                return spec["mapping"]["type"]
        return None
    return node.get("type")


def kql_to_dsl(kql: str) -> dict:
    """Translate the KQL the saved objects use into an ES query; anything else fails the test loudly."""
    ors = [part.strip() for part in re.split(r"\s+or\s+", kql.strip())]
    if len(ors) > 1:
        return {"bool": {"should": [kql_to_dsl(p) for p in ors], "minimum_should_match": 1}}
    ands = [part.strip() for part in re.split(r"\s+and\s+", kql)]
    if len(ands) > 1:
        return {"bool": {"filter": [kql_to_dsl(p) for p in ands]}}
    match = re.fullmatch(r"([\w.@]+)\s*(:|>=|<=|>|<)\s*(.+)", kql.strip())
    assert match, f"KQL the test cannot translate: {kql!r}"
    field, op, raw = match.groups()
    ftype = mapped_type(field)
    assert ftype, f"{field} is not in the template mapping"
    if op != ":":
        return {"range": {field: {{">=": "gte", "<=": "lte", ">": "gt", "<": "lt"}[op]: float(raw)}}}
    if raw == "*":
        return {"exists": {"field": field}}
    value = json.loads(raw) if raw.startswith('"') else raw
    if ftype == "boolean":
        return {"term": {field: value == "true"}}
    if ftype == "text":
        return {"match_phrase": {field: value}}
    return {"term": {field: value}}


def fields_used(obj: dict) -> set[str]:
    attrs = obj["attributes"]
    fields = set(attrs.get("columns", [])) | {s[0] for s in attrs.get("sort", [])}
    if "timeFieldName" in attrs:
        fields.add(attrs["timeFieldName"])
    if "visState" in attrs:
        for agg in json.loads(attrs["visState"])["aggs"]:
            if "field" in agg["params"]:
                fields.add(agg["params"]["field"])
    source = attrs.get("kibanaSavedObjectMeta", {}).get("searchSourceJSON")
    if source:
        query = json.loads(source)["query"]["query"]
        fields |= set(re.findall(r"([\w.@]+)\s*(?::|>=|<=|>|<)", query))
    return fields


def test_the_committed_file_is_what_the_generator_writes():
    assert NDJSON.read_text() == load_generator().render(), "run: python deploy/kibana/generate.py"


def test_objects_are_complete_and_every_reference_resolves():
    objs = objects()
    ids = {(o["type"], o["id"]) for o in objs}
    assert len(ids) == len(objs), "duplicate saved object ids"
    types = [o["type"] for o in objs]
    assert types.count("index-pattern") == 1 and types.count("dashboard") == 1
    (view,) = [o for o in objs if o["type"] == "index-pattern"]
    assert view["attributes"] == {**view["attributes"], "title": "supportmesh-hops-*", "timeFieldName": "@timestamp"}
    titles = {o["attributes"]["title"] for o in objs if o["type"] == "search"}
    assert titles == {"Trace by ticket id", "Trace by trace id", "Failed hops", "Slow hops",
                      "Escalations by reason", "Injected faults", "Dead-lettered tickets"}
    for obj in objs:
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in ids, f"{obj['id']} refers to missing {ref}"
        names = {r["name"] for r in obj["references"]}
        attrs = obj["attributes"]
        source = attrs.get("kibanaSavedObjectMeta", {}).get("searchSourceJSON")
        if source and "indexRefName" in json.loads(source):
            assert json.loads(source)["indexRefName"] in names
        if obj["type"] == "dashboard":
            panels = json.loads(attrs["panelsJSON"])
            assert {p["panelRefName"] for p in panels} == names
    (board,) = [o for o in objs if o["type"] == "dashboard"]
    vis_titles = {o["attributes"]["title"] for o in objs if o["type"] == "visualization"}
    for wanted in ("Hops per second per service", "p50 / p95 hop duration per service (ns)",
                   "Error rate: share of hops by outcome", "Escalation rate: share of outcomes",
                   "Dead letters per second per service"):
        assert wanted in vis_titles
    assert len(json.loads(board["attributes"]["panelsJSON"])) == len(vis_titles) + 3


def test_every_field_used_exists_in_the_template_mapping():
    for obj in objects():
        for field in fields_used(obj):
            assert mapped_type(field), f"{obj['type']} {obj['id']} uses {field}, which the template does not map"
    # The check itself must be able to fail.
    assert mapped_type("no.such.field") is None and mapped_type("fault.latency_ms") == "keyword"


def seed_hops(run: str) -> dict[str, HopRecord]:
    now = time.time_ns()
    base = {"start_unix_nanos": now, "trace_id": f"{run}".ljust(32, "0"), "outcome": "success",
            "duration_ns": 2_000_000, "ticket_id": f"T-{run}-a", "span_kind": "consumer"}
    return {
        "ok": HopRecord(**base, span_id="1" * 16, service="retriever", action="retriever",
                        destination="stage.response-generator"),
        "failed": HopRecord(**{**base, "outcome": "failure", "span_kind": "client"}, span_id="2" * 16,
                            service="retriever", action="call GetOrder", error_message="UNAVAILABLE: commerce down"),
        "slow": HopRecord(**{**base, "duration_ns": 2_500_000_000}, span_id="3" * 16, service="technical-analyst",
                          action="technical-analyst"),
        "escalated": HopRecord(**base, span_id="4" * 16, service="response-generator", action="response-generator",
                               escalation_reason="refund_above_limit", destination="tickets.escalations"),
        "faulted": HopRecord(**base, span_id="5" * 16, service="retriever", action="retriever",
                             fault={"latency_ms": "800"}),
        "dead": HopRecord(**{**base, "outcome": "failure", "ticket_id": ""}, span_id="6" * 16,
                          service="intent-classifier", action="dead_letter", destination="tickets.dlq",
                          error_message="body is empty"),
        "other": HopRecord(**{**base, "trace_id": f"{run}".ljust(32, "f"), "ticket_id": f"T-{run}-b"},
                           span_id="7" * 16, service="intent-classifier", action="intent-classifier"),
    }


EXPECTED = {
    "Trace by ticket id": {"ok", "failed", "slow", "escalated", "faulted", "other"},
    "Trace by trace id": {"ok", "failed", "slow", "escalated", "faulted", "dead", "other"},
    "Failed hops": {"failed", "dead"},
    "Slow hops": {"slow"},
    "Escalations by reason": {"escalated"},
    "Injected faults": {"faulted"},
    "Dead-lettered tickets": {"dead"},
}


async def test_each_saved_search_finds_what_it_should_in_real_elasticsearch(es_url, unique):
    es = AsyncElasticsearch(es_url)
    prefix = f"supportmesh-hops-it-kibana-{unique}"
    hops = seed_hops(unique)
    docs = {name: hop_to_document(h, index_prefix=prefix, ingested_unix_nanos=time.time_ns(), topic="telemetry.hops",
                                  partition=0, offset=i) for i, (name, h) in enumerate(hops.items())}
    by_id = {doc.doc_id: name for name, doc in docs.items()}
    try:
        template = index_template("x")["template"]
        for index in {d.index for d in docs.values()}:
            await es.indices.create(index=index, settings=template["settings"], mappings=template["mappings"])
        for doc in docs.values():
            await es.index(index=doc.index, id=doc.doc_id, document=doc.body)
        await es.indices.refresh(index=f"{prefix}-*")
        searches = {o["attributes"]["title"]: o for o in objects() if o["type"] == "search"}
        for title, expected in EXPECTED.items():
            kql = json.loads(searches[title]["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])["query"]
            sort = [{field: direction} for field, direction in searches[title]["attributes"]["sort"]]
            found = await es.search(index=f"{prefix}-*", query=kql_to_dsl(kql["query"]), sort=sort, size=100)
            names = {by_id[h["_id"]] for h in found["hits"]["hits"]}
            assert names == expected, f"{title}: {kql['query']!r} found {sorted(names)}"
        # The trace searches are meant to be edited with one id: then they find exactly that ticket / trace.
        one_ticket = kql_to_dsl(f'ticket.id : "T-{unique}-a"')
        found = await es.search(index=f"{prefix}-*", query=one_ticket, size=100)
        assert {by_id[h["_id"]] for h in found["hits"]["hits"]} == {"ok", "failed", "slow", "escalated", "faulted"}
        one_trace = kql_to_dsl(f'trace.id : "{hops["other"].trace_id}"')
        found = await es.search(index=f"{prefix}-*", query=one_trace, size=100)
        assert {by_id[h["_id"]] for h in found["hits"]["hits"]} == {"other"}
    finally:
        await es.indices.delete(index=f"{prefix}-*", ignore_unavailable=True, allow_no_indices=True)
        await es.close()
