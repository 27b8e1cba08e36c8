"""Writes deploy/kibana/saved_objects.ndjson: the hops data view, the SRE saved searches and the dashboard.

Run `python deploy/kibana/generate.py` after changing anything here; tests check that the committed file is
what this script writes. Every nested JSON string Kibana expects (searchSourceJSON, panelsJSON, visState)
is built with json.dumps from Python structures, never by hand. Visualizations are aggregation-based
(`visualization` saved objects), which Kibana 8.x imports and migrates without a Lens state.
"""

import json
import pathlib
import sys

OUT = pathlib.Path(__file__).resolve().parent / "saved_objects.ndjson"
DATA_VIEW_ID = "supportmesh-hops"
PATTERN = "supportmesh-hops-*"
CORE_VERSION = "8.19.0"
TRACE_COLUMNS = ["service.name", "event.action", "span.kind", "event.duration", "event.outcome",
                 "error.message", "destination", "fault.injected"]

# title → (id, KQL, columns, sort, description). Kibana's saved searches cannot take parameters: the two
# trace searches match every hop with the id and are meant to be edited (`ticket.id : "T-1001"`).
SEARCHES = {
    "Trace by ticket id": ("sm-trace-by-ticket", "ticket.id : *", ["ticket.id", *TRACE_COLUMNS],
                           [["ticket.id", "asc"], ["event.start", "asc"]],
                           "Every hop of a ticket in order: replace * with the ticket id."),
    "Trace by trace id": ("sm-trace-by-trace", "trace.id : *", ["trace.id", "span.id", "parent.id",
                                                                  *TRACE_COLUMNS],
                          [["trace.id", "asc"], ["event.start", "asc"]],
                          "Every hop of a W3C trace, gRPC servers included: replace * with the trace id."),
    "Failed hops": ("sm-failed-hops", 'event.outcome : "failure"',
                    ["service.name", "event.action", "error.message", "ticket.id", "trace.id"],
                    [["@timestamp", "desc"]], "Hops that ended in an error."),
    "Slow hops": ("sm-slow-hops", "event.duration >= 1000000000",
                  ["service.name", "event.action", "event.duration", "ticket.id", "fault.injected"],
                  [["event.duration", "desc"]], "Hops that took a second or more (event.duration is in ns)."),
    "Escalations by reason": ("sm-escalations", "escalation.reason : *",
                              ["escalation.reason", "service.name", "intent", "confidence", "ticket.id"],
                              [["@timestamp", "desc"]], "Tickets handed to a human; break down by escalation.reason."),
    "Injected faults": ("sm-injected-faults", "fault.injected : true",
                        ["service.name", "event.action", "event.duration", "event.outcome", "ticket.id"],
                        [["@timestamp", "desc"]], "Hops a chaos fault touched; fault.* has the fault's settings."),
    "Dead-lettered tickets": ("sm-dead-lettered", 'destination : "tickets.dlq" or event.action : "dead_letter"',
                              ["service.name", "error.message", "kafka.topic", "kafka.partition", "kafka.offset"],
                              [["@timestamp", "desc"]], "Messages a stage could not read, sent to tickets.dlq."),
}

SERVICE_TERMS = {"field": "service.name", "size": 20, "order": "desc", "orderBy": "1",
                 "otherBucket": False, "missingBucket": False}
HISTOGRAM = {"field": "@timestamp", "interval": "auto", "min_doc_count": 1, "extended_bounds": {}}


def _search_source(query: str, extra: dict | None = None) -> str:
    source = {"query": {"query": query, "language": "kuery"}, "filter": [],
              "indexRefName": "kibanaSavedObjectMeta.searchSourceJSON.index"}
    source.update(extra or {})
    return json.dumps(source)


def _ref() -> list[dict]:
    return [{"name": "kibanaSavedObjectMeta.searchSourceJSON.index", "type": "index-pattern", "id": DATA_VIEW_ID}]


def data_view() -> dict:
    return {"type": "index-pattern", "id": DATA_VIEW_ID, "coreMigrationVersion": CORE_VERSION,
            "attributes": {"title": PATTERN, "name": "supportmesh hops", "timeFieldName": "@timestamp",
                           "fieldFormatMap": json.dumps({"event.duration": {"id": "duration", "params": {
                               "inputFormat": "nanoseconds", "outputFormat": "humanizePrecise"}}})},
            "references": []}


def saved_search(title: str) -> dict:
    sid, query, columns, sort, description = SEARCHES[title]
    return {"type": "search", "id": sid, "coreMigrationVersion": CORE_VERSION,
            "attributes": {"title": title, "description": description, "columns": columns, "sort": sort,
                           "kibanaSavedObjectMeta": {"searchSourceJSON": _search_source(query)}},
            "references": _ref()}


def _vis(vid: str, title: str, vis_type: str, aggs: list[dict], params: dict, query: str = "") -> dict:
    state = {"title": title, "type": vis_type, "aggs": aggs, "params": params}
    return {"type": "visualization", "id": vid, "coreMigrationVersion": CORE_VERSION,
            "attributes": {"title": title, "description": "", "version": 1, "uiStateJSON": "{}",
                           "visState": json.dumps(state),
                           "kibanaSavedObjectMeta": {"searchSourceJSON": _search_source(query)}},
            "references": _ref()}


def _agg(aid: str, agg_type: str, schema: str, **params) -> dict:
    return {"id": aid, "enabled": True, "type": agg_type, "schema": schema, "params": params}


def _chart_params(y_title: str, chart: str = "line", share: bool = False) -> dict:
    # A share chart stacks the series and scales the axis to 100 %: failures among all hops, escalations
    # among all outcomes.
    return {"type": chart, "addTooltip": True, "addLegend": True, "legendPosition": "right",
            "categoryAxes": [{"id": "CategoryAxis-1", "type": "category", "position": "bottom", "show": True,
                              "scale": {"type": "linear"}, "labels": {"show": True, "filter": True},
                              "title": {}}],
            "valueAxes": [{"id": "ValueAxis-1", "name": "LeftAxis-1", "type": "value", "position": "left",
                           "show": True, "scale": {"type": "linear", "mode": "percentage" if share else "normal"},
                           "labels": {"show": True, "rotate": 0, "filter": False},
                           "title": {"text": y_title}}],
            "seriesParams": [{"show": True, "type": chart, "mode": "stacked" if share else "normal",
                              "data": {"id": "1", "label": y_title}, "valueAxis": "ValueAxis-1",
                              "drawLinesBetweenPoints": True, "showCircles": True}],
            "times": [], "addTimeMarker": False}


def _per_second() -> dict:
    # One-second buckets, scaled back to per-second values when Kibana widens the buckets for a long range.
    return _agg("2", "date_histogram", "segment", **{**HISTOGRAM, "interval": "s"}, scaleMetricValues=True)


def _split(field: str) -> dict:
    return _agg("3", "terms", "group", **{**SERVICE_TERMS, "field": field})


def visualizations() -> list[dict]:
    count, over_time = _agg("1", "count", "metric"), _agg("2", "date_histogram", "segment", **HISTOGRAM)
    return [
        _vis("sm-vis-hops-per-second", "Hops per second per service", "line",
             [count, _per_second(), _split("service.name")], _chart_params("hops / s")),
        _vis("sm-vis-duration-percentiles", "p50 / p95 hop duration per service (ns)", "line",
             [_agg("1", "percentiles", "metric", field="event.duration", percents=[50, 95]), over_time,
              _split("service.name")], _chart_params("event.duration (ns)")),
        _vis("sm-vis-error-rate", "Error rate: share of hops by outcome", "area",
             [count, over_time, _split("event.outcome")], _chart_params("share of hops", "area", share=True)),
        _vis("sm-vis-failed-per-second", "Failed hops per second per service", "line",
             [count, _per_second(), _split("service.name")], _chart_params("failed hops / s"),
             'event.outcome : "failure"'),
        _vis("sm-vis-escalation-rate", "Escalation rate: share of outcomes", "area",
             [count, over_time, _split("destination")], _chart_params("share of outcomes", "area", share=True),
             'destination : "tickets.responses" or destination : "tickets.escalations"'),
        _vis("sm-vis-escalation-reasons", "Escalations by reason", "line",
             [count, over_time, _split("escalation.reason")], _chart_params("escalations"),
             'destination : "tickets.escalations"'),
        _vis("sm-vis-dlq-rate", "Dead letters per second per service", "line",
             [count, _per_second(), _split("service.name")], _chart_params("dead letters / s"),
             'destination : "tickets.dlq"'),
    ]


def dashboard(vis: list[dict]) -> dict:
    panels, references = [], []
    for i, v in enumerate(vis):
        ref = f"panel_{i}"
        panels.append({"type": "visualization", "panelIndex": str(i + 1), "panelRefName": ref, "embeddableConfig": {},
                       "gridData": {"x": (i % 2) * 24, "y": (i // 2) * 15, "w": 24, "h": 15, "i": str(i + 1)}})
        references.append({"name": ref, "type": "visualization", "id": v["id"]})
    for i, title in enumerate(("Failed hops", "Slow hops", "Dead-lettered tickets")):
        ref = f"panel_{len(vis) + i}"
        idx = str(len(vis) + i + 1)
        panels.append({"type": "search", "panelIndex": idx, "panelRefName": ref, "embeddableConfig": {},
                       "gridData": {"x": i * 16, "y": (len(vis) + 1) // 2 * 15, "w": 16, "h": 15, "i": idx}})
        references.append({"name": ref, "type": "search", "id": SEARCHES[title][0]})
    return {"type": "dashboard", "id": "sm-dashboard", "coreMigrationVersion": CORE_VERSION,
            "attributes": {"title": "supportmesh: hops, latency, errors, escalations, dead letters",
                           "description": "One document per hop (supportmesh-hops-*): throughput, p50/p95 latency,"
                                          " errors, escalations and dead letters per service.",
                           "panelsJSON": json.dumps(panels), "optionsJSON": json.dumps({"useMargins": True,
                                                                                        "hidePanelTitles": False}),
                           "timeRestore": True, "timeFrom": "now-1h", "timeTo": "now",
                           "refreshInterval": {"pause": False, "value": 30000},
                           "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps(
                               {"query": {"query": "", "language": "kuery"}, "filter": []})}},
            "references": references}


def saved_objects() -> list[dict]:
    vis = visualizations()
    return [data_view(), *(saved_search(t) for t in SEARCHES), *vis, dashboard(vis)]


def render() -> str:
    return "".join(json.dumps(obj, sort_keys=True) + "\n" for obj in saved_objects())


def main() -> None:
    text = render()
    if "--check" in sys.argv[1:]:
        if not OUT.exists() or OUT.read_text() != text:
            sys.exit(f"{OUT} is stale: run python {__file__}")
        return
    OUT.write_text(text)
    print(f"wrote {len(saved_objects())} saved objects to {OUT}")


if __name__ == "__main__":
    main()
