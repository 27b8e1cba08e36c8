"""The commerce tools offered to a model, and the checks every call the model proposes must pass before it runs.

The model only proposes. A write runs only when the policy as code (`decide`) allows it for the verified
customer, the execution plan the rules engine would make (`plan`) is that same write, the ticket asks for
it, the order is one the ticket points at, and any amount is one the customer named or the order's total.
So a model can choose among writes the rules allow (which order, which cancellation reason) but can never
add one they refuse or lift a refund past the approval limit (that still only opens a case in commerce).
"""

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from supportmesh.v1.envelope_pb2 import OrderFacts
from supportmesh_core.privacy import redact

from .execution import CANCEL, REFUND, Execution, plan
from .order_rules import PolicyDecision, PolicyRequest, decide, normalize_order_id, parse_amount

GET_ORDER, GET_TRACKING = "get_order", "get_tracking"
LOOKUPS = (GET_ORDER, GET_TRACKING)
CANCEL_REASONS = ("no longer needed", "ordered by mistake")
# Each write answers one kind of request: the classifier's intent must be that request.
WRITE_INTENTS = {CANCEL: "cancel_order", REFUND: "get_refund"}

_ORDER_ID = {"type": "string", "description": "the order id, e.g. #W2378156"}


def _tool(name: str, description: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "function", "function": {
        "name": name, "description": description,
        "parameters": {"type": "object", "properties": properties, "required": list(properties),
                       "additionalProperties": False}}}


TOOLS: list[dict[str, Any]] = [
    _tool(GET_ORDER, "Look up one of the verified customer's orders: status, items, total, tracking.",
          {"order_id": _ORDER_ID}),
    _tool(GET_TRACKING, "Look up the shipping status and tracking ids of one of the customer's orders.",
          {"order_id": _ORDER_ID}),
    _tool(CANCEL, "Cancel a pending order the customer asked to cancel.",
          {"order_id": _ORDER_ID, "reason": {"type": "string", "enum": list(CANCEL_REASONS)}}),
    _tool(REFUND, "Refund money on a delivered order; above the approval limit this opens a case for a human.",
          {"order_id": _ORDER_ID, "amount": {"type": "number", "description": "the amount the customer asked "
                                                                                 "for, else the order total"}}),
]


@dataclass(frozen=True)
class ToolContext:
    """What the checks need from the ticket: who is verified, what was asked, what was looked up."""

    ticket_id: str
    intent: str
    customer_id: str
    orders: Sequence[OrderFacts]
    text: str                         # subject and body, as the customer wrote them
    order_ids: Sequence[str] = ()     # order ids the customer named
    amounts: Sequence[str] = ()       # amounts the customer named, as written


@dataclass(frozen=True)
class Refusal:
    """Why a proposed call was not run: a machine code and a sentence for the hop record and the handoff."""

    code: str
    detail: str


@dataclass(frozen=True)
class ApprovedWrite:
    decision: PolicyDecision
    execution: Execution


def check_identity(arguments: Mapping[str, Any], ctx: ToolContext) -> Refusal | None:
    """Calls always act for the verified customer; a call naming someone else is refused, not redirected."""
    named = arguments.get("customer_id")
    if named is not None and str(named) != ctx.customer_id:
        return Refusal("customer_mismatch", f"the call names customer {named!r}, not the verified customer")
    return None


def check_lookup(name: str, arguments: Mapping[str, Any], ctx: ToolContext) -> str | Refusal:
    """The order id to look up for the verified customer, or why the lookup is refused."""
    if (refusal := check_identity(arguments, ctx)) is not None:
        return refusal
    order_id = arguments.get("order_id")
    if name not in LOOKUPS or not isinstance(order_id, str) or not order_id.strip():
        return Refusal("bad_arguments", f"{name} needs an order_id string")
    return normalize_order_id(order_id)


def check_write(name: str, arguments: Mapping[str, Any], ctx: ToolContext, refund_limit: float
                ) -> ApprovedWrite | Refusal:
    """The write to execute, keyed by ticket id and action, or why it must not run."""
    if (refusal := check_identity(arguments, ctx)) is not None:
        return refusal
    if name not in WRITE_INTENTS:
        return Refusal("unknown_write", f"{name} is not a write the analyst makes")
    if WRITE_INTENTS[name] != ctx.intent:
        return Refusal("not_requested", f"the ticket asks for {ctx.intent or 'nothing'}, not {name}")
    order_id = arguments.get("order_id")
    if not isinstance(order_id, str) or not order_id.strip():
        return Refusal("bad_arguments", f"{name} needs an order_id string")
    order_id = normalize_order_id(order_id)
    if not _points_at(order_id, ctx):
        return Refusal("order_not_grounded", f"the ticket does not point at order {order_id}")
    amounts: list[str] = []
    if name == REFUND:
        amount = arguments.get("amount")
        if isinstance(amount, bool) or not isinstance(amount, int | float) or not math.isfinite(amount) \
                or amount <= 0:
            return Refusal("bad_arguments", "issue_refund needs a positive amount")
        if not _amount_grounded(float(amount), order_id, ctx):
            return Refusal("amount_not_grounded", f"{amount:.2f} is neither an amount the customer named "
                                                  f"nor the total of order {order_id}")
        amounts = [f"{amount:.2f}"]
    elif arguments.get("reason") not in CANCEL_REASONS:
        return Refusal("bad_arguments", f"the cancellation reason must be one of {', '.join(CANCEL_REASONS)}")
    decision = decide(PolicyRequest(ticket_id=ctx.ticket_id, intent=ctx.intent, customer_id=ctx.customer_id,
                                    orders=list(ctx.orders), order_ids=[order_id], amounts=amounts), refund_limit)
    execution = plan(decision, ctx.ticket_id, ctx.text)
    if execution is None or execution.action != name:
        return Refusal(decision.code, decision.reason or f"the store policy does not let the analyst {name}")
    if name == CANCEL:
        execution = dataclasses.replace(execution, reason=arguments["reason"])
    return ApprovedWrite(decision, execution)


def _points_at(order_id: str, ctx: ToolContext) -> bool:
    """One the customer named; else their only order, or the order holding an item the ticket mentions."""
    if ctx.order_ids:
        return order_id in {normalize_order_id(i) for i in ctx.order_ids}
    if len(ctx.orders) == 1:
        return normalize_order_id(ctx.orders[0].order_id) == order_id
    text = ctx.text.lower()
    order = next((o for o in ctx.orders if normalize_order_id(o.order_id) == order_id), None)
    return order is not None and any(name.lower() in text for name in order.item_names if name.strip())


def _amount_grounded(amount: float, order_id: str, ctx: ToolContext) -> bool:
    named = [a for a in (parse_amount(x) for x in ctx.amounts) if a is not None]
    totals = [o.total for o in ctx.orders if normalize_order_id(o.order_id) == order_id]
    return any(abs(amount - x) < 0.005 for x in [*named, *totals])


def masked_ticket(text: str, known: Sequence[str]) -> str:
    """The ticket as it may leave for a remote model.

    The model needs the request, order ids, amounts and item names; it needs no name, e-mail address,
    phone number or street address, because the analyst itself applies the verified customer's id to every
    call. So the customer's known name and e-mail are masked, then everything the shared redaction finds.
    """
    out = text
    for value in known:
        for part in {value, *value.split()} if value else ():
            if len(part) > 2:
                out = re.sub(re.escape(part), "[name]", out, flags=re.IGNORECASE)
    return redact(out)


def analyst_messages(ctx: ToolContext, masked_text: str, refund_limit: float) -> list[dict[str, str]]:
    """The system rules and the ticket with the verified customer's looked-up orders (no personal data)."""
    orders = "\n".join(
        f"- {normalize_order_id(o.order_id)}: {o.status}, total {o.total:.2f}, items: "
        f"{', '.join(o.item_names) or 'none listed'}" for o in ctx.orders) or "- none"
    system = (
        "You are the analyst of an online shop's support desk. The customer is verified; every tool acts for "
        "them. Look orders up if you need more than the facts given, then make at most one write the ticket "
        f"asks for: {CANCEL} (pending orders only) or {REFUND} (delivered orders; refunds above "
        f"{refund_limit:.2f} only open a case for a human). Use only order ids and amounts from the ticket "
        "or the facts. If no write is clearly asked for, or the customer must choose or confirm something "
        "first, make no write and say why in one sentence. Every call is checked against the store policy.")
    user = (f"Classified intent: {ctx.intent}\nTicket:\n{masked_text}\n\n"
            f"The customer's orders (looked up):\n{orders}")
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]
