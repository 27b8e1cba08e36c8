"""Money and safety markers with a case: the evidence a human needs (orders, amounts, payment lines), gathered once."""

import re
from dataclasses import dataclass

from supportmesh.v1.envelope_pb2 import Envelope, OrderFacts
from supportmesh_core.resolution import SafetyRule

from .order_rules import idempotency_key

CASE_ACTION = "open_case"
_AMOUNT = re.compile(r"\d[\d,]*(?:\.\d{1,2})?")


@dataclass(frozen=True)
class CaseRequest:
    """A case for commerce: keyed by ticket, so a redelivered ticket opens it once."""

    reason: str
    priority: str
    order_id: str
    summary: str
    idempotency_key: str


def _amounts(values: list[str]) -> list[float]:
    found = []
    for v in values:
        m = _AMOUNT.search(v)
        if m:
            found.append(round(float(m.group(0).replace(",", "")), 2))
    return found


def _payment_lines(o: OrderFacts) -> str:
    lines = [f"{p.transaction_type} ${p.amount:,.2f} ({p.payment_method})" for p in o.payments]
    return "; ".join(lines) or "no payment recorded"


def disputed_order(env: Envelope) -> OrderFacts | None:
    """The order the dispute is about: the one the ticket names, else the one whose payment matches an
    amount the customer quotes, else the only order looked up; None when that does not decide it."""
    r, c = env.retrieval, env.classification
    named = {e.value.strip().lstrip("#").upper() for e in c.entities if e.type == "order_id"}
    orders = list(r.orders)
    by_name = [o for o in orders if o.order_id.lstrip("#").upper() in named]
    if by_name:
        return by_name[0]
    quoted = set(_amounts([e.value for e in c.entities if e.type == "amount"]))
    by_amount = [o for o in orders if quoted & {round(p.amount, 2) for p in o.payments}]
    if len(by_amount) == 1:
        return by_amount[0]
    return orders[0] if len(orders) == 1 else None


def evidence(env: Envelope, rule: SafetyRule) -> list[str]:
    """What was found, for the case and the handoff: the order, its payment history, what the customer quotes."""
    c, r = env.classification, env.retrieval
    lines = [f"Marker: {rule.reason} (priority {rule.priority})"]
    quoted = _amounts([e.value for e in c.entities if e.type == "amount"])
    if quoted:
        lines.append("Amounts the customer quotes: " + ", ".join(f"${a:,.2f}" for a in quoted))
    order = disputed_order(env)
    if order is not None:
        lines.append(f"Order {order.order_id}: {order.status}, total ${order.total:,.2f}; payment history: "
                     f"{_payment_lines(order)}")
        charges = [p.amount for p in order.payments if p.transaction_type == "payment"]
        if rule.reason == "duplicate_charge":
            twice = len(charges) != len(set(charges))
            lines.append("The store's payment history shows the same amount charged more than once." if twice
                         else f"The store's payment history shows {len(charges)} payment(s) for this order: "
                              "check the customer's bank statement for a second charge.")
    elif r.orders:
        lines.append("Orders on the account: " + "; ".join(
            f"{o.order_id} {o.status} ${o.total:,.2f} ({_payment_lines(o)})" for o in r.orders[:5]))
    if not r.customer_id:
        lines.append("The customer is not verified: no order or payment was looked up.")
    return lines


def case_request(env: Envelope, rule: SafetyRule) -> CaseRequest:
    order = disputed_order(env) if env.retrieval.customer_id else None
    asked = " ".join(" ".join((env.ticket.subject, env.ticket.body)).split())[:600]
    summary = "\n".join([*evidence(env, rule), f"Customer wrote: {asked}"])
    return CaseRequest(reason=rule.reason, priority=rule.priority, order_id=order.order_id if order else "",
                       summary=summary, idempotency_key=idempotency_key(env.ticket.ticket_id, CASE_ACTION))
