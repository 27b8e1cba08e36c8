"""Turning knowledge-base titles into first-person problem statements, and the handoff text."""

import random

import pytest
from intent_classifier.domain.examples import (
    deduplicated,
    own_examples,
    problem_statement,
    technical_examples,
)
from supportmesh_core import handoff

pytestmark = pytest.mark.unit


def test_cant_titles_become_first_person():
    text = problem_statement("Can't add and verify a domain in hybrid", "", random.Random(1))
    assert "add and verify a domain in hybrid" in text
    assert any(p in text.lower() for p in ("i can't", "i cannot", "i'm unable", "we can't", "i cant"))


def test_descriptions_are_rewritten_in_the_first_person():
    rng = random.Random(0)
    texts = {
        problem_statement("Title", "Fixes an issue that prevents you from verifying your domain.", rng)
        for _ in range(40)
    }
    rewritten = [t for t in texts if "verifying my domain" in t]
    assert rewritten and all("prevents me from" in t for t in rewritten)


def test_technical_examples_are_seeded_and_one_per_article():
    articles = [(f"Error {i} when opening Outlook", "") for i in range(50)]
    first, second = technical_examples(articles, 20, 3), technical_examples(articles, 20, 3)
    assert first == second
    assert len({e.text.lower().split("error ")[1].split()[0] for e in first}) == 20
    assert {e.category for e in first} == {"TECHNICAL"}


def test_deduplicated_keeps_the_first_label():
    merged = deduplicated(
        own_examples(["Hello  there"], "out_of_scope") + own_examples(["hello there"], "technical_support")
    )
    assert [(e.text, e.intent) for e in merged] == [("Hello  there", "out_of_scope")]


def test_first_sentences_are_cut():
    assert handoff.first_sentences("One. Two! Three? Four.") == "One. Two!"
    assert len(handoff.first_sentences("x" * 1000)) == 300
