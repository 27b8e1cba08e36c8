"""Ticket priority from the intent, the sentiment and the negative markers."""

from collections.abc import Iterable

LEVELS = ("low", "medium", "high", "urgent")

# Money and access problems hurt the customer most; questions about policies and options can wait.
_BASE = {
    "payment_issue": "high",
    "complaint": "high",
    "contact_human_agent": "high",
    "get_refund": "medium",
    "track_refund": "medium",
    "cancel_order": "medium",
    "change_order": "medium",
    "track_order": "medium",
    "change_shipping_address": "medium",
    "delivery_period": "medium",
    "recover_password": "medium",
    "registration_problems": "medium",
    "technical_support": "medium",
    "delete_account": "medium",
    "get_invoice": "medium",
}
_URGENT_FLAGS = {"legal", "fraud", "threat", "chargeback", "self_harm"}
_HIGH_FLAGS = {"duplicate_charge", "unexpected_charge"}   # money taken that should not have been
VERY_NEGATIVE = -0.5


def priority(intent: str, sentiment: float, flags: Iterable[str]) -> str:
    """`urgent` for legal/fraud/threat/chargeback/self-harm, `high` for a duplicate or unexpected charge;
    otherwise the intent's level, raised one step (at most to `high`) for a VIP, an angry customer or very
    negative sentiment."""
    flags = set(flags)
    if flags & _URGENT_FLAGS:
        return "urgent"
    if flags & _HIGH_FLAGS:
        return "high"
    level = LEVELS.index(_BASE.get(intent, "low"))
    if flags & {"vip", "angry"} or sentiment <= VERY_NEGATIVE:
        level = min(level + 1, LEVELS.index("high"))
    return LEVELS[level]
