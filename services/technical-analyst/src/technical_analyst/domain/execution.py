"""Which policy decisions the analyst carries out itself through commerce, and with what arguments.

Product rules: a ticket that clearly asks to cancel a pending order of the verified customer is executed
(reason 'ordered by mistake' when the customer says so, else 'no longer needed'); a refund above the
approval limit is sent to commerce, which opens a pending-approval case instead of paying. Returns,
exchanges, item and address changes need choices the ticket does not carry (which items, which option,
which payment method, the new address), so they stay proposed and the reply asks the customer.

An order told only as the first of several the ticket's items point at is not cancelled either. A
conditional request ("cancel it if it has not shipped", "only if the refund goes to a gift card",
"unless ...", "as long as ...") is never executed: whether its condition holds is for the customer to
confirm, so the action stays proposed and the reply asks.
"""

import re
from dataclasses import dataclass
from typing import Protocol

from .billing import CaseRequest
from .order_rules import ALLOWED, NEEDS_HUMAN, PolicyDecision, idempotency_key
from .planned_writes import PlannedWrite

CANCEL, REFUND = "cancel_pending_order", "issue_refund"
DONE, REFUSED, FAILED, NEEDS_APPROVAL = "done", "refused", "failed", "needs_approval"
_BY_MISTAKE = re.compile(r"\b(?:by mistake|by accident|accidental(?:ly)?|mistaken(?:ly)?|in error)\b", re.I)
# "if" after a verb of asking or wondering opens a question ("I wonder if you can..."), not a condition.
_CONDITION = re.compile(
    r"\b(?:unless|as long as|provided that|on condition that|in case)\b"
    r"|(?<!\bwonder )(?<!\bsee )(?<!\bask )(?<!\bknow )(?<!\bcheck )(?<!\bsure )(?<!\bwondering )\bif\b", re.I)


def is_conditional(text: str) -> bool:
    """Whether the request depends on a condition the customer has to confirm before anything is written."""
    return _CONDITION.search(text) is not None


@dataclass(frozen=True)
class Execution:
    """One write to make through commerce, keyed so a redelivered ticket makes it once."""

    action: str
    order_id: str
    idempotency_key: str
    reason: str
    amount: float = 0.0


@dataclass(frozen=True)
class ExecutionResult:
    """What commerce answered: done, refused (with its quotable reason), needs_approval (a case), failed."""

    status: str
    detail: str
    case_id: str = ""


class CommerceActions(Protocol):
    """The writes the analyst makes (gRPC in production, a fake in unit tests)."""

    async def execute(self, execution: Execution, customer_id: str, ticket_id: str,
                      timeout_s: float) -> ExecutionResult: ...

    async def write(self, write: PlannedWrite, customer_id: str, ticket_id: str,
                    timeout_s: float) -> ExecutionResult: ...

    async def open_case(self, case: CaseRequest, customer_id: str, ticket_id: str,
                        timeout_s: float) -> ExecutionResult: ...


def plan(decision: PolicyDecision, ticket_id: str, text: str, sure: bool = True) -> Execution | None:
    """The write this decision calls for now, or None when the customer must choose or confirm first. `sure`:
    the classifier read the ticket at or above its floor on its own (not only through an intent family)."""
    if is_conditional(text):
        return None
    # An order picked as the first of several the ticket talks about is not a clear request to cancel it, and a
    # ticket the classifier was not sure of alone waits for the customer's "yes" like any other write.
    if (decision.decision == ALLOWED and decision.code == "cancel_pending" and decision.identified_by != "first_item"
            and sure):
        reason = "ordered by mistake" if _BY_MISTAKE.search(text) else "no longer needed"
        return Execution(CANCEL, decision.order_id, idempotency_key(ticket_id, CANCEL), reason)
    # A refund over several orders has no one order to open a case on: the escalation hands it over whole.
    if decision.decision == NEEDS_HUMAN and decision.code == "refund_above_limit" and decision.order_id:
        return Execution(REFUND, decision.order_id, idempotency_key(ticket_id, REFUND),
                         "customer asked for a refund", decision.amount)
    return None
