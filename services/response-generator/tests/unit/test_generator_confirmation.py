"""Replies to the customer's answer to a proposal: what was done, dropped or refused, whatever "yes" classified as."""

import pytest
from response_generator.domain.compose import Handoff, Reply, compose
from supportmesh.v1.envelope_pb2 import Action, Envelope

pytestmark = pytest.mark.unit


def answered(code: str, reason: str = "", actions=(), confidence: float = 0.3) -> Envelope:
    env = Envelope()
    env.ticket.ticket_id, env.ticket.conversation_id, env.ticket.body = "T-2", "C-1", "Yes, please go ahead."
    env.classification.intent, env.classification.confidence = "out_of_scope", confidence
    env.retrieval.customer_id, env.retrieval.customer_name = "yusuf_rossi_9620", "Yusuf Rossi"
    env.analysis.policy_code, env.analysis.policy_reason = code, reason
    env.analysis.actions.extend(actions)
    return env


def test_a_confirmed_write_is_reported_in_the_stores_words_despite_low_confidence():
    done = Action(name="return_delivered_order_items", status="done", idempotency_key="k" * 32,
                  detail="The return of 1 item(s) from order #W2378156 (Desk Lamp) has been requested.")
    out = compose(answered("proposal_confirmed", actions=[done]), 0.6, 10)
    assert isinstance(out, Reply) and out.text.startswith("Hi Yusuf,")
    assert "As you confirmed" in out.text and "(Desk Lamp) has been requested" in out.text
    assert "yes" not in out.text.lower().split("confirmed", 1)[1]   # no new question asked


def test_a_refusal_by_the_store_and_a_dropped_proposal_are_explained():
    refused = compose(answered("proposal_confirmed_refused", "Order #W1 is delivered, and only pending orders "
                               "can be modified (policy: Modify pending order).",
                               [Action(name="modify_pending_order_items", status="refused")]), 0.6, 10)
    assert "only pending orders can be modified" in refused.text and "As you confirmed" not in refused.text
    declined = compose(answered("proposal_declined", "As you asked, nothing was changed: we will not cancel "
                                "order #W1."), 0.6, 10)
    assert "nothing was changed" in declined.text


def test_a_yes_with_nothing_to_confirm_is_told_so_not_declined_as_out_of_scope():
    out = compose(answered("nothing_to_confirm", "There is no request of yours waiting for a confirmation."),
                  0.6, 10)
    assert isinstance(out, Reply) and "no request of yours waiting" in out.text
    assert "outside what our support team can help with" not in out.text


def test_an_answer_with_nothing_to_report_goes_to_a_human():
    assert isinstance(compose(answered("proposal_confirmed"), 0.6, 10), Handoff)


def test_only_a_kept_proposal_asks_for_yes():
    env = answered("return_delivered", "Order #W1 is delivered, so its items can be returned.", confidence=0.9)
    env.classification.intent = "get_refund"
    env.analysis.policy_decision = "allowed"
    env.analysis.actions.append(Action(name="return_delivered_order_items", status="proposed",
                                       detail="return items of order #W1"))
    assert '"yes"' not in compose(env, 0.6, 10).text
    env.analysis.actions[0].idempotency_key = "k" * 32
    assert '"yes"' in compose(env, 0.6, 10).text
