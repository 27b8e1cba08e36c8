"""The handoff a human agent reads when the classifier escalates, and what the customer is told meanwhile."""

import re
from dataclasses import dataclass

from supportmesh_core import resolution

from .classifier import Classification

_WHY = {
    "threat": "the message contains threatening language",
    "self_harm": "the customer writes about harming themselves: reach out personally, today",
    "legal": "the customer mentions legal action",
    "fraud": "the customer reports possible fraud or an unauthorised payment",
    "chargeback": "the customer mentions a chargeback or a dispute with their bank",
    "vip": "the customer identifies as a VIP / premium customer",
    "human_requested": "the customer asked for a human agent",
    "negative_sentiment": "very negative sentiment",
    "low_confidence": "the classifier is not confident of the intent",
}
_CUSTOMER_NOTE = {
    "human_requested": (
        "You asked to speak with a person, so we have passed your request to our support team. "
        "A member of the team will follow up with you."
    ),
}
_DEFAULT_NOTE = (
    "We have passed your message to a member of our support team, who will review it and follow up with you."
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Customer:
    name: str = ""
    email: str = ""
    customer_id: str = ""


def first_sentences(text: str, count: int = 2, limit: int = 300) -> str:
    """The opening `count` sentences of `text` on one line, cut at `limit` characters."""
    flat = " ".join(text.split())
    opening = " ".join(_SENTENCE_END.split(flat)[:count])
    return opening if len(opening) <= limit else opening[: limit - 1].rstrip() + "…"


def _who(customer: Customer, c: Classification) -> str:
    name = customer.name or next((e.value for e in c.entities if e.type == "name"), "")
    email = customer.email or next((e.value for e in c.entities if e.type == "email"), "")
    parts = [name or "unknown name", f"<{email}>" if email else "no e-mail"]
    if customer.customer_id:
        parts.append(f"customer id {customer.customer_id}")
    return " ".join(parts)


def _why(reason: str, c: Classification) -> str:
    why = _WHY.get(reason, reason)
    if reason == "negative_sentiment":
        why += f" ({c.sentiment:+.2f})"
    elif reason == "low_confidence":
        why += " (" + ", ".join(f"{a.intent} {a.score:.2f}" for a in c.alternatives) + ")"
    return why


def summary(customer: Customer, subject: str, body: str, c: Classification, reason: str) -> str:
    """Who, what, why escalated and what was found, for the human agent."""
    entities = "; ".join(f"{e.type} {e.value}" for e in c.entities) or "none"
    lines = [
        f"Escalated at intake ({reason}): {_why(reason, c)}.",
        f"Customer: {_who(customer, c)}",
        f"Intent: {c.intent} ({c.category}), confidence {c.confidence:.2f}; priority {c.priority}; "
        f"sentiment {c.sentiment:+.2f}; flags: {', '.join(c.flags) or 'none'}",
        f"Subject: {subject.strip() or '(none)'}",
        f"Message: {first_sentences(body)}",
        f"Entities found: {entities}",
        "Nothing has been looked up or changed yet.",
    ]
    if guide := resolution.load().guideline_line(c.intent, reason):
        lines.append(guide)
    return "\n".join(lines)


def customer_message(customer: Customer, reason: str) -> str:
    """A short, honest note for the customer: a person will follow up; no promises about the outcome."""
    first_name = customer.name.split()[0] if customer.name.strip() else ""
    greeting = (
        f"Hi {first_name}, thank you for your message." if first_name else "Thank you for your message."
    )
    # The safety rules' wording is the contract's (self-harm carries the crisis line), the same at every stage.
    rule = resolution.load().safety.get(reason)
    return f"{greeting} {rule.told if rule else _CUSTOMER_NOTE.get(reason, _DEFAULT_NOTE)}"
