"""Unit tests of the reply composer: hand-built envelopes in, grounded replies or handoffs out."""

import itertools
import re

import pytest
from response_generator.domain.compose import Handoff, Reply, compose, find_placeholder
from supportmesh.v1.envelope_pb2 import Action, Article, Entity, Envelope, IntentScore, OrderFacts
from supportmesh_core.resolution import TWO_READINGS

pytestmark = pytest.mark.unit

MIN_CONF, MAX_STEPS = 0.6, 10
ORDER = OrderFacts(order_id="#W2378156", status="delivered", tracking_ids=["843053632392"],
                   item_names=["Office Chair", "Desk Lamp"], total=212.5, user_id="yusuf_rossi_9620")
POLICY_ARTICLE = Article(id="policy:return-delivered-order", title="Return delivered order",
                         url="https://shop.example/policy#return",
                         snippet="An order can only be returned if its status is <em>delivered</em>. "
                                 "The refund goes to the original payment method or an existing gift card.")
KB_ARTICLE = Article(id="kb-outlook-0x800ccc0e", title="Outlook error 0x800CCC0E when sending mail",
                     url="https://learn.microsoft.com/outlook-0x800ccc0e",
                     steps=["1. Open Outlook in safe mode", "Check the outgoing server port",
                            "Repair the profile"])


def envelope(intent: str, *, category: str = "ORDER", confidence: float = 0.92, sentiment: float = 0.0,
             verified: bool = True, orders=(), articles=(), entities=(), degradations=()) -> Envelope:
    env = Envelope()
    env.ticket.ticket_id, env.ticket.conversation_id = "T-1001", "C-77"
    env.ticket.subject, env.ticket.body = "Question", "Hi, about order #W2378156 ..."
    c = env.classification
    c.intent, c.category, c.confidence, c.sentiment = intent, category, confidence, sentiment
    c.entities.extend(Entity(type=t, value=v) for t, v in entities)
    if verified:
        env.retrieval.customer_id, env.retrieval.customer_name = "yusuf_rossi_9620", "Yusuf Rossi"
    env.retrieval.orders.extend(orders)
    env.retrieval.articles.extend(articles)
    env.degradations.extend(degradations)
    return env


def set_policy(env: Envelope, decision: str, code: str, reason: str, actions=()) -> Envelope:
    a = env.analysis
    a.policy_decision, a.policy_code, a.policy_reason = decision, code, reason
    a.actions.extend(actions)
    return env


def test_track_order_states_real_status_tracking_and_items_with_citation():
    out = compose(envelope("track_order", orders=[ORDER]), MIN_CONF, MAX_STEPS)
    assert isinstance(out, Reply)
    assert "delivered" in out.text and "843053632392" in out.text and "Office Chair" in out.text
    assert out.text.startswith("Hi Yusuf,")
    assert out.citations == ["order:#W2378156"]


def test_status_reply_states_the_order_total():
    big = OrderFacts(order_id="#W7", status="pending", total=1234.5, user_id="yusuf_rossi_9620")
    out = compose(envelope("track_order", orders=[ORDER, big]), MIN_CONF, MAX_STEPS)
    assert "Order total: $212.50." in out.text and "Order total: $1,234.50." in out.text


def test_a_ticket_naming_an_order_without_error_code_is_answered_from_the_order_not_the_kb():
    env = envelope("technical_support", category="TECHNICAL", orders=[ORDER], articles=[KB_ARTICLE],
                   entities=[("order_id", "#W2378156")])
    env.analysis.steps.extend(KB_ARTICLE.steps)
    out = compose(env, MIN_CONF, MAX_STEPS)
    assert isinstance(out, Reply) and "Order total: $212.50." in out.text and "delivered" in out.text
    assert "Outlook" not in out.text and out.citations == ["order:#W2378156"]


def test_a_ticket_naming_an_order_and_an_error_code_still_gets_troubleshooting():
    env = envelope("technical_support", category="TECHNICAL", orders=[ORDER], articles=[KB_ARTICLE],
                   entities=[("order_id", "#W2378156"), ("error_code", "0x800CCC0E")])
    out = compose(env, MIN_CONF, MAX_STEPS)
    assert "Open Outlook in safe mode" in out.text and out.citations == [KB_ARTICLE.id]


def test_track_order_lists_only_the_named_order():
    other = OrderFacts(order_id="#W1111111", status="pending", user_id="yusuf_rossi_9620")
    env = envelope("track_order", orders=[ORDER, other], entities=[("order_id", "W1111111")])
    out = compose(env, MIN_CONF, MAX_STEPS)
    assert "#W1111111" in out.text and "#W2378156" not in out.text
    assert "no tracking number" in out.text and out.citations == ["order:#W1111111"]


def test_cancel_pending_allowed_asks_confirmation_and_names_proposed_action():
    pending = OrderFacts(order_id="#W5", status="pending", total=80.0, user_id="yusuf_rossi_9620")
    env = set_policy(envelope("cancel_order", orders=[pending]), "allowed", "cancel_pending",
                     "Order #W5 is pending, so it can be cancelled (policy: Cancel pending order).",
                     [Action(name="cancel_pending_order", status="proposed",
                             detail="cancel order #W5 (total 80.00)", idempotency_key="k" * 32)])
    out = compose(env, MIN_CONF, MAX_STEPS)
    assert isinstance(out, Reply)
    assert "cancel order #W5" in out.text and '"yes"' in out.text and "nothing has been changed" in out.text
    assert "order:#W5" in out.citations


def test_cancel_delivered_refused_explains_and_offers_return():
    reason = ("Order #W2378156 is delivered, and only pending orders can be cancelled. A delivered order can be "
              "returned or exchanged instead.")
    env = set_policy(envelope("cancel_order", orders=[ORDER]), "refused", "cancel_not_pending", reason)
    out = compose(env, MIN_CONF, MAX_STEPS)
    assert isinstance(out, Reply)
    # The order's items are named where the reason names the order without them.
    assert reason.replace("#W2378156", "#W2378156 (Office Chair, Desk Lamp)") in out.text
    assert "start a return" in out.text
    assert "order:#W2378156" in out.citations


def test_executed_cancel_says_what_was_done_and_asks_nothing():
    pending = OrderFacts(order_id="#W2378156", status="pending", total=212.5, user_id="yusuf_rossi_9620")
    done = Action(name="cancel_pending_order", status="done", idempotency_key="k1",
                  detail="Order #W2378156 has been cancelled (reason: no longer needed). The refund of $212.50 "
                         "goes back to the visa card ending in 4242 (within 5 to 7 business days).")
    env = set_policy(envelope("cancel_order", orders=[pending]), "allowed", "cancel_pending_order_done",
                     "Order #W2378156 is pending, so it can be cancelled (policy: Cancel pending order). Please "
                     "confirm ...", [done])
    out = compose(env, MIN_CONF, MAX_STEPS)
    assert isinstance(out, Reply)
    assert "has been cancelled" in out.text and "$212.50" in out.text and "ending in 4242" in out.text
    assert "confirm" not in out.text and "nothing has been changed" not in out.text
    assert out.citations == ["order:#W2378156"]


def test_store_refusal_of_an_executed_cancel_is_quoted_and_claims_nothing():
    refused = Action(name="cancel_pending_order", status="refused", idempotency_key="k1",
                     detail="Order #W2378156 is delivered, and only pending orders can be cancelled.")
    env = set_policy(envelope("cancel_order", orders=[ORDER]), "refused", "cancel_pending_order_refused",
                     refused.detail, [refused])
    out = compose(env, MIN_CONF, MAX_STEPS)
    assert isinstance(out, Reply)
    assert "only pending orders can be cancelled" in out.text and "has been cancelled" not in out.text
    assert "return or an exchange" in out.text


def test_refund_above_limit_escalates_with_policy_code():
    env = set_policy(envelope("get_refund", orders=[ORDER]), "needs_human", "refund_above_limit",
                     "A refund of 812.40 on order #W2378156 is above the 500.00 limit an agent may approve.")
    out = compose(env, MIN_CONF, MAX_STEPS)
    assert isinstance(out, Handoff) and out.reason == "refund_above_limit"
    assert "812.40" in out.customer_message and "review" in out.customer_message
    assert "Yusuf Rossi" in out.summary and "#W2378156" in out.summary


def test_technical_reply_has_numbered_steps_and_cites_the_article():
    env = envelope("technical_support", category="TECHNICAL", articles=[KB_ARTICLE])
    env.analysis.diagnosis = 'The error code 0x800CCC0E match the known issue "Outlook error 0x800CCC0E".'
    env.analysis.steps.extend(KB_ARTICLE.steps)
    out = compose(env, MIN_CONF, MAX_STEPS)
    assert isinstance(out, Reply)
    numbered = "1. Open Outlook in safe mode\n2. Check the outgoing server port\n3. Repair the profile"
    assert numbered in out.text
    assert KB_ARTICLE.title in out.text and out.citations == [KB_ARTICLE.id]


def test_technical_steps_are_capped():
    env = envelope("technical_support", category="TECHNICAL", articles=[KB_ARTICLE])
    out = compose(env, MIN_CONF, 2)
    assert "2. Check" in out.text and "3." not in out.text


def test_technical_without_articles_escalates_no_grounding():
    out = compose(envelope("technical_support", category="TECHNICAL"), MIN_CONF, MAX_STEPS)
    assert isinstance(out, Handoff) and out.reason == "no_grounding"


def test_two_readings_are_answered_together_each_paragraph_once():
    env = envelope("track_order", confidence=0.48, sentiment=-0.6, orders=[ORDER],
                   entities=[("order_id", "#W2378156")])
    c = env.classification
    c.family, c.family_score = TWO_READINGS, 0.8
    c.alternatives.extend([IntentScore(intent="track_order", score=0.48), IntentScore(intent="delivery_period",
                                                                                        score=0.32)])
    out = compose(env, MIN_CONF, MAX_STEPS)
    assert isinstance(out, Reply)
    assert "843053632392" in out.text                                  # the order's status and tracking (first)
    assert "3 to 5 business days" in out.text                          # the delivery-time page (second)
    assert out.text.count("I'm sorry") == 1 and out.text.count("843053632392") == 1
    assert "order:#W2378156" in out.citations and "help:delivery-times" in out.citations


def test_two_readings_never_add_a_reading_that_always_goes_to_a_person():
    env = envelope("track_order", confidence=0.5, orders=[ORDER], entities=[("order_id", "#W2378156")])
    c = env.classification
    c.family, c.family_score = TWO_READINGS, 0.8
    c.alternatives.extend([IntentScore(intent="track_order", score=0.5),
                           IntentScore(intent="contact_human_agent", score=0.3)])
    alone = envelope("track_order", orders=[ORDER], entities=[("order_id", "#W2378156")])
    assert compose(env, MIN_CONF, MAX_STEPS).text == compose(alone, MIN_CONF, MAX_STEPS).text


@pytest.mark.parametrize("confidence", [0.0, 0.3, 0.59])
def test_low_confidence_escalates(confidence):
    out = compose(envelope("track_order", confidence=confidence, orders=[ORDER]), MIN_CONF, MAX_STEPS)
    assert isinstance(out, Handoff) and out.reason == "low_confidence"
    assert f"{confidence:.2f}" in out.summary


def test_a_ticket_routed_by_its_intent_family_counts_the_familys_score():
    env = set_policy(envelope("get_refund", confidence=0.45, orders=[ORDER]), "allowed", "several_requests",
                     "Order #W2378156 is delivered, so its items can be returned.",
                     [Action(name="return_delivered_order_items", status="proposed", idempotency_key="k",
                             detail="return Desk Lamp from order #W2378156 for a refund of 12.50")])
    env.classification.family, env.classification.family_score = "order_writes", 0.89
    out = compose(env, MIN_CONF, MAX_STEPS)
    assert isinstance(out, Reply) and "Once you confirm, we will return Desk Lamp" in out.text
    env.classification.family_score = 0.55
    assert compose(env, MIN_CONF, MAX_STEPS).reason == "low_confidence"


@pytest.mark.parametrize("intent", ["track_order", "cancel_order", "get_refund"])
def test_unverified_identity_asks_for_email_or_name_and_zip(intent):
    env = set_policy(envelope(intent, verified=False), "refused", "identity_not_verified", "verify first")
    out = compose(env, MIN_CONF, MAX_STEPS)
    assert isinstance(out, Reply)
    assert "e-mail address" in out.text and "full name and zip code" in out.text
    assert out.text.startswith("Hello,") and out.citations == []


def test_commerce_outage_on_order_lookup_escalates_degraded():
    env = envelope("track_order", verified=False, degradations=["commerce_unavailable"])
    env.retrieval.lookup_errors.append("GetOrder: UNAVAILABLE")
    out = compose(env, MIN_CONF, MAX_STEPS)
    assert isinstance(out, Handoff) and out.reason == "degraded" and "UNAVAILABLE" in out.summary


def test_out_of_scope_is_polite_and_lists_what_we_do():
    out = compose(envelope("out_of_scope", category="OUT_OF_SCOPE", verified=False), MIN_CONF, MAX_STEPS)
    assert isinstance(out, Reply)
    assert "outside what our support team can help with" in out.text and "refunds" in out.text


def test_negative_sentiment_opens_with_apology_neutral_does_not():
    sad = compose(envelope("track_order", sentiment=-0.8, orders=[ORDER]), MIN_CONF, MAX_STEPS)
    calm = compose(envelope("track_order", sentiment=-0.1, orders=[ORDER]), MIN_CONF, MAX_STEPS)
    assert "I'm sorry" in sad.text and "I'm sorry" not in calm.text


def test_an_intent_without_a_contract_quotes_the_snippet_and_cites_the_article():
    env = envelope("some_new_intent", category="REFUND", verified=False, articles=[POLICY_ARTICLE])
    out = compose(env, MIN_CONF, MAX_STEPS)
    assert isinstance(out, Reply)
    assert "only be returned if its status is delivered" in out.text and "<em>" not in out.text
    assert out.citations == [POLICY_ARTICLE.id]


def test_an_intent_without_a_contract_or_articles_escalates():
    out = compose(envelope("some_new_intent", category="INVOICE", entities=[]), MIN_CONF, MAX_STEPS)
    assert isinstance(out, Handoff) and out.reason == "no_grounding"


def test_action_intent_without_policy_decision_escalates():
    out = compose(envelope("cancel_order", orders=[ORDER]), MIN_CONF, MAX_STEPS)
    assert isinstance(out, Handoff) and out.reason == "no_policy_decision"


def test_customer_asking_for_a_human_is_handed_over():
    out = compose(envelope("contact_human_agent", category="CONTACT"), MIN_CONF, MAX_STEPS)
    assert isinstance(out, Handoff) and out.reason == "human_requested"


def test_placeholder_guard_checks_our_wording_not_quoted_article_text():
    assert find_placeholder("Hi {first_name}, order is ready", []) == "{first_name}"
    assert find_placeholder("Hi {{name}}", []) == "{{"
    step = r"Delete HKCU\Software\Microsoft\Office\{GUID} and restart"
    assert find_placeholder(f"1. {step}", [step]) is None
    assert find_placeholder("Hi Ada, all good", []) is None


def test_article_text_with_braces_is_still_answered():
    art = Article(id="kb-reg", title="Outlook profile is corrupt",
                  steps=[r"Delete the key HKCU\Software\Microsoft\Office\16.0\Outlook\Profiles\{GUID}",
                         "Restart Outlook"])
    out = compose(envelope("technical_support", category="TECHNICAL", articles=[art]), MIN_CONF, MAX_STEPS)
    assert isinstance(out, Reply) and "{GUID}" in out.text and out.citations == ["kb-reg"]


_INTENTS = ["track_order", "track_refund", "cancel_order", "change_order", "change_shipping_address",
            "get_refund", "technical_support", "out_of_scope", "check_refund_policy", "delivery_period",
            "newsletter_subscription"]
_DECISIONS = [("", "", ""),
              ("allowed", "cancel_pending", "Order #W2378156 is pending, so it can be cancelled."),
              ("refused", "cancel_not_pending",
               "Order #W2378156 is delivered; only pending orders can be cancelled."),
              ("refused", "order_not_identified", "Your account has several orders (#W2378156); which one?")]


@pytest.mark.parametrize(("intent", "verified", "sentiment", "decision"),
                         list(itertools.product(_INTENTS, [True, False], [-0.9, 0.0, 0.7], _DECISIONS)))
def test_no_reply_ever_contains_a_placeholder_or_an_unknown_order(intent, verified, sentiment, decision):
    category = "TECHNICAL" if intent == "technical_support" else "ORDER"
    env = envelope(intent, category=category, verified=verified, sentiment=sentiment, orders=[ORDER],
                   articles=[KB_ARTICLE if intent == "technical_support" else POLICY_ARTICLE])
    set_policy(env, *decision)
    out = compose(env, MIN_CONF, MAX_STEPS)
    if isinstance(out, Handoff):
        assert out.reason and out.summary and out.customer_message
        return
    assert out.text.strip() and not re.search(r"[{}]", out.text)
    # Every order number in a reply is one the lookups returned, and is cited.
    for oid in re.findall(r"#W\d+", out.text):
        assert oid == "#W2378156" and f"order:{oid}" in out.citations
    assert "None" not in out.text and "nan" not in out.text.split()


def _marked_write(intent: str, confidence: float) -> Envelope:
    env = set_policy(envelope(intent, confidence=confidence, orders=[ORDER]), "allowed", "return_delivered",
                     "Order #W2378156 is delivered, so its items can be returned.",
                     [Action(name="return_delivered_order_items", status="proposed", idempotency_key="k",
                             detail="return Desk Lamp from order #W2378156 for a refund of 12.50")])
    env.classification.flags.append("order_request")
    return env


def test_a_write_request_read_as_a_question_leads_with_the_decision_and_keeps_the_contract():
    env = _marked_write("check_payment_methods", 0.68)
    env.retrieval.payment_methods.add(description="Mastercard credit card ending in 2478")
    out = compose(env, MIN_CONF, MAX_STEPS)
    assert isinstance(out, Reply)
    body = out.text.split("\n\n", 1)[1]
    assert body.startswith("Order #W2378156 (Office Chair, Desk Lamp) is delivered")
    assert "Once you confirm, we will return Desk Lamp" in body and 'reply "yes"' in body
    assert body.index("Once you confirm") < body.index("Mastercard credit card ending in 2478")   # the contract's


def test_a_marked_write_request_below_the_floor_is_answered_from_the_decision():
    out = compose(_marked_write("get_refund", 0.36), MIN_CONF, MAX_STEPS)
    assert isinstance(out, Reply) and "Once you confirm, we will return Desk Lamp" in out.text
    unmarked = _marked_write("get_refund", 0.36)
    del unmarked.classification.flags[:]
    assert compose(unmarked, MIN_CONF, MAX_STEPS).reason == "low_confidence"
    undecided = envelope("check_payment_methods", confidence=0.36)
    undecided.classification.flags.append("order_request")   # no decision: the floor still holds
    assert compose(undecided, MIN_CONF, MAX_STEPS).reason == "low_confidence"


def test_a_question_without_a_write_decision_keeps_its_contract():
    env = envelope("check_refund_policy")
    set_policy(env, "not_applicable", "informational", "")
    out = compose(env, MIN_CONF, MAX_STEPS)
    assert isinstance(out, Reply) and "Once you confirm" not in out.text
