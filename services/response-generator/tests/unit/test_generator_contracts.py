"""One test per intent: the reply does what the intent's resolution contract says, and never what it forbids."""

import pytest
from response_generator.domain.compose import Handoff, Reply, compose
from supportmesh.v1.envelope_pb2 import (
    Action,
    Article,
    Entity,
    Envelope,
    OrderFacts,
    PaymentLine,
    PaymentMethodFacts,
)
from supportmesh_core import resolution

pytestmark = pytest.mark.unit

CONTRACTS = resolution.load()
MIN_CONF, MAX_STEPS = 0.6, 10
CANCELLED = OrderFacts(order_id="#W2378156", status="cancelled", tracking_ids=[], item_names=["Desk Lamp"],
                       total=80.0, user_id="yusuf_rossi_9620",
                       payments=[PaymentLine(transaction_type="payment", amount=80.0,
                                             payment_method="Mastercard credit card ending in 2478"),
                                 PaymentLine(transaction_type="refund", amount=80.0,
                                             payment_method="Mastercard credit card ending in 2478")])
PENDING = OrderFacts(order_id="#W5555555", status="pending", tracking_ids=[], item_names=["Office Chair"],
                     total=212.5, user_id="yusuf_rossi_9620",
                     payments=[PaymentLine(transaction_type="payment", amount=212.5, payment_method="PayPal account")])
ARTICLE = Article(id="Outlook/keeps-asking-password", title="Outlook keeps asking for a password",
                  url="https://learn.microsoft.com/x", steps=["Clear cached credentials", "Restart Outlook"])
METHODS = [PaymentMethodFacts(id="credit_card_1", description="Mastercard credit card ending in 2478"),
           PaymentMethodFacts(id="gift_card_2", description="gift card (balance $20.00)")]
ADDRESS = "763 Broadway, Suite 135, Philadelphia, PA 19122, USA"
POLICY_REASON = "Order #W5555555 is pending, so it can be cancelled."
PROPOSAL = Action(name="cancel_pending_order", status="proposed", idempotency_key="k1",
                  detail="cancel order #W5555555 (Office Chair), refunding $212.50 to your PayPal account")


def envelope(intent: str, order: OrderFacts | None = PENDING, verified: bool = True) -> Envelope:
    env = Envelope()
    env.ticket.ticket_id, env.ticket.body = "T-1", "Hello, a question."
    c = env.classification
    c.intent, c.confidence, c.category = intent, 0.9, "TECHNICAL" if intent == "technical_support" else "ORDER"
    if order is not None:
        c.entities.append(Entity(type="order_id", value=order.order_id))
    if verified:
        r = env.retrieval
        r.customer_id, r.customer_name, r.default_address = "yusuf_rossi_9620", "Yusuf Rossi", ADDRESS
        r.payment_methods.extend(METHODS)
        r.orders.extend([order] if order is not None else [CANCELLED, PENDING])
    env.retrieval.articles.append(ARTICLE)
    env.analysis.steps.extend(ARTICLE.steps)
    if intent in ("cancel_order", "change_order", "change_shipping_address", "get_refund"):
        a = env.analysis
        a.policy_decision, a.policy_code, a.policy_reason = "allowed", "cancel_pending", POLICY_REASON
        a.actions.append(PROPOSAL)
    return env


# What each element must show in the reply built from the envelope above.
EXPECTED = {
    "order_status": ["#W5555555", "pending"],
    "refund_status": [],          # per intent below: the pending order has no refund
    "payments": ["$212.50", "PayPal account"],
    "cancellation_terms": ["can still be cancelled"],
    "payment_methods": ["Mastercard credit card ending in 2478", "gift card (balance $20.00)"],
    "default_address": [ADDRESS],
    "policy_decision": ["Order #W5555555 (Office Chair) is pending, so it can be cancelled.", "reply \"yes\""],
    "article_steps": ["1. Clear cached credentials", "Outlook keeps asking for a password"],
    "decline": ["outside what our support team can help with"],
}


def _check_never(intent: str, out: Reply | Handoff) -> None:
    text = out.text if isinstance(out, Reply) else out.customer_message
    assert not resolution.quotes_policy(text), "the agent policy is never quoted to a customer"
    assert "policy.md" not in text
    if isinstance(out, Reply):
        store = CONTRACTS.for_intent(intent).knowledge == "store"
        if store:
            assert not any(c.startswith("Outlook/") for c in out.citations), "no Microsoft article for a store question"
        if CONTRACTS.for_intent(intent).knowledge == "microsoft365":
            assert not any(c.startswith("help:") for c in out.citations), "no store page for a Microsoft problem"


@pytest.mark.parametrize("intent", sorted(CONTRACTS.intents))
def test_the_reply_follows_the_intents_contract(intent):
    contract = CONTRACTS.for_intent(intent)
    # A technical ticket naming an order is an order question (tested in test_generator_compose).
    named = None if contract.knowledge == "microsoft365" or intent == "out_of_scope" else PENDING
    out = compose(envelope(intent, order=named), MIN_CONF, MAX_STEPS)
    _check_never(intent, out)
    if contract.escalate.get("human_requested") == "always" or contract.always_escalates:
        assert isinstance(out, Handoff) and out.reason == (contract.always_escalates or "human_requested")
        for page in CONTRACTS.pages(intent):
            assert page.text in out.customer_message
        return
    assert isinstance(out, Reply), out
    for page in CONTRACTS.pages(intent):
        assert page.text in out.text and page.id in out.citations
    for element in contract.elements:
        for fact in EXPECTED.get(element, []):
            assert fact in out.text, f"{intent}: {element} should state {fact!r}"


def test_refund_status_states_the_refund_amount_and_method_from_the_payment_history():
    out = compose(envelope("track_refund", order=CANCELLED), MIN_CONF, MAX_STEPS)
    assert "a refund has been issued: $80.00 to your Mastercard credit card ending in 2478" in out.text
    assert "5 to 7 business days" in out.text and "help:refunds" in out.citations
    assert "Order total" not in out.text, "not the delivery status and total only"


def test_refund_status_of_an_order_without_a_refund_says_so_and_what_comes_next():
    out = compose(envelope("track_refund"), MIN_CONF, MAX_STEPS)
    assert "#W5555555 is pending: no refund has been issued for it yet" in out.text
    assert "if you cancel it, the full amount is refunded" in out.text


def test_refund_status_without_a_named_order_covers_the_customers_orders():
    out = compose(envelope("track_refund", order=None), MIN_CONF, MAX_STEPS)
    assert "$80.00" in out.text and "#W5555555 is pending" in out.text


@pytest.mark.parametrize("intent", ["track_order", "track_refund", "cancel_order", "check_invoice"])
def test_an_order_question_from_an_unverified_customer_asks_for_identity_and_states_no_order_fact(intent):
    out = compose(envelope(intent, verified=False), MIN_CONF, MAX_STEPS)
    assert isinstance(out, Reply) and "verify your identity" in out.text
    assert "$212.50" not in out.text and "pending" not in out.text.split("verify", 1)[0]


def test_payment_methods_of_an_unverified_customer_give_the_store_answer_and_offer_their_own():
    out = compose(envelope("check_payment_methods", order=None, verified=False), MIN_CONF, MAX_STEPS)
    assert "credit card, a PayPal account or a store gift card" in out.text
    assert "which payment methods you have saved" in out.text and "2478" not in out.text


def test_the_store_password_reset_is_answered_from_the_store_page_not_a_microsoft_article():
    out = compose(envelope("recover_password", order=None), MIN_CONF, MAX_STEPS)
    assert "Forgot password" in out.text and "spam" in out.text
    assert out.citations == ["help:password-reset"] and "Outlook" not in out.text


def test_a_named_order_that_is_not_the_customers_is_said_plainly():
    env = envelope("check_cancellation_fee", order=None)
    env.classification.entities.append(Entity(type="order_id", value="#W0000001"))
    out = compose(env, MIN_CONF, MAX_STEPS)
    assert "could not find order #W0000001" in out.text and "no cancellation fee" in out.text


def test_a_write_on_an_order_not_the_customers_says_it_could_not_be_found_once():
    env = envelope("cancel_order", order=None)
    env.classification.entities.append(Entity(type="order_id", value="#W0000001"))
    del env.analysis.actions[:]
    env.analysis.policy_decision, env.analysis.policy_code = "refused", "order_not_found"
    env.analysis.policy_reason = ("We could not find order #W0000001 among the orders on your account, and the "
                                  "store policy lets us act only on your own orders.")
    out = compose(env, MIN_CONF, MAX_STEPS)
    assert out.text.count("could not find order #W0000001") == 1


@pytest.mark.parametrize("flag", list(CONTRACTS.safety))
def test_a_safety_marker_is_never_answered_with_a_store_page(flag):
    env = envelope("check_refund_policy")
    env.classification.flags.append(flag)
    out = compose(env, MIN_CONF, MAX_STEPS)
    assert isinstance(out, Handoff) and out.reason == flag
    assert out.customer_message == CONTRACTS.safety[flag].told
    assert not any(p.text in out.customer_message for p in CONTRACTS.help.values())


def test_every_help_page_is_free_of_the_agent_policys_wording():
    assert [p.id for p in CONTRACTS.help.values() if resolution.quotes_policy(p.text)] == []
    assert resolution.quotes_policy("Each user has a profile containing unique user id, email, default address")


def test_an_out_of_scope_reading_of_a_ticket_naming_the_customers_order_answers_about_that_order():
    out = compose(envelope("out_of_scope"), MIN_CONF, MAX_STEPS)
    assert "Order #W5555555 (Office Chair) is pending" in out.text and "outside" not in out.text


def test_payment_methods_in_a_proposal_are_named_as_the_customer_knows_them():
    env = envelope("change_order")
    env.analysis.actions[0].detail = "change items of order #W5555555, difference charged to credit card credit_card_1"
    out = compose(env, MIN_CONF, MAX_STEPS)
    assert "charged to Mastercard credit card ending in 2478" in out.text and "credit_card_1" not in out.text


def test_the_human_agents_handoff_names_the_guideline_to_follow():
    env = envelope("track_refund")
    env.classification.confidence = 0.3
    out = compose(env, MIN_CONF, MAX_STEPS)
    assert isinstance(out, Handoff)
    assert "Agent guideline (Product Defect / Refund Status): Pull up Account; Validate Purchase" in out.summary
    assert "guideline" not in out.customer_message.lower()


def test_a_done_write_names_the_payment_method_as_the_customer_knows_it():
    env = envelope("cancel_order")
    env.analysis.actions[0].status = "done"
    env.analysis.actions[0].detail = ("Order #W5555555 has been cancelled. The refund of $212.50 goes back to "
                                      "PayPal account paypal_1 (within 5 to 7 business days).")
    env.retrieval.payment_methods.append(PaymentMethodFacts(id="paypal_1", description="PayPal account"))
    out = compose(env, MIN_CONF, MAX_STEPS)
    assert "goes back to PayPal account (within" in out.text and "paypal_1" not in out.text


def test_an_upset_customer_gets_one_apology_not_one_per_element():
    env = envelope("cancel_order")
    env.classification.sentiment = -0.6
    out = compose(env, MIN_CONF, MAX_STEPS)
    assert out.text.count("I'm sorry") == 1
