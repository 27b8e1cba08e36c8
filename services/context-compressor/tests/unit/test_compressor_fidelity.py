"""The fidelity evaluation on a slice of its conversations: facts survive and pasted logs shrink."""

import pytest
from context_compressor.fidelity import evaluate, summarize
from supportmesh_eval.compressor_conversations import log_conversations, retail_conversations

pytestmark = pytest.mark.unit


async def test_fidelity_on_a_slice_meets_the_targets():
    conversations = retail_conversations()[:12] + log_conversations(count=8)
    assert all(len(c.turns) >= 12 for c in conversations)
    report = summarize(await evaluate(conversations, budget=512))
    assert report["all"]["facts_retained"] >= 0.98, report["missing"]
    assert report["logs"]["compression_overall"] >= 4.0
    assert report["retail"]["gold_facts"] > 100


def test_retail_conversations_state_real_scenario_facts():
    first = retail_conversations()[0]
    assert first.id == "retail-0" and first.gold["names"] == ["Yusuf Rossi"]
    assert "#W2378156" in first.gold["order_ids"]
    assert first.turns[0][1].startswith("Hi there, my name is Yusuf Rossi")
    assert "I received my order #W2378156" in first.turns[0][1]
