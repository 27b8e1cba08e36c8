"""Why the intake escalates a ticket (for supportmesh_core.handoff's summary), and what the customer is told."""

from dataclasses import dataclass

from supportmesh.v1.envelope_pb2 import Classification
from supportmesh_core import resolution

INTAKE = "intake"   # where the summary says the ticket was escalated
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


@dataclass(frozen=True)
class Customer:
    name: str = ""
    email: str = ""
    customer_id: str = ""


def why(reason: str, classification: Classification) -> str:
    """Why the intake hands the ticket to a person, with the scores behind a sentiment or confidence reason."""
    said = _WHY.get(reason, reason)
    if reason == "negative_sentiment":
        said += f" ({classification.sentiment:+.2f})"
    elif reason == "low_confidence":
        said += " (" + ", ".join(f"{alt.intent} {alt.score:.2f}" for alt in classification.alternatives) + ")"
    return said


def customer_message(customer: Customer, reason: str) -> str:
    """A short, honest note for the customer: a person will follow up; no promises about the outcome."""
    first_name = customer.name.split()[0] if customer.name.strip() else ""
    greeting = (
        f"Hi {first_name}, thank you for your message." if first_name else "Thank you for your message."
    )
    # The safety rules' wording is the contract's (self-harm carries the crisis line), the same at every stage.
    rule = resolution.load().safety.get(reason)
    return f"{greeting} {rule.told if rule else _CUSTOMER_NOTE.get(reason, _DEFAULT_NOTE)}"
