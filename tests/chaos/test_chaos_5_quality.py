"""Chaos: answer quality with latency injected into the retriever, against the same tickets without the fault.

The mesh-level evaluation of the agent-quality issue does not exist yet, so quality here is the share of
facts kept: the facts of a fault-free answer (its citations, order ids, tracking numbers, order status) and
how many of them the answer to the same question still carries under the fault.
"""

import asyncio
import re

import pytest

pytestmark = pytest.mark.chaos

QUESTIONS = [
    "Hi, where is my order #W2378156? It was due yesterday.",
    "Can you give me the tracking number for order #W2378156 please",
    "How do I return the keyboard from order #W2378156?",
    "How long does delivery usually take to reach Philadelphia?",
    "Which payment methods do you accept?",
    "Where can I download the invoice for my last purchase?",
    "Outlook keeps asking for my password every few minutes, how do I fix it?",
    "Teams meetings won't load, I get error 0x8004de80 when signing in.",
    "Sign-in fails with AADSTS50076 when I open SharePoint from home.",
    "My Exchange Online mailbox is full and I cannot send email anymore.",
    "How do I delete my account?",
    "I forgot my password and can't log in to my account",
    "Is there a fee if I cancel my order?",
    "I returned an item two weeks ago, when will I get my money back?",
]
STATUSES = ("pending", "processed", "delivered", "cancelled", "shipped", "returned", "exchanged")


def facts(outcome) -> set[str]:
    body = outcome.body
    if outcome.topic.endswith("escalations"):
        return set()
    text = body.get("reply", {}).get("text", "")
    found = {f"cite:{c}" for c in body.get("reply", {}).get("citations", [])}
    found |= {f"order:{m}" for m in re.findall(r"#W\d{7}", text)}
    found |= {f"number:{m}" for m in re.findall(r"\b\d{9,}\b", text)}
    found |= {f"status:{s}" for s in STATUSES if re.search(rf"\b{s}\b", text, re.I)}
    return found


def kept(reference, faulty) -> tuple[float, float]:
    """(share of the reference answers' facts kept, share of tickets answered rather than escalated)."""
    total = hit = answered = 0
    for ref_id, bad_id in zip(reference.ids, faulty.ids, strict=True):
        want = facts(reference.first(ref_id))
        got = facts(faulty.first(bad_id))
        total += len(want)
        hit += len(want & got)
        answered += not faulty.first(bad_id).topic.endswith("escalations")
    return (hit / total if total else 1.0), answered / len(faulty.ids)


async def test_quality_with_latency_in_the_retriever(harness):
    reference = await harness.flow("quality: reference (no fault)", harness.ids("qref", len(QUESTIONS)), rate=4,
                                   bodies=QUESTIONS)
    assert not reference.lost
    rows = []
    for spec in (("latency=2s",), ("latency=4500ms", "jitter=400ms")):
        harness.chaos("set", "retriever", *spec, "for=120s")
        await asyncio.sleep(2)
        faulty = await harness.flow(f"quality: retriever {' '.join(spec)}", harness.ids("qlat", len(QUESTIONS)),
                                    rate=4, bodies=QUESTIONS, timeout=90)
        harness.chaos("clear", "retriever")
        await asyncio.sleep(2)
        assert not faulty.lost and not faulty.duplicates
        fact_share, answered = kept(reference, faulty)
        rows.append((spec, fact_share, answered))
        harness.record(faulty, facts_kept=round(fact_share, 3), answered_share=round(answered, 3),
                       notes=f"facts kept {fact_share:.0%} of the fault-free answers; answered {answered:.0%}")
    ref_facts, ref_answered = kept(reference, reference)
    harness.record(reference, facts_kept=ref_facts, answered_share=round(ref_answered, 3),
                   notes=f"{sum(len(facts(reference.first(t))) for t in reference.ids)} facts in the reference")
    assert ref_facts == 1.0
    assert all(0.0 <= share <= 1.0 for _, share, _ in rows)
