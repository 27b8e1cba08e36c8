"""The retail mesh evaluation: tickets and gold from the real scenarios, and how outcomes are scored."""

import pytest
from supportmesh_eval.mesh import proposes
from supportmesh_eval.retail_mesh_cases import (
    DEV,
    HELD_OUT,
    Case,
    OrderGold,
    build_cases,
    first_person,
    load_data,
    lookup_facts,
    score_lookup,
    score_write,
    split_scenarios,
    summarize,
)

pytestmark = pytest.mark.unit

ORDER = OrderGold("#W2378156", "delivered", ("843053632392",), 1819.92)


@pytest.fixture(scope="module")
def cases():
    tasks, db = load_data()
    return build_cases(tasks, db)


def test_cases_state_identity_and_request_with_gold_from_the_database(cases):
    first_lookup = next(c for c in cases if c.kind == "lookup" and c.scenario == "0")
    assert first_lookup.body.startswith("Hi. My name is Yusuf Rossi and my zip code is 19122.")
    assert first_lookup.order == ORDER
    write = next(c for c in cases if c.kind == "write" and c.scenario == "0")
    assert "I received my order #W2378156 and wish to exchange" in write.body
    assert write.writes == (("exchange_delivered_order_items", "#W2378156"),)
    assert write.category == "exchange_delivered_order_items"


def test_every_case_has_a_question_or_a_gold_and_no_second_person(cases):
    assert sum(c.kind == "lookup" for c in cases) >= 70
    for c in cases:
        assert " your " not in c.body.lower()
        if c.kind == "lookup":
            assert c.order is not None and c.order.order_id in c.body
        else:
            assert c.writes or c.transfer or c.category == "no_write"


def test_first_person_turns_the_scenario_around():
    said = first_person("You want to return your lamp. You're tired of it.")
    assert said == "I want to return my lamp. I'm tired of it."


def test_lookup_facts_depend_on_the_question():
    assert lookup_facts(Case("0", "lookup", "", question="status", order=ORDER)) == {"status": ["delivered"]}
    assert lookup_facts(Case("0", "lookup", "", question="amount", order=ORDER)) == {"amount": ["1819.92"]}
    pending = OrderGold("#W1", "pending", (), 10.0)
    assert lookup_facts(Case("0", "lookup", "", question="tracking", order=pending)) == {"status": ["pending"]}


def _response(text: str, actions=()) -> dict:
    return {"type": "response", "reply": {"text": text}, "actions": list(actions)}


def test_score_lookup_wants_every_fact_as_written():
    case = Case("0", "lookup", "", question="status_tracking", order=ORDER)
    assert score_lookup(case, _response("Order #W2378156 is delivered. Tracking number: 843053632392."))["right"]
    missing = score_lookup(case, _response("Order #W2378156 is undelivered."))
    assert not missing["right"] and missing["missing"] == ["delivered", "843053632392"]
    amount = Case("0", "lookup", "", question="amount", order=ORDER)
    assert score_lookup(amount, _response("You paid $1,819.92 in total."))["right"]
    assert not score_lookup(amount, _response("You paid $1819.9."))["right"]
    assert score_lookup(case, None)["verdict"] == "lost"
    escalated = score_lookup(case, {"type": "escalation", "reason": "low_confidence"})
    assert escalated["verdict"] == "escalated:low_confidence"


CANCEL = Case("1", "write", "", writes=(("cancel_pending_order", "#W1000001"),), category="cancel_pending_order")


def test_score_write_done_right_and_wrong_from_the_audit():
    done = [{"rpc": "CancelPendingOrder", "outcome": "done", "order_id": "#W1000001"}]
    assert score_write(CANCEL, _response("ok"), done, 500)["verdict"] == "done"
    other = [{"rpc": "CancelPendingOrder", "outcome": "done", "order_id": "#W2000002"}]
    result = score_write(CANCEL, _response("ok"), other, 500)
    assert result["verdict"] == "wrong_write" and not result["strict"] and not result["lenient"]


def test_score_write_policy_refusal_and_escalations():
    refused = [{"rpc": "CancelPendingOrder", "outcome": "refused", "order_id": "#W1000001"}]
    assert score_write(CANCEL, _response("no"), refused, 500)["strict"]
    assert score_write(CANCEL, {"type": "escalation", "reason": "low_confidence"}, [], 500)["verdict"] == \
        "escalated_other"
    transfer = Case("2", "write", "", transfer=True, category="transfer")
    assert score_write(transfer, {"type": "escalation", "reason": "human_requested"}, [], 500)["strict"]
    big_return = Case("3", "write", "", writes=(("return_delivered_order_items", "#W3"),), refund_amount=900.0)
    assert score_write(big_return, {"type": "escalation", "reason": "refund_above_limit"}, [], 500)["strict"]
    small_return = Case("3", "write", "", writes=(("return_delivered_order_items", "#W3"),), refund_amount=90.0)
    assert not score_write(small_return, {"type": "escalation", "reason": "refund_above_limit"}, [], 500)["strict"]


def test_score_write_proposals_count_only_when_lenient():
    right = _response("confirm?", [{"name": "cancel_pending_order", "status": "proposed",
                                     "detail": "cancel order #W1000001 (total 10.00)"}])
    result = score_write(CANCEL, right, [], 500)
    assert result["verdict"] == "proposed" and result["lenient"] and not result["strict"]
    wrong = _response("confirm?", [{"name": "cancel_pending_order", "status": "proposed",
                                     "detail": "cancel order #W9999999"}])
    assert score_write(CANCEL, wrong, [], 500)["verdict"] == "proposed_wrong"
    assert score_write(CANCEL, _response("Please send your e-mail."), [], 500)["verdict"] == "asked"
    assert score_write(CANCEL, None, [], 500)["verdict"] == "lost"


def test_summarize_gives_shares_by_question_and_category():
    lookups = [(Case("0", "lookup", "", question="status", order=ORDER), {"right": True}),
               (Case("1", "lookup", "", question="amount", order=ORDER), {"right": False})]
    writes = [(CANCEL, {"verdict": "done", "strict": True, "lenient": True}),
              (CANCEL, {"verdict": "proposed", "strict": False, "lenient": True})]
    report = summarize(lookups, writes)
    assert report["lookups"]["right"] == 0.5 and report["lookups"]["amount"]["right"] == 0.0
    assert report["writes"]["strict"] == 0.5 and report["writes"]["lenient"] == 1.0
    assert report["writes"]["by_category"]["cancel_pending_order"]["verdicts"] == {"done": 1, "proposed": 1}


def test_the_split_is_fixed_half_and_half_per_category(cases):
    split = split_scenarios(cases)
    assert split == split_scenarios(list(reversed(cases)))       # a function of the ids, not their order
    writes = [c for c in cases if c.kind == "write"]
    assert set(split) == {c.scenario for c in cases} and set(split.values()) == {DEV, HELD_OUT}
    for category in {c.category for c in writes}:
        ids = [c.scenario for c in writes if c.category == category]
        dev = sum(split[s] == DEV for s in ids)
        assert dev == (len(ids) + 1) // 2, category
    # The split written down in retail_mesh_cases' docstring (seed 4): these ids are dev.
    assert [s for s in ("0", "1", "3", "10", "110") if split[s] == DEV] == ["1", "3", "10", "110"]


def test_only_replies_proposing_actions_get_a_confirmation_turn():
    assert proposes(_response("confirm?", [{"name": "cancel_pending_order", "status": "proposed"}]))
    assert not proposes(_response("done", [{"name": "cancel_pending_order", "status": "done"}]))
    assert not proposes({"type": "escalation", "actions": [{"status": "proposed"}]})
    assert not proposes(None)
