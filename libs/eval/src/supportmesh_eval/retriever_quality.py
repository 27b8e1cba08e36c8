"""Retrieval quality on the hand-written query set: leak check, recall@k, MRR and search latency."""

import hashlib
import json
import pathlib
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

from supportmesh_core.settings import REPO_ROOT

EVAL_DIR = REPO_ROOT / "services" / "retriever" / "eval"
QUERIES = EVAL_DIR / "queries.jsonl"
SCOPES = ("kb", "store")
SPLITS = ("dev", "heldout")
# A query may not share this many consecutive words with the text indexed for its gold article: a longer
# shared run means the query was copied from the article rather than written from reading it.
LEAK_NGRAM = 6
DEV_SHARE = 3  # tenths of the queries tuned on; the rest is held out

_WORD = re.compile(r"[a-z0-9]+(?:['.][a-z0-9]+)*")


@dataclass(frozen=True)
class Query:
    id: str
    text: str
    relevant: tuple[str, ...]
    scope: str
    split: str


def split_for(query_id: str) -> str:
    """A fixed, content-independent split: about 30% dev (tuned on), the rest held out."""
    return "dev" if int(hashlib.sha256(query_id.encode()).hexdigest(), 16) % 10 < DEV_SHARE else "heldout"


def load_queries(path: pathlib.Path = QUERIES) -> list[Query]:
    """The query set; a malformed line is an error naming the line, not a silently skipped query."""
    queries, seen = [], set()
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            q = Query(raw["id"], raw["query"].strip(), tuple(raw["relevant"]), raw["scope"], raw["split"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path.name}:{n}: not a query record ({exc})") from None
        if q.scope not in SCOPES or q.split not in SPLITS or not q.relevant or not q.text:
            raise ValueError(f"{path.name}:{n}: bad scope, split, relevant ids or empty query")
        if q.split != split_for(q.id):
            raise ValueError(f"{path.name}:{n}: split {q.split!r} is not the fixed split of {q.id}")
        if q.id in seen:
            raise ValueError(f"{path.name}:{n}: duplicate id {q.id}")
        seen.add(q.id)
        queries.append(q)
    return queries


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def shared_run(query: str, document: str, n: int = LEAK_NGRAM) -> str | None:
    """The first run of `n` consecutive query words that also occurs in `document`, or None."""
    q = words(query)
    doc_grams = {tuple(g) for g in _ngrams(words(document), n)}
    return next((" ".join(g) for g in _ngrams(q, n) if tuple(g) in doc_grams), None)


def _ngrams(tokens: Sequence[str], n: int) -> Iterable[Sequence[str]]:
    return (tokens[i:i + n] for i in range(len(tokens) - n + 1))


def leaks(queries: Sequence[Query], indexed_text: Callable[[str], str | None]) -> list[str]:
    """Problems that make a query unfit: its gold article is not indexed, or it copies the article's text."""
    problems = []
    for q in queries:
        for doc_id in q.relevant:
            text = indexed_text(doc_id)
            if text is None:
                problems.append(f"{q.id}: relevant article {doc_id} is not in the index")
            elif run := shared_run(q.text, text):
                problems.append(f"{q.id}: shares {LEAK_NGRAM} words with {doc_id}: {run!r}")
    return problems


def recall_at(ranked: Sequence[str], relevant: Sequence[str], k: int) -> float:
    """Share of the relevant ids found in the first k results."""
    if not relevant:
        raise ValueError("a query needs at least one relevant id")
    top = set(ranked[:k])
    return sum(1 for r in relevant if r in top) / len(relevant)


def reciprocal_rank(ranked: Sequence[str], relevant: Sequence[str]) -> float:
    """1 / rank of the first relevant result (0 when none is in the list)."""
    wanted = set(relevant)
    return next((1.0 / i for i, doc in enumerate(ranked, 1) if doc in wanted), 0.0)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil(n * p / 100), at least the first value
    return ordered[int(rank) - 1]


@dataclass(frozen=True)
class Outcome:
    query: Query
    ranked: list[str]
    ms: float


Search = Callable[[Query], Awaitable[list[str]]]


async def run(queries: Sequence[Query], search: Search) -> list[Outcome]:
    """Each query through `search` (ranked ids), timed from the client's side, one at a time."""
    outcomes = []
    for q in queries:
        started = time.perf_counter()
        ranked = await search(q)
        outcomes.append(Outcome(q, ranked, (time.perf_counter() - started) * 1000))
    return outcomes


def summarize(outcomes: Sequence[Outcome], k: int = 5) -> dict:
    """recall@1/@k, MRR@10 and latency per split and scope, plus the held-out misses."""
    def block(rows: Sequence[Outcome]) -> dict:
        if not rows:
            return {"queries": 0}
        ms = [o.ms for o in rows]
        return {
            "queries": len(rows),
            "recall@1": round(sum(recall_at(o.ranked, o.query.relevant, 1) for o in rows) / len(rows), 4),
            f"recall@{k}": round(sum(recall_at(o.ranked, o.query.relevant, k) for o in rows) / len(rows), 4),
            "mrr@10": round(sum(reciprocal_rank(o.ranked[:10], o.query.relevant) for o in rows) / len(rows), 4),
            "p50_ms": round(percentile(ms, 50), 2), "p95_ms": round(percentile(ms, 95), 2),
            "max_ms": round(max(ms), 2),
        }
    report = {"k": k, "all": block(outcomes)}
    for split in SPLITS:
        report[split] = block([o for o in outcomes if o.query.split == split])
        for scope in SCOPES:
            report[f"{split}/{scope}"] = block([o for o in outcomes if o.query.split == split
                                               and o.query.scope == scope])
    report["heldout_misses"] = [
        {"id": o.query.id, "query": o.query.text, "relevant": list(o.query.relevant), "got": o.ranked[:3]}
        for o in outcomes if o.query.split == "heldout" and recall_at(o.ranked, o.query.relevant, k) < 1]
    return report
