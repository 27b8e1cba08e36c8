"""`supportmesh trace`: a ticket's hops from Elasticsearch, as a waterfall in the terminal or one JSON object."""

import re
from dataclasses import dataclass
from datetime import datetime

from elastic_transport import TlsError, TransportError
from elasticsearch import ApiError, AsyncElasticsearch

TRACE_ID = re.compile(r"[0-9a-f]{32}")
MAX_HOPS = 10_000
_FIELDS = ["@timestamp", "event.*", "trace.id", "span.*", "parent.id", "service.name", "ticket.id",
           "conversation.id", "kafka.*", "destination", "intent", "confidence", "engine", "model", "tokens.*",
           "cost.usd", "retries", "escalation.reason", "error.message", "fault.*", "labels.*"]


class TraceUnavailable(Exception):
    """Elasticsearch could not answer (unreachable, or refused the query)."""


class NotFound(Exception):
    """No hop document carries the id."""


@dataclass
class Trace:
    """What was asked for, what was found: the ticket and trace ids and the hops sorted by start."""

    query: str
    ticket_ids: list[str]
    trace_ids: list[str]
    hops: list[dict]


def _get(doc: dict, dotted: str, default=None):
    value = doc
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return default
        value = value[part]
    return value


def _start_ns(doc: dict) -> int:
    """event.start (RFC 3339 with nanoseconds) as integer nanoseconds since the epoch, for exact ordering."""
    text = _get(doc, "event.start") or doc.get("@timestamp") or ""
    match = re.fullmatch(r"(.+T\d\d:\d\d:\d\d)(?:\.(\d+))?Z", text)
    if not match:
        return 0
    secs = int(datetime.fromisoformat(match.group(1) + "+00:00").timestamp())
    return secs * 1_000_000_000 + int((match.group(2) or "0").ljust(9, "0")[:9])


async def fetch(es: AsyncElasticsearch, index: str, ident: str) -> Trace:
    """Every hop of the ticket (or trace) `ident`, including the server hops of its gRPC calls."""
    ident = ident.strip()
    if not ident:
        raise NotFound("give a ticket id or a 32-hex trace id")
    try:
        first = await _search(es, index, [{"term": {"ticket.id": ident}}, {"term": {"trace.id": ident.lower()}}])
        traces = sorted({_get(h, "trace.id") for h in first if _get(h, "trace.id")})
        # Servers of gRPC calls do not know the ticket; they share its trace, so fetch the whole trace.
        hops = await _search(es, index, [{"terms": {"trace.id": traces}}, {"term": {"ticket.id": ident}}]) \
            if traces else first
    except ApiError as exc:
        hint = {401: " (no or wrong credentials: set ELASTICSEARCH_API_KEY or ELASTICSEARCH_USERNAME/PASSWORD)",
                403: " (the credentials lack read on the index)"}.get(exc.meta.status, "")
        raise TraceUnavailable(f"Elasticsearch refused the search: HTTP {exc.meta.status} {exc.message}{hint}") \
            from None
    except TlsError as exc:
        raise TraceUnavailable(f"TLS with Elasticsearch failed ({exc.message}); if its certificate is signed by "
                               "a private CA, set ELASTICSEARCH_CA_FILE or --ca-file to that CA") from None
    except TransportError as exc:
        raise TraceUnavailable(f"cannot reach Elasticsearch ({exc}); set ELASTICSEARCH_URL or --es") from None
    if not hops:
        raise NotFound(f"no hops found for {ident!r} in {index}")
    hops.sort(key=lambda h: (_start_ns(h), _get(h, "span.id", "")))
    tickets = sorted({_get(h, "ticket.id") for h in hops if _get(h, "ticket.id")})
    return Trace(ident, tickets, sorted({_get(h, "trace.id") for h in hops if _get(h, "trace.id")}), hops)


async def _search(es: AsyncElasticsearch, index: str, should: list[dict]) -> list[dict]:
    response = await es.search(index=index, query={"bool": {"should": should, "minimum_should_match": 1}},
                               size=MAX_HOPS, source_includes=_FIELDS, ignore_unavailable=True,
                               allow_no_indices=True, sort=[{"@timestamp": "asc"}])
    return [hit["_source"] for hit in response["hits"]["hits"]]


def _depths(hops: list[dict]) -> dict[str, int]:
    by_span = {_get(h, "span.id"): h for h in hops if _get(h, "span.id")}
    depths: dict[str, int] = {}
    for span in by_span:
        depth, seen, parent = 0, {span}, _get(by_span[span], "parent.id")
        while parent in by_span and parent not in seen:  # a cycle in bad data must not hang the command
            seen.add(parent)
            depth += 1
            parent = _get(by_span[parent], "parent.id")
        depths[span] = depth
    return depths


def as_json(trace: Trace) -> dict:
    """One object: the ids and a `hops` list with start offsets relative to the first hop."""
    origin = _start_ns(trace.hops[0])
    depths = _depths(trace.hops)
    hops = []
    for h in trace.hops:
        hop = {
            "service": _get(h, "service.name", ""), "stage": _get(h, "event.action", ""),
            "kind": _get(h, "span.kind", ""), "start": _get(h, "event.start") or h.get("@timestamp"),
            "offset_ms": round((_start_ns(h) - origin) / 1e6, 3),
            "duration_ms": round((_get(h, "event.duration", 0) or 0) / 1e6, 3),
            "outcome": _get(h, "event.outcome", "unknown"), "error": _get(h, "error.message", ""),
            "fault": {k: v for k, v in (_get(h, "fault", {}) or {}).items() if k != "injected"},
            "trace_id": _get(h, "trace.id", ""), "span_id": _get(h, "span.id", ""),
            "parent_id": _get(h, "parent.id", ""), "depth": depths.get(_get(h, "span.id"), 0),
            "ticket_id": _get(h, "ticket.id", ""), "destination": h.get("destination", ""),
        }
        for name in ("intent", "confidence", "engine", "model", "retries"):
            if h.get(name) not in (None, ""):
                hop[name] = h[name]
        if _get(h, "escalation.reason"):
            hop["escalation_reason"] = _get(h, "escalation.reason")
        if _get(h, "kafka.topic"):
            hop["kafka"] = h["kafka"]
        hops.append(hop)
    return {"query": trace.query, "ticket_ids": trace.ticket_ids, "trace_ids": trace.trace_ids,
            "hop_count": len(hops), "hops": hops}


def render(trace: Trace, width: int = 100) -> str:
    """The waterfall: one line per hop with its offset, duration, a bar on a shared time axis, the outcome."""
    data = as_json(trace)
    hops = data["hops"]
    end = max(h["offset_ms"] + h["duration_ms"] for h in hops) or 1.0
    bar_width = max(10, min(60, width - 70))
    label_width = min(40, max(len(_label(h)) for h in hops))
    lines = [f"ticket {', '.join(data['ticket_ids']) or '-'}  trace {', '.join(data['trace_ids'])}  "
             f"{len(hops)} hops  {end:.1f} ms",
             f"{'':{label_width}}  {'start':>9}  {'took':>9}  {'0 ms':<{bar_width // 2}}"
             f"{f'{end:.0f} ms':>{bar_width - bar_width // 2}}  outcome"]
    for h in hops:
        first = int(h["offset_ms"] / end * bar_width)
        length = max(1, round(h["duration_ms"] / end * bar_width))
        bar = (" " * first + ("█" if h["outcome"] == "success" else "▓") * length)[:bar_width]
        line = (f"{_label(h)[:label_width]:<{label_width}}  {h['offset_ms']:>7.1f}ms  {h['duration_ms']:>7.1f}ms  "
                f"{bar:<{bar_width}}  {h['outcome']}")
        extras = []
        if h.get("escalation_reason"):
            extras.append(f"escalated: {h['escalation_reason']}")
        if h["fault"]:
            extras.append("fault " + ",".join(f"{k}={v}" for k, v in sorted(h["fault"].items())))
        if h["error"]:
            extras.append(f"error: {h['error'][:160]}")
        if extras:
            line += "  " + "  ".join(extras)
        lines.append(line)
    return "\n".join(lines)


def _label(hop: dict) -> str:
    stage = hop["stage"] if hop["stage"] != hop["service"] else ""
    name = f"{hop['service']} {stage}".strip()
    return "  " * min(hop["depth"], 6) + name
