"""Unit tests of which policy decisions the analyst executes."""

import pytest
from technical_analyst.domain.execution import CANCEL, REFUND, is_conditional, plan
from technical_analyst.domain.order_rules import ALLOWED, NEEDS_HUMAN, PolicyDecision

pytestmark = pytest.mark.unit

CANCEL_OK = PolicyDecision(ALLOWED, "cancel_pending", "pending", "#W1", identified_by="named")
REFUND_BIG = PolicyDecision(NEEDS_HUMAN, "refund_above_limit", "above", "#W1", amount=900.0)


@pytest.mark.parametrize("text", [
    "If it has not shipped, cancel it", "cancel #W1 only if the refund goes to a gift card",
    "cancel it unless it is already on its way", "cancel as long as the refund is immediate",
    "IF the price is the same, go ahead",
])
def test_conditional_requests_are_recognised(text):
    assert is_conditional(text)
    assert plan(CANCEL_OK, "T-1", text) is None and plan(REFUND_BIG, "T-1", text) is None


@pytest.mark.parametrize("text", [
    "Please cancel order #W1, I no longer need it", "I wonder if you can cancel #W1 today",
    "Could you check if #W1 can be cancelled? Please cancel it.", "cancel the gift order", "life changes",
])
def test_plain_requests_and_questions_are_not_conditions(text):
    assert not is_conditional(text)
    assert plan(CANCEL_OK, "T-1", text).action == CANCEL
    assert plan(REFUND_BIG, "T-1", text).action == REFUND


def test_a_cancel_of_an_order_picked_as_the_first_of_several_is_only_proposed():
    first = PolicyDecision(ALLOWED, "cancel_pending", "pending", "#W1", identified_by="first_item")
    assert plan(first, "T-1", "cancel the lamp and the keyboard") is None
    for how in ("named", "only", "items"):
        told = PolicyDecision(ALLOWED, "cancel_pending", "pending", "#W1", identified_by=how)
        assert plan(told, "T-1", "cancel the lamp").action == CANCEL


def test_a_cancel_the_classifier_read_only_through_an_intent_family_waits_for_the_yes():
    text = "Please cancel order #W1, I no longer need it"
    assert plan(CANCEL_OK, "T-1", text, sure=False) is None
    assert plan(REFUND_BIG, "T-1", text, sure=False).action == REFUND   # a case for a person, not a write
