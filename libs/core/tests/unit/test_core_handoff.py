"""The handoff summary: one order of sections, empty ones left out, and for every escalation reason the mesh emits
the customer, what they asked, why a person is needed and what the customer was told."""

import re

import pytest
import yaml
from supportmesh.v1.agent_reply_pb2 import AgentReply
from supportmesh.v1.envelope_pb2 import (
    Action,
    Analysis,
    Article,
    Classification,
    Entity,
    Envelope,
    IntentScore,
    OrderFacts,
    Retrieval,
)
from supportmesh.v1.ticket_pb2 import Customer, Ticket
from supportmesh_core import handoff, resolution
from supportmesh_core.handoff import Handoff, Order, Step, render
from supportmesh_core.settings import REPO_ROOT

pytestmark = pytest.mark.unit

BODY = "Hi, my order #W2378156 was due yesterday. Where is it? I need it for a trip."
HEADS = ("Escalated", "Customer:", "Asked", "Entities found:", "Order ", "Articles found:", "Policy:", "Diagnosis:",
         "Executed:", "Proposed, not executed:", "Degraded:", "Why a human:", "Customer told:", "Agent guideline")


def received() -> Envelope:
    """A ticket as read from tickets.inbound (held back at intake, or the runner failing at the first stage)."""
    return Envelope(ticket=Ticket(ticket_id="T-1", conversation_id="C-1", subject="Late order", body=BODY,
                                  customer=Customer(name="Yusuf Rossi", email="yusuf@example.com")))


def classified(intent: str = "track_order", flags: tuple[str, ...] = ()) -> Envelope:
    """Classified at intake: escalated there, or by the context-compressor."""
    env = received()
    env.classification.CopyFrom(Classification(
        intent=intent, category="ORDER", confidence=0.42, sentiment=-0.9, priority="high", flags=list(flags),
        entities=[Entity(type="order_id", value="#W2378156")],
        alternatives=[IntentScore(intent=intent, score=0.42), IntentScore(intent="get_refund", score=0.3)]))
    return env


def looked_up(intent: str = "track_order", flags: tuple[str, ...] = ()) -> Envelope:
    """Past the retriever and the analyst: the verified customer, their order, an article, the policy decision."""
    env = classified(intent, flags)
    env.retrieval.CopyFrom(Retrieval(
        customer_id="yusuf_rossi_9620", customer_name="Yusuf Rossi",
        orders=[OrderFacts(order_id="#W2378156", status="pending", total=812.4, item_names=["Office Chair"])],
        articles=[Article(id="help:shipping", title="Shipping times")], lookup_errors=["payments: UNAVAILABLE"]))
    env.analysis.CopyFrom(Analysis(
        policy_decision="needs_human", policy_code="refund_above_limit", policy_reason="The refund is above $500.",
        actions=[Action(name="cancel_pending_order", status="proposed", detail="cancel #W2378156",
                        idempotency_key="k1"),
                 Action(name="open_case", status="done", detail="Case CASE-1 opened", idempotency_key="k2")]))
    env.degradations.append("retriever: skipped (low_budget)")
    return env


def agent_reply() -> Envelope:
    """A human agent's reply on its way to the customer, as the context-compressor hands it to the analyst."""
    env = Envelope(ticket=Ticket(ticket_id="R-1", conversation_id="C-1", channel="agent-desk",
                                 body="Good news: I approved your refund."))
    env.agent_reply.CopyFrom(AgentReply(ticket_id="T-1", agent_id="agent:alice", text=env.ticket.body))
    env.classification.intent = "agent_reply"
    env.analysis.actions.append(Action(name="issue_refund", status="refused", detail="already approved"))
    return env


TOLD = "A member of our support team will reply to you."
# Every reason an escalation carries (grep `reason=`, `_handoff(env, "…"` and `escalation(env, "…"` in
# services/*/src and libs/core/src), with the stage that emits it and what the envelope holds there. The contract's
# safety rules and escalate reasons are checked to be here below.
EMITTED = [
    # intent-classifier, at intake
    ("rate_limited", "intake", received, "held back at intake (customer limit): this customer sent more than 5"),
    ("self_harm", "intake", lambda: classified(flags=("self_harm",)), "the customer writes about harming themselves"),
    ("threat", "intake", lambda: classified(flags=("threat",)), "the message contains threatening language"),
    ("vip", "intake", lambda: classified(flags=("vip",)), "the customer identifies as a VIP / premium customer"),
    ("human_requested", "intake", lambda: classified("contact_human_agent"), "the customer asked for a human agent"),
    ("negative_sentiment", "intake", lambda: classified("complaint"), "very negative sentiment (-0.90)"),
    ("low_confidence", "intake", classified, "the classifier is not confident of the intent (track_order 0.42)"),
    # context-compressor
    ("identity_mismatch", "context-compressor", classified, "the ticket names another customer than the one who "
                                                            "opened this conversation"),
    # technical-analyst: the policy, the safety cases, commerce's answers, an agent's reply
    ("refund_above_limit", "technical-analyst", looked_up, "The refund is above $500. Commerce opened case CASE-1"),
    ("no_grounding", "technical-analyst", lambda: looked_up("technical_support"), "no knowledge-base article matched"),
    ("action_failed", "technical-analyst", looked_up, "cancel_pending_order on order #W2378156 failed: UNAVAILABLE"),
    ("legal", "technical-analyst", lambda: looked_up(flags=("legal",)), "order #W2378156: total $812.40"),
    ("fraud", "technical-analyst", lambda: looked_up(flags=("fraud",)), "payment $812.40 (Visa ending in 4242)"),
    ("chargeback", "technical-analyst", lambda: looked_up(flags=("chargeback",)), "1 payment(s) for this order"),
    ("duplicate_charge", "technical-analyst", lambda: looked_up(flags=("duplicate_charge",)), "2 payments of $812.40"),
    ("unexpected_charge", "technical-analyst", lambda: looked_up(flags=("unexpected_charge",)), "a charge of $9.99"),
    ("approval_refused", "technical-analyst", agent_reply, "the reply of agent:alice to ticket T-1 was NOT sent"),
    # response-generator: the contract's and its own reasons
    ("complaint", "response-generator", lambda: looked_up("complaint"), "the complaint contract hands every such "
                                                                         "ticket to a person"),
    ("needs_human", "response-generator", looked_up, "the policy reserves this for a human"),
    ("no_policy_decision", "response-generator", lambda: looked_up("cancel_order"), "no store-policy decision"),
    ("template_error", "response-generator", looked_up, "the drafted reply still contained a template placeholder"),
    ("degraded", "response-generator", looked_up, "order lookup failed: payments: UNAVAILABLE"),
    # the stage runner, at any stage
    ("degraded", "retriever", classified, "retriever failed 5+ tickets in a row; not tried"),
    ("stage_failed", "retriever", classified, "retriever failed 3 times (RuntimeError: elasticsearch said no)"),
    ("routing_error", "intent-classifier", received, "intent-classifier had no next stage on the routing slip"),
]


def test_every_reason_of_the_contract_and_the_code_is_in_the_table():
    contracts = resolution.load()
    escalated = {reason for contract in contracts.intents.values() for reason in contract.escalate}
    # The literal reasons of the stages' and the runner's escalations, and the classifier's escalate-now rules.
    written = re.compile(r'(?:reason=|(?:_handoff|escalation)\(\s*env,\s*)"(\w+)"')
    sources = [path for path in [*REPO_ROOT.glob("services/*/src/**/*.py"), *REPO_ROOT.glob("libs/core/src/**/*.py")]
               if "commerce" not in path.parts]   # the store answers calls; it never escalates
    in_code = {reason for path in sources for reason in written.findall(path.read_text(encoding="utf-8"))}
    now = yaml.safe_load((REPO_ROOT / "services/intent-classifier/src/intent_classifier/workflows.yaml")
                         .read_text(encoding="utf-8"))["escalate_now"]
    at_intake = {*now["flags"], *now["intents"].values(), "negative_sentiment"}
    assert {"stage_failed", "routing_error", "rate_limited", "template_error"} <= in_code
    assert set(contracts.safety) | escalated | in_code | at_intake <= {reason for reason, *_ in EMITTED}


@pytest.mark.parametrize(("reason", "stage", "envelope", "why"), EMITTED,
                         ids=[f"{reason}@{stage}" for reason, stage, *_ in EMITTED])
@pytest.mark.parametrize("told", [TOLD, ""], ids=["told", "told-nothing"])
def test_every_summary_has_the_customer_the_question_why_and_what_they_were_told(reason, stage, envelope, why, told):
    env = envelope()
    text = handoff.summary(env, reason, why, told, stage=stage)
    lines = text.splitlines()
    assert lines[0] == f"Escalated at {stage} ({reason})"
    customer = next(line for line in lines if line.startswith("Customer: "))
    assert "Yusuf Rossi <yusuf@example.com>" in customer or "the customer of ticket T-1" in customer
    asked = next(line for line in lines if line.startswith("Asked ("))
    assert "Where is it?" in asked or "I approved your refund" in asked
    assert f"Why a human: {why}" in lines
    assert f"Customer told: {told or 'nothing yet'}" in lines
    for line in lines[1:]:   # no section without its text
        assert line.startswith(HEADS) and line.partition(": ")[2].strip(), line


def test_the_sections_come_in_one_order_and_empty_ones_are_left_out():
    full = Handoff(
        reason="refund_above_limit", why="above the limit", told="We will reply.", stage="technical-analyst",
        name="Ada Lovelace", email="ada@example.com", customer_id="ada_1", verified=True, intent="get_refund",
        confidence=0.91, sentiment=-0.2, priority="high", flags=("order_request",), subject="Refund", message=BODY,
        entities=("order_id #W1",), orders=(Order("#W1", "delivered", 650.0, ("Lamp",), ("1234",)),),
        articles=("help:refunds Refunds",), policy="needs_human (refund_above_limit) above $500",
        diagnosis="none needed", steps=(Step("issue_refund", "refused", "needs approval", "k"),
                                        Step("return_items", "proposed", "return the lamp", "k2")),
        degraded=("payments: UNAVAILABLE",), guideline="Agent guideline (X / Y): Pull up Account")
    assert render(full).splitlines() == [
        "Escalated at technical-analyst (refund_above_limit)",
        "Customer: Ada Lovelace <ada@example.com>, verified customer ada_1",
        "Asked (get_refund, confidence 0.91, sentiment -0.20, priority high; flags: order_request): Refund — " + BODY,
        "Entities found: order_id #W1",
        "Order #W1: delivered, total 650.00, items: Lamp, tracking: 1234",
        "Articles found: help:refunds Refunds",
        "Policy: needs_human (refund_above_limit) above $500",
        "Diagnosis: none needed",
        "Executed: issue_refund (refused, needs approval, key k)",
        "Proposed, not executed: return_items (return the lamp, key k2)",
        "Degraded: payments: UNAVAILABLE",
        "Why a human: above the limit",
        "Customer told: We will reply.",
        "Agent guideline (X / Y): Pull up Account",
    ]
    assert render(Handoff(reason="stage_failed", why="", told="")).splitlines() == [
        "Escalated (stage_failed)", "Customer: unknown name no e-mail, identity not verified",
        "Asked (not classified): (no message)", "Why a human: stage_failed", "Customer told: nothing yet"]


def test_the_envelope_gives_the_verified_customer_the_orders_and_the_contracts_guideline():
    facts = handoff.from_envelope(looked_up("track_refund"), "refund_above_limit", "above the limit", TOLD)
    assert (facts.name, facts.customer_id, facts.verified) == ("Yusuf Rossi", "yusuf_rossi_9620", True)
    assert facts.orders == (Order("#W2378156", "pending", 812.4, ("Office Chair",), ()),)
    assert [step.status for step in facts.steps] == ["proposed", "done"]
    assert facts.degraded == ("retriever: skipped (low_budget)", "payments: UNAVAILABLE")
    assert facts.guideline.startswith("Agent guideline (Product Defect / Refund Status): Pull up Account")
    # A safety reason's own guideline, not the intent's.
    fraud = handoff.from_envelope(looked_up("track_refund", ("fraud",)), "fraud", "possible fraud", TOLD)
    assert fraud.guideline.startswith("Agent guideline (Manage Account / Status Service Added)")


def test_a_ticket_claiming_a_customer_id_is_not_called_verified_and_entities_stand_in_for_a_missing_name():
    env = classified()
    env.ticket.customer.CopyFrom(Customer(customer_id="someone_1"))
    env.classification.entities.append(Entity(type="name", value="Flo Flood"))
    text = handoff.summary(env, "low_confidence", "unsure", TOLD, stage="intake")
    assert "Customer: Flo Flood no e-mail, customer id someone_1 (not verified)" in text.splitlines()


def test_a_long_message_is_cut_and_the_escalation_carries_reason_summary_and_message():
    env = received()
    env.ticket.body = "word " * 400
    esc = handoff.escalation(env, "stage_failed", "it broke", TOLD, stage="retriever", priority="high")
    asked = next(line for line in esc.summary.splitlines() if line.startswith("Asked"))
    assert len(asked) < 560 and asked.endswith("…")
    assert (esc.reason, esc.customer_message, esc.priority) == ("stage_failed", TOLD, "high")
