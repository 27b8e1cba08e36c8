"""Measure the retriever against the real Elasticsearch KB index: recall@5, MRR@10 and search latency.

The queries (services/retriever/eval/queries.jsonl, see the README there) were written by hand from a
seeded sample of articles; `--sample` prints that worksheet again. Before scoring, every query is checked
against the text indexed for its gold article (no run of 6 shared words). Each query goes through the
retriever's own query building (`ticket_query`: cleaning, error codes, scope, field weights) and
`KbStore.search`, one at a time; latency is measured by this client around each search. Reported on
the held-out split (the dev split is the part retrieval changes were tuned on). Prints a table and one
JSON object (the last line).

    uv run python scripts/eval_retriever.py [--json] [--check] [--sample]
"""

import argparse
import asyncio
import json
import random
import re
import sys

from elasticsearch import AsyncElasticsearch
from retriever.adapters.kb_files import read_kb
from retriever.adapters.kb_store import KbStore
from retriever.config import Settings
from retriever.domain.query import Scope, build_query, query_codes, query_text, ticket_query
from supportmesh_eval.retriever_quality import Query, leaks, load_queries, run, summarize

TARGET_RECALL, TARGET_P95_MS = 0.80, 100.0
SAMPLE_SEED, SAMPLE_SIZE = 20261121, 110
WARMUP = 5
# What the classifier gives such tickets; the scope decides which part of the index is searched.
CLASSIFICATION = {"kb": ("technical_support", "TECHNICAL"), "store": ("place_order", "ORDER")}
# The robustness pass searches the whole index, as if the scope were wrong or missing.
WHOLE_INDEX = Scope("all")


def worksheet(settings: Settings) -> str:
    """The seeded sample of KB articles the queries were written from: id, title, start of the symptoms."""
    docs = sorted((d for d in read_kb(settings.kb_path, settings.help_path)
                   if not d.id.startswith("help:")), key=lambda d: d.id)
    lines = []
    for d in random.Random(SAMPLE_SEED).sample(docs, SAMPLE_SIZE):
        start = re.sub(r"\s+", " ", d.body)[:450]
        lines.append(f"== {d.id}\nT: {d.title}\nS: {start}\n")
    return "\n".join(lines)


async def evaluate(settings: Settings, queries: list[Query], size: int, unscoped: bool) -> list:
    es = AsyncElasticsearch(settings.elasticsearch_url, request_timeout=30)
    store = KbStore(es, settings.kb_index)

    async def search(q: Query) -> list[str]:
        if unscoped:
            body = build_query(query_text("", q.text), query_codes("", q.text, []), WHOLE_INDEX, size)
        else:
            _, body = ticket_query("", q.text, *CLASSIFICATION[q.scope], [], size)
        return [hit["id"] for hit in await store.search(body, timeout_s=5.0)]

    try:
        if not await es.indices.exists(index=settings.kb_index):
            raise SystemExit(f"index {settings.kb_index} not found at {settings.elasticsearch_url}: "
                             "start the mesh (make up) or run `uv run python -m retriever load-kb`")
        await run(queries[:WARMUP], search)  # connection set-up and cold caches are not search latency
        return await run(queries, search)
    finally:
        await es.close()


def print_table(report: dict, unscoped: dict) -> None:
    k = report["k"]
    print(f"retriever on index {report['index']} ({report['documents']} documents), "
          f"{report['all']['queries']} hand-written queries")
    print(f"{'split/scope':<16}{'queries':>8}{'R@1':>8}{f'R@{k}':>8}{'MRR@10':>8}{'p50 ms':>8}{'p95 ms':>8}")
    for name in ("heldout", "heldout/kb", "heldout/store", "dev", "all"):
        r = report[name]
        print(f"{name:<16}{r['queries']:>8}{r['recall@1']:>8.3f}{r[f'recall@{k}']:>8.3f}{r['mrr@10']:>8.3f}"
              f"{r['p50_ms']:>8.1f}{r['p95_ms']:>8.1f}")
    u = unscoped["heldout"]
    print(f"{'heldout, no scope':<16}{u['queries']:>8}{u['recall@1']:>8.3f}{u[f'recall@{k}']:>8.3f}"
          f"{u['mrr@10']:>8.3f}{u['p50_ms']:>8.1f}{u['p95_ms']:>8.1f}")
    for miss in report["heldout_misses"]:
        print(f"  miss {miss['id']}: want {miss['relevant'][0]}, got {', '.join(miss['got']) or 'nothing'}")
    print(f"targets (held-out recall@{k} >= {TARGET_RECALL:.2f}, p95 <= {TARGET_P95_MS:.0f} ms): "
          f"{'met' if report['targets_met'] else 'MISSED'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print only the JSON object")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--sample", action="store_true", help="print the article worksheet and exit")
    args = parser.parse_args()
    settings = Settings()
    if args.sample:
        print(worksheet(settings))
        return 0

    queries = load_queries()
    indexed = {d.id: f"{d.title}\n{d.description}\n{d.body}" for d in read_kb(settings.kb_path, settings.help_path)}
    problems = leaks(queries, indexed.get)
    if problems:
        print("the query set is not fit for scoring:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    outcomes = asyncio.run(evaluate(settings, queries, 10, unscoped=False))
    unscoped = summarize(asyncio.run(evaluate(settings, queries, 10, unscoped=True)))
    report = summarize(outcomes)
    held = report["heldout"]
    report.update(index=settings.kb_index, documents=len(indexed),
                  unscoped={s: unscoped[s] for s in ("heldout", "dev", "all")},
                  targets={"heldout_recall@5": TARGET_RECALL, "p95_ms": TARGET_P95_MS},
                  targets_met=held["recall@5"] >= TARGET_RECALL and held["p95_ms"] <= TARGET_P95_MS)
    if not args.json:
        print_table(report, unscoped)
    print(json.dumps(report, sort_keys=True))
    return 1 if args.check and not report["targets_met"] else 0


if __name__ == "__main__":
    sys.exit(main())
