"""The handoff summary a human agent reads when the analyst passes a ticket on."""

from collections.abc import Sequence

from supportmesh.v1.envelope_pb2 import Action, Envelope
from supportmesh_core import resolution


def handoff_summary(env: Envelope, why: str, actions: Sequence[Action], reason: str = "") -> str:
    """Who wrote, what they asked, what was looked up, why a human is needed and what was proposed."""
    r, c = env.retrieval, env.classification
    who = f"{r.customer_name or 'unverified customer'}"
    if r.customer_id:
        who += f" (customer {r.customer_id})"
    elif env.ticket.customer.email:
        who += f" <{env.ticket.customer.email}>"
    asked = " ".join(x for x in (env.ticket.subject, env.ticket.body[:500]) if x)
    lines = [f"Customer: {who}", f"Asked ({c.intent or 'unknown intent'}): {asked}"]
    for o in r.orders:
        items = ", ".join(o.item_names) or "no items listed"
        tracking = ", ".join(o.tracking_ids) or "none"
        lines.append(f"Order {o.order_id}: {o.status}, total {o.total:.2f}, items: {items}, "
                     f"tracking: {tracking}")
    lines.append(f"Why a human: {why}")
    if actions:
        lines.append("Proposed, not executed: " + "; ".join(
            f"{a.name} ({a.detail}, key {a.idempotency_key})" for a in actions))
    if guide := resolution.load().guideline_line(c.intent, reason):
        lines.append(guide)
    return "\n".join(lines)
