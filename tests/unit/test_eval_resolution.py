"""The resolution evaluation: its ticket files load and how each outcome is scored."""

import json
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "scripts"))

from eval_resolution import Ticket, facts_found, load_tickets, score, summarize, worst  # noqa: E402

pytestmark = pytest.mark.unit


def ticket(outcome="answer", facts=(("#W2378156",), ("delivered", "geliefert")), reasons=(), never=(),
           intent="track_order", author="b") -> Ticket:
    return Ticket(id="B-001", author=author, intent=intent, customer={}, subject="", body="where is it",
                  outcome=outcome, facts=facts, reasons=reasons, never=never)


def response(text: str, intent: str = "track_order") -> dict:
    return {"type": "response", "reply": {"text": text}, "intent": intent}


def escalation(reason: str, summary: str = "", told: str = "A person will reply.") -> dict:
    return {"type": "escalation", "reason": reason, "summary": summary, "customer_message": told}


def test_the_bundled_sets_load_with_eight_dev_and_two_held_out_authors():
    tickets = load_tickets()
    assert len(tickets) >= 300 and len({t.id for t in tickets}) == len(tickets)
    assert {t.author for t in tickets if t.split == "dev"} == {"a", "b", "c", "d", "e", "f", "g", "h"}
    assert {t.author for t in tickets if t.split == "held_out"} == {"i", "j"}
    assert {t.outcome for t in tickets} == {"answer", "escalate"}
    assert all(t.reasons for t in tickets if t.outcome == "escalate")


def test_a_malformed_line_names_its_file_and_line(tmp_path):
    (tmp_path / "author_x.jsonl").write_text(json.dumps({"id": "X-1", "body": "hi"}) + "\n")
    with pytest.raises(SystemExit, match="author_x.jsonl:1"):
        load_tickets(tmp_path)


def test_facts_ignore_case_spacing_and_thousands_separators():
    assert facts_found((("1016.24",), ("Mastercard",)), "a payment of $1,016.24 (MASTERCARD ending in 4275)") == \
        [True, True]
    assert facts_found((("5 to 7 business days",),), "in 5 to  7\nbusiness days") == [True]


@pytest.mark.parametrize(("outcome", "verdict"), [
    (response("Order #W2378156 is delivered."), "resolved"),
    (response("Order #W2378156 ist geliefert."), "resolved"),
    (response("Order #W2378156 is on its way."), "partial"),
    (response("We can help with many things."), "wrong"),
    (escalation("low_confidence"), "escalated_unneeded"),
    (None, "wrong"),
])
def test_an_expected_answer_is_scored_by_its_facts(outcome, verdict):
    assert score(ticket(), outcome)["verdict"] == verdict


def test_a_reply_repeating_the_agent_policy_is_wrong_whatever_else_it_says():
    text = "Order #W2378156 is delivered. Each user has a profile containing unique user id, email, default address."
    s = score(ticket(), response(text))
    assert s["verdict"] == "wrong" and s["policy_wording"]


def test_a_forbidden_string_makes_an_answer_wrong():
    assert score(ticket(never=("Azure",)), response("Order #W2378156 is delivered. See Azure."))["verdict"] == "wrong"


@pytest.mark.parametrize(("outcome", "verdict"), [
    (escalation("duplicate_charge", "Order #W2378156: payment $849.34"), "escalated_correctly"),
    (escalation("fraud", "Order #W2378156: payment $849.34"), "escalated_correctly"),
    (escalation("duplicate_charge", "no order found"), "partial"),
    (escalation("low_confidence", "Order #W2378156 849.34"), "wrong"),
    (response("Order #W2378156 is delivered, total $849.34."), "wrong"),
])
def test_an_expected_escalation_needs_an_acceptable_reason_and_its_facts(outcome, verdict):
    t = ticket("escalate", facts=(("#W2378156",), ("849.34",)), reasons=("duplicate_charge", "fraud"))
    assert score(t, outcome)["verdict"] == verdict


def test_out_of_scope_without_facts_is_judged_by_the_intent_the_mesh_reports():
    t = ticket(facts=(), intent="out_of_scope")
    assert score(t, response("That is outside what we do.", intent="out_of_scope"))["verdict"] == "resolved"
    assert score(t, response("Order #W1 is pending.", intent="track_order"))["verdict"] == "wrong"


def test_summary_counts_good_outcomes_per_intent_and_worst_lists_wrong_before_partial():
    a, b = ticket(), ticket(intent="track_refund")
    rows = [(a, score(a, response("Order #W2378156 is delivered."))), (b, score(b, response("on its way #W2378156")))]
    report = summarize(rows)
    assert report["tickets"] == 2 and report["good"] == 0.5 and report["by_intent"]["track_refund"]["partial"] == 1
    c = ticket(intent="review")
    bad = worst([(b, rows[1][1], None), (c, {"verdict": "wrong", "why": "x"}, None)])
    assert [w["intent"] for w in bad] == ["review", "track_refund"]
