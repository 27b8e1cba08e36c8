"""The handoff summary a human agent reads when a ticket is escalated: one format, whichever stage escalates."""

import re
from dataclasses import dataclass

from supportmesh.v1.envelope_pb2 import Envelope
from supportmesh.v1.outcomes_pb2 import Escalation

from . import resolution

PROPOSED = "proposed"   # an Action's status while it waits for the customer's "yes" (never executed)
MESSAGE_SENTENCES, MESSAGE_CHARS = 8, 500   # of the customer's message: its facts, readable at a glance
ARTICLES = 3
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Order:
    order_id: str
    status: str = ""
    total: float = 0.0
    items: tuple[str, ...] = ()
    tracking: tuple[str, ...] = ()


@dataclass(frozen=True)
class Step:
    """An action of the ticket: executed (done, refused, failed, skipped) or proposed and not executed."""

    name: str
    status: str
    detail: str = ""
    key: str = ""


@dataclass(frozen=True)
class Handoff:
    """Everything the summary says, each field a section or a part of one; an empty one is left out."""

    reason: str                    # the escalation's reason code
    why: str                       # why a human is needed, in words
    told: str                      # what the customer was told meanwhile ("" when nothing)
    stage: str = ""                # where it was escalated: "intake", or the stage's service
    name: str = ""
    email: str = ""
    customer_id: str = ""
    verified: bool = False         # customer_id is the store's, checked by the retriever (else the ticket's claim)
    in_reply_to: str = ""          # the ticket an agent's reply answers, when the escalated message is that reply
    agent: str = ""
    intent: str = ""
    confidence: float | None = None
    sentiment: float | None = None
    priority: str = ""
    flags: tuple[str, ...] = ()
    subject: str = ""
    message: str = ""
    entities: tuple[str, ...] = ()         # "type value", as the classifier found them in the message
    orders: tuple[Order, ...] = ()
    articles: tuple[str, ...] = ()         # "id title"
    policy: str = ""
    diagnosis: str = ""
    steps: tuple[Step, ...] = ()
    degraded: tuple[str, ...] = ()
    guideline: str = ""                    # the agent guideline line of the resolution contract


def first_sentences(text: str, count: int = 2, limit: int = 300) -> str:
    """The opening `count` sentences of `text` on one line, cut at `limit` characters."""
    flat = " ".join(text.split())
    opening = " ".join(_SENTENCE_END.split(flat)[:count])
    return opening if len(opening) <= limit else opening[: limit - 1].rstrip() + "…"


def _customer(handoff: Handoff) -> str:
    if handoff.in_reply_to and not (handoff.name or handoff.email):
        return f"the customer of ticket {handoff.in_reply_to} (this message is {handoff.agent or 'an agent'}'s reply)"
    who = f"{handoff.name or 'unknown name'} {f'<{handoff.email}>' if handoff.email else 'no e-mail'}"
    if handoff.verified and handoff.customer_id:
        return f"{who}, verified customer {handoff.customer_id}"
    if handoff.customer_id:
        return f"{who}, customer id {handoff.customer_id} (not verified)"
    return f"{who}, identity not verified"


def _asked(handoff: Handoff) -> str:
    about = [handoff.intent or "not classified"]
    if handoff.confidence is not None:
        about.append(f"confidence {handoff.confidence:.2f}")
    if handoff.sentiment is not None:
        about.append(f"sentiment {handoff.sentiment:+.2f}")
    if handoff.priority:
        about.append(f"priority {handoff.priority}")
    flags = f"; flags: {', '.join(handoff.flags)}" if handoff.flags else ""
    message = first_sentences(handoff.message, MESSAGE_SENTENCES, MESSAGE_CHARS)
    text = " — ".join(part for part in (" ".join(handoff.subject.split()), message) if part) or "(no message)"
    if handoff.in_reply_to:
        text = f"see ticket {handoff.in_reply_to}; the reply: {text}"
    return f"({', '.join(about)}{flags}): {text}"


def _order(order: Order) -> str:
    return (f"Order {order.order_id}: {order.status or 'status unknown'}, total {order.total:.2f}, "
            f"items: {', '.join(order.items) or 'none listed'}, tracking: {', '.join(order.tracking) or 'none'}")


def _step(step: Step, with_status: bool) -> str:
    said = [part for part in (step.status if with_status else "", step.detail, f"key {step.key}" if step.key else "")
            if part]
    return f"{step.name} ({', '.join(said)})" if said else step.name


def render(handoff: Handoff) -> str:
    """The summary: headline, customer, what they asked, what was found, done and proposed, what was degraded, why
    a human, what the customer was told and the agent guideline, in that order, one line each, empty ones left out."""
    executed = [_step(step, True) for step in handoff.steps if step.status != PROPOSED]
    proposed = [_step(step, False) for step in handoff.steps if step.status == PROPOSED]
    sections = [
        ("Escalated", f"at {handoff.stage} ({handoff.reason})" if handoff.stage else f"({handoff.reason})"),
        ("Customer:", _customer(handoff)),
        ("Asked", _asked(handoff)),
        ("Entities found:", "; ".join(handoff.entities)),
        *(("", _order(order)) for order in handoff.orders),
        ("Articles found:", "; ".join(handoff.articles)),
        ("Policy:", handoff.policy),
        ("Diagnosis:", handoff.diagnosis),
        ("Executed:", "; ".join(executed)),
        ("Proposed, not executed:", "; ".join(proposed)),
        ("Degraded:", "; ".join(handoff.degraded)),
        ("Why a human:", handoff.why.strip() or handoff.reason),
        ("Customer told:", handoff.told.strip() or "nothing yet"),
        ("", handoff.guideline),
    ]
    return "\n".join(f"{head} {body}".strip() for head, body in sections if body.strip())


def from_envelope(env: Envelope, reason: str, why: str, told: str, *, stage: str = "",
                  contracts: resolution.Contracts | None = None) -> Handoff:
    """What the envelope holds for the human agent; the guideline from `contracts` (default: the process's)."""
    ticket, classification = env.ticket, env.classification
    retrieval, analysis = env.retrieval, env.analysis
    found = {entity.type: entity.value for entity in reversed(classification.entities)}   # the first of each type
    reply = env.agent_reply if env.HasField("agent_reply") else None
    scored = bool(classification.intent) and reply is None   # an agent's reply carries a label, no scores
    code = f"({analysis.policy_code})" if analysis.policy_code else ""
    policy = " ".join(part for part in (analysis.policy_decision, code, analysis.policy_reason) if part)
    return Handoff(
        reason=reason, why=why, told=told, stage=stage,
        name="" if reply else retrieval.customer_name or ticket.customer.name or found.get("name", ""),
        email="" if reply else ticket.customer.email or found.get("email", ""),
        customer_id=retrieval.customer_id or ticket.customer.customer_id, verified=bool(retrieval.customer_id),
        in_reply_to=reply.ticket_id if reply else "", agent=reply.agent_id if reply else "",
        intent=classification.intent,
        confidence=classification.confidence if scored else None,
        sentiment=classification.sentiment if scored else None,
        priority=classification.priority, flags=tuple(classification.flags),
        subject=ticket.subject, message=reply.text if reply else ticket.body,
        entities=tuple(f"{entity.type} {entity.value}" for entity in classification.entities),
        orders=tuple(Order(order.order_id, order.status, order.total, tuple(order.item_names),
                           tuple(order.tracking_ids)) for order in retrieval.orders),
        articles=tuple(f"{article.id} {article.title}" for article in retrieval.articles[:ARTICLES]),
        policy=policy, diagnosis=analysis.diagnosis,
        steps=tuple(Step(action.name, action.status, action.detail, action.idempotency_key)
                    for action in analysis.actions),
        degraded=(*env.degradations, *retrieval.lookup_errors),
        guideline=_guideline(contracts, classification.intent, reason),
    )


def _guideline(contracts: resolution.Contracts | None, intent: str, reason: str) -> str:
    try:
        # A guideline without actions is still named, without an empty list after it.
        return (contracts or resolution.load()).guideline_line(intent, reason).removesuffix(": ")
    except resolution.ContractError:
        # The guideline helps the agent; it is no condition of the handoff, which must reach a person regardless
        # (the runner's own escalations run in every stage, also one that never loads the contracts otherwise).
        return ""


def summary(env: Envelope, reason: str, why: str, told: str, *, stage: str = "",
            contracts: resolution.Contracts | None = None) -> str:
    """The rendered summary of what `env` holds, escalated for `reason`."""
    return render(from_envelope(env, reason, why, told, stage=stage, contracts=contracts))


def escalation(env: Envelope, reason: str, why: str, told: str, *, stage: str = "",
               contracts: resolution.Contracts | None = None, **fields: object) -> Escalation:
    """The Escalation of `env`: its reason, the summary, what the customer is told and any other `fields`."""
    return Escalation(reason=reason, summary=summary(env, reason, why, told, stage=stage, contracts=contracts),
                      customer_message=told, **fields)
