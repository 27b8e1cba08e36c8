"""The retrieval evaluation's scoring and its guard against queries copied from the indexed text."""

import json

import pytest
from supportmesh_eval.retriever_quality import (
    Outcome,
    Query,
    leaks,
    load_queries,
    percentile,
    recall_at,
    reciprocal_rank,
    run,
    shared_run,
    split_for,
    summarize,
)

pytestmark = pytest.mark.unit


def test_recall_counts_relevant_ids_in_the_first_k():
    assert recall_at(["a", "b", "c"], ["c"], 3) == 1.0
    assert recall_at(["a", "b", "c"], ["c"], 2) == 0.0
    assert recall_at(["a", "b"], ["a", "z"], 5) == 0.5
    with pytest.raises(ValueError):
        recall_at(["a"], [], 5)


def test_reciprocal_rank_is_one_over_the_first_relevant_rank():
    assert reciprocal_rank(["x", "y", "gold"], ["gold"]) == pytest.approx(1 / 3)
    assert reciprocal_rank(["gold"], ["gold"]) == 1.0
    assert reciprocal_rank(["x", "y"], ["gold"]) == 0.0


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))
    assert percentile(values, 95) == 95
    assert percentile(values, 50) == 50
    assert percentile([7.0], 95) == 7.0
    with pytest.raises(ValueError):
        percentile([], 95)


def test_shared_run_finds_copied_wording_but_not_shared_vocabulary():
    article = "When you open the file, you receive the following error: The document caused a serious error."
    assert shared_run("Word says the file made it crash badly when I open it", article) is None
    assert shared_run("Word says the document caused a serious error when I open it", article) == \
        "the document caused a serious error"


def test_leaks_reports_copied_queries_and_unknown_gold_ids():
    docs = {"kb/a": "outlook crashes when you start it after you install a language pack"}
    queries = [Query("q1", "outlook crashes when you start it after installing", ("kb/a",), "kb", "dev"),
               Query("q2", "my mail app dies at launch since the new language", ("kb/a",), "kb", "dev"),
               Query("q3", "anything", ("kb/missing",), "kb", "dev")]
    problems = leaks(queries, docs.get)
    assert len(problems) == 2
    assert problems[0].startswith("q1: shares 6 words")
    assert "kb/missing is not in the index" in problems[1]


def test_split_is_fixed_by_the_query_id():
    assert split_for("kb-001") == split_for("kb-001")
    shares = [split_for(f"kb-{i:03d}") for i in range(1, 401)]
    assert 0.2 < shares.count("dev") / len(shares) < 0.4


def test_committed_query_set_loads_with_its_fixed_split_and_both_scopes():
    queries = load_queries()
    assert len(queries) >= 100
    assert {q.scope for q in queries} == {"kb", "store"}
    assert sum(q.split == "heldout" for q in queries) >= 70


def test_load_queries_rejects_a_record_whose_split_was_moved(tmp_path):
    record = {"id": "kb-001", "query": "text", "relevant": ["a"], "scope": "kb"}
    record["split"] = "heldout" if split_for("kb-001") == "dev" else "dev"
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps(record) + "\n")
    with pytest.raises(ValueError, match="not the fixed split"):
        load_queries(path)


async def test_summarize_reports_recall_mrr_and_latency_per_split():
    queries = [Query("a", "t", ("g1",), "kb", "heldout"), Query("b", "t", ("g2",), "store", "heldout"),
               Query("c", "t", ("g3",), "kb", "dev")]
    ranked = {"a": ["g1", "x"], "b": ["x", "y", "z", "w", "v", "g2"], "c": ["x", "g3"]}

    async def search(q: Query) -> list[str]:
        return ranked[q.id]

    report = summarize(await run(queries, search), k=5)
    assert report["heldout"]["recall@5"] == 0.5
    assert report["heldout"]["mrr@10"] == pytest.approx((1 + 1 / 6) / 2, abs=1e-4)
    assert report["dev"]["recall@1"] == 0.0 and report["dev"]["recall@5"] == 1.0
    assert report["heldout/store"]["queries"] == 1
    assert [m["id"] for m in report["heldout_misses"]] == ["b"]
    assert report["all"]["p95_ms"] >= 0


def test_summarize_of_an_empty_block_says_so():
    report = summarize([Outcome(Query("a", "t", ("g",), "kb", "dev"), ["g"], 1.0)])
    assert report["heldout"] == {"queries": 0}
