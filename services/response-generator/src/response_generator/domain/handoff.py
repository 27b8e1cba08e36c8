"""The handoff summary a human agent reads: who, what they asked, what was looked up and decided, and why."""

from supportmesh.v1.envelope_pb2 import Envelope
from supportmesh_core import resolution


def handoff_summary(env: Envelope, why: str, reason: str = "") -> str:
    """Everything the mesh knows about the ticket, in the order a human agent needs it."""
    r, c, a = env.retrieval, env.classification, env.analysis
    who = r.customer_name or env.ticket.customer.name or "unverified customer"
    if r.customer_id:
        who += f" (verified customer {r.customer_id})"
    else:
        who += " (identity not verified)"
    asked = " ".join(x for x in (env.ticket.subject, env.ticket.body[:500]) if x)
    lines = [f"Customer: {who}",
             f"Asked ({c.intent or 'unknown intent'}, confidence {c.confidence:.2f}, "
             f"sentiment {c.sentiment:+.2f}): {asked}"]
    for o in r.orders:
        items, tracking = ", ".join(o.item_names) or "none listed", ", ".join(o.tracking_ids) or "none"
        lines.append(f"Order {o.order_id}: {o.status}, total {o.total:.2f}, items: {items}, "
                     f"tracking: {tracking}")
    if r.articles:
        lines.append("Articles found: " + "; ".join(f"{x.id} {x.title}" for x in r.articles[:3]))
    if a.policy_decision:
        lines.append(f"Policy: {a.policy_decision} ({a.policy_code}) {a.policy_reason}".rstrip())
    if a.diagnosis:
        lines.append(f"Diagnosis: {a.diagnosis}")
    if a.actions:
        lines.append("Proposed, not executed: " + "; ".join(
            f"{x.name} ({x.detail}, key {x.idempotency_key})" for x in a.actions))
    if env.degradations or r.lookup_errors:
        lines.append("Degraded: " + "; ".join([*env.degradations, *r.lookup_errors]))
    lines.append(f"Why a human: {why}")
    if guide := resolution.load().guideline_line(c.intent, reason):
        lines.append(guide)
    return "\n".join(lines)
