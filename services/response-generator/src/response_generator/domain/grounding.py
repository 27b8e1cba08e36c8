"""Checks a model-written reply against the envelope's facts before it may be sent, and builds the prompt.

A generated reply is sent only when every order id, amount, tracking id and order status it states is in
the looked-up facts (or the template draft built from them), it keeps every order id, amount and tracking
id the draft gives the customer, and it holds no template slot. Otherwise the draft is sent.
"""

import re
from collections.abc import Iterable, Sequence

from supportmesh.v1.envelope_pb2 import Envelope
from supportmesh_core.privacy import redact

from .compose import find_placeholder, quoted_facts

_ORDER_ID = re.compile(r"#(W\d+)\b|\b(W\d{7})\b", re.IGNORECASE)
# Money as people write it: with a currency sign or code, or any number with two decimals.
_AMOUNT = re.compile(
    r"[$€£]\s?(\d[\d,]*(?:\.\d{1,2})?)"
    r"|(\d[\d,]*(?:\.\d{1,2})?)\s?(?:USD|EUR|GBP|dollars?|euros?)\b"
    r"|(?<![\w.,])(\d[\d,]*\.\d{2})(?![\d.,]*\d)",
    re.IGNORECASE)
_TRACKING = re.compile(r"(?<![\w#])\d{10,}(?!\w)")
# The order states the store knows, plus the words a writer would use for them.
_STATUSES = ("pending", "processed", "processing", "delivered", "cancelled", "canceled", "shipped", "in transit",
             "out for delivery", "returned", "refunded", "exchanged", "return requested", "exchange requested")
_STATUS = re.compile(r"\b(" + "|".join(re.escape(s) for s in _STATUSES) + r")\b", re.IGNORECASE)
# Saying a write happened ("has been cancelled", "we refunded"): only where the draft (built from what
# commerce reported done) says it too.
_CLAIM = re.compile(r"\b(?:(?:has|have|was|were|is|are)\s+(?:now\s+)?been|we(?:'ve|\s+have)?|i(?:'ve|\s+have)?)\s+"
                    r"(cancell?ed|refunded|returned|exchanged|changed|modified|updated|issued|processed)\b",
                    re.IGNORECASE)


def order_ids(text: str) -> set[str]:
    return {"#" + (a or b).upper() for a, b in _ORDER_ID.findall(text)}


def amounts(text: str) -> set[float]:
    return {round(float(next(g for g in m.groups() if g).replace(",", "")), 2) for m in _AMOUNT.finditer(text)}


def tracking_ids(text: str) -> set[str]:
    return set(_TRACKING.findall(text))


def statuses(text: str) -> set[str]:
    return {s.lower().replace("canceled", "cancelled") for s in _STATUS.findall(text)}


def claims(text: str) -> set[str]:
    return {c.lower().replace("canceled", "cancelled") for c in _CLAIM.findall(text)}


def facts_text(env: Envelope, draft: str) -> str:
    """Everything a reply may state: the envelope facts a reply may quote, the order totals, and the draft."""
    totals = [f"{o.total:.2f}" for o in env.retrieval.orders]
    ids = [o.order_id for o in env.retrieval.orders]
    return "\n".join([draft, *quoted_facts(env), *totals, *ids, env.analysis.policy_code])


def problems(text: str, env: Envelope, draft: str) -> list[str]:
    """Why `text` may not be sent instead of `draft`; empty when every stated fact is grounded."""
    facts = facts_text(env, draft)
    found: list[str] = []

    def compare(kind: str, stated: Iterable, known: set, kept: set, fmt=str) -> None:
        if invented := sorted(set(stated) - known):
            found.append(f"{kind} not in the facts: {', '.join(fmt(x) for x in invented)}")
        if dropped := sorted(kept - set(stated)):
            found.append(f"{kind} of the draft missing: {', '.join(fmt(x) for x in dropped)}")

    compare("order ids", order_ids(text), order_ids(facts), order_ids(draft))
    compare("amounts", amounts(text), amounts(facts), amounts(draft), lambda x: f"{x:.2f}")
    compare("tracking ids", tracking_ids(text), tracking_ids(facts), tracking_ids(draft))
    if invented := sorted(statuses(text) - statuses(facts)):
        found.append(f"statuses not in the facts: {', '.join(invented)}")
    if invented := sorted(claims(text) - claims(draft)):
        found.append(f"claims an action the draft does not report done: {', '.join(invented)}")
    if slot := find_placeholder(text, quoted_facts(env)):
        found.append(f"template slot {slot!r}")
    return found


def masked_message(env: Envelope) -> str:
    """The customer's message as it may leave for a remote model.

    The model needs what was asked and how it was said to match tone; it needs no name (the greeting is
    added here, after generation), e-mail address, phone number or address, so the customer's known name
    and e-mail are masked, then everything the shared redaction finds.
    """
    out = " ".join(x for x in (env.ticket.subject, env.ticket.body) if x)
    for value in (env.ticket.customer.name, env.ticket.customer.email, env.retrieval.customer_name):
        for part in {value, *value.split()} if value else ():
            if len(part) > 2:
                out = re.sub(re.escape(part), "[name]", out, flags=re.IGNORECASE)
    return redact(out)


def generation_messages(env: Envelope, draft_body: str) -> list[dict[str, str]]:
    """Rewrite the grounded draft for this customer, stating nothing the facts do not hold."""
    a, r = env.analysis, env.retrieval
    facts: list[str] = [f"Order {o.order_id}: status {o.status}, total {o.total:.2f}, items: "
                        f"{', '.join(o.item_names) or 'none listed'}, tracking: {', '.join(o.tracking_ids) or 'none'}"
                        for o in r.orders]
    if a.policy_decision:
        facts.append(f"Policy decision: {a.policy_decision}. {a.policy_reason}".strip())
    facts += [f"Action {x.name}: {x.status}. {x.detail}".strip() for x in a.actions]
    facts += [f"Article \"{x.title}\"" for x in r.articles[:3]]
    tone = ("The customer is upset: acknowledge it briefly." if env.classification.sentiment < -0.3
            else "Keep a friendly, direct tone.")
    system = (
        "You write the reply of an online shop's support desk. Rewrite the draft so it answers the customer "
        "clearly and warmly. State only what the draft and the facts say: keep every order id, amount, "
        "tracking number, status, step and link of the draft exactly as written, add no other numbers, "
        "promise nothing that is not an action with status done, and never say something was done when it "
        f"was only proposed. No greeting line and no signature. {tone}")
    user = (f"Customer message:\n{masked_message(env)}\n\nFacts:\n" + "\n".join(f"- {f}" for f in facts)
            + f"\n\nDraft:\n{draft_body}")
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def article_citations(citations: Sequence[str]) -> list[str]:
    return [c for c in citations if not c.startswith("order:")]
