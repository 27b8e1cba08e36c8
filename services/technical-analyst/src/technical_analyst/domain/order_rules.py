"""The store policy (data/retail/policy.md) as code: what may be done to which order, and why.

Every decision carries a reason sentence that a reply can quote and that names the policy rule it
rests on. Actions are proposed here; `execution.plan` picks the ones the analyst carries out through
commerce (commerce enforces the same policy again, authoritatively).
"""

import dataclasses
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from supportmesh.v1.envelope_pb2 import OrderFacts
from supportmesh_core.product_names import in_english

ALLOWED, REFUSED, NEEDS_HUMAN, NOT_APPLICABLE = "allowed", "refused", "needs_human", "not_applicable"

# Intents that ask for a change to an order and the policy rule each one is checked against.
ACTION_INTENTS = {
    "cancel_order": "cancel",
    "change_order": "modify_items",
    "change_shipping_address": "modify_address",
    "get_refund": "return",
}
# Intents that only ask about an order: no rule to apply, but the customer must still be verified.
INFORMATIONAL_ORDER_INTENTS = {"track_order", "track_refund", "delivery_period"}
# Intents that always concern one of the customer's own orders.
ORDER_SPECIFIC_INTENTS = set(ACTION_INTENTS) | {"track_order", "track_refund"}

_CANCEL_REFUND = ("the total is refunded to the original payment method, immediately for a gift card "
                  "and otherwise within 5 to 7 business days")


@dataclass(frozen=True)
class ProposedAction:
    """A write the policy allows, waiting for the customer's confirmation (never executed here)."""

    name: str
    detail: str
    idempotency_key: str
    status: str = "proposed"


@dataclass(frozen=True)
class PolicyRequest:
    """What the ticket asks and what the lookups found, as the policy needs it."""

    ticket_id: str
    intent: str
    customer_id: str
    orders: Sequence[OrderFacts]
    order_ids: Sequence[str] = ()   # order ids the customer named
    amounts: Sequence[str] = ()     # amounts the customer named, as written
    commerce_unavailable: bool = False
    text: str = ""                  # the ticket's words, to tell an unnamed order by the items it holds


@dataclass(frozen=True)
class PolicyDecision:
    """The outcome of the policy: decision, machine code, quotable reason and proposed actions."""

    decision: str
    code: str
    reason: str = ""
    order_id: str = ""
    actions: list[ProposedAction] = field(default_factory=list)
    amount: float = 0.0  # the refund at stake, for refund decisions
    # How the order was told: named (its id), only (the customer's one order), items (the one order in the
    # status the rule needs that holds an item the ticket names), first_item (several such orders, told by
    # the item named first); empty when no order was chosen.
    identified_by: str = ""


def idempotency_key(ticket_id: str, action: str) -> str:
    """The key a later write uses so a redelivered ticket never performs its action twice."""
    return hashlib.sha256(f"{ticket_id}:{action}".encode()).hexdigest()[:32]


def normalize_order_id(value: str) -> str:
    """`w2378156`, `W2378156` and `#W2378156` all name the order `#W2378156`."""
    return "#" + value.strip().lstrip("#").upper()


def parse_amount(text: str) -> float | None:
    """The number in an amount such as `$1,250.00` or `120 USD`; None when there is none."""
    match = re.search(r"\d[\d,]*(?:\.\d+)?", text)
    if not match:
        return None
    return float(match.group(0).replace(",", ""))


def rule_sentence(reason: str) -> str:
    """The reason's first sentence: the rule that allows the action, without the choices it asks for."""
    return re.split(r"(?<=[.!?])\s+", reason.strip(), maxsplit=1)[0]


def refund_within_limit(decision: PolicyDecision, req: PolicyRequest, amount: float, limit: float) -> PolicyDecision:
    """A return held for approval on the order's total, re-decided on the refund of the items the customer
    names: within the limit it is an ordinary return. A refund the customer named stays as decided."""
    if decision.code != "refund_above_limit" or req.amounts:
        return decision
    oid = decision.order_id
    if amount > limit:
        if not 0 < amount < decision.amount:
            return decision
        # Still above the limit, but the refund at stake is the items', not the whole order's.
        reason = (f"A refund of {amount:.2f} on order {oid} is above the {limit:.2f} limit an agent may approve, "
                  "so a member of our team must approve it.")
        return dataclasses.replace(decision, reason=reason, amount=amount)
    action = _propose(req, "return_delivered_order_items", f"return items of order {oid} for a refund of {amount:.2f}")
    reason = (f"Order {oid} is delivered, so its items can be returned. The refund "
              f"of {amount:.2f} goes back to the payment method you paid with, or to one of your gift cards.")
    return dataclasses.replace(decision, decision=ALLOWED, code="return_delivered", reason=reason, actions=[action],
                               amount=amount)


def concerns_orders(intent: str, order_ids: Sequence[str]) -> bool:
    """Whether the store policy applies at all: an order intent, or any ticket that names an order."""
    return intent in ORDER_SPECIFIC_INTENTS or intent in INFORMATIONAL_ORDER_INTENTS or bool(order_ids)


def order_question(entity_types: Sequence[str]) -> bool:
    """A ticket naming an order and quoting no error code is about that order, even when classified as a
    technical problem: the policy answers it, not a troubleshooting article."""
    return "order_id" in entity_types and "error_code" not in entity_types


def decide(req: PolicyRequest, refund_limit: float) -> PolicyDecision:
    """Apply the store policy to one ticket."""
    if not concerns_orders(req.intent, req.order_ids):
        return PolicyDecision(NOT_APPLICABLE, "no_order_request")
    if req.commerce_unavailable:
        return PolicyDecision(NOT_APPLICABLE, "commerce_unavailable",
                              "The order system could not be reached, so the order could not be checked "
                              "against the store policy.")
    if not req.customer_id:
        reason = ("Before we look at or change an order, the store policy asks us to verify your identity "
                  "with the e-mail address on your account, or your full name and zip code.")
        return PolicyDecision(REFUSED, "identity_not_verified", reason)
    if req.intent not in ACTION_INTENTS:
        return PolicyDecision(NOT_APPLICABLE, "informational")
    order, how, others, refusal = _target_order(req)
    if refusal:
        return _return_everything(req, refund_limit) or refusal
    assert order is not None
    rule = rule_for(req.intent, req.text)
    decision = _apply(rule, req, order, refund_limit)
    if others:
        decision = dataclasses.replace(decision, reason=(
            f"{decision.reason} Your message also names items of order{'s' if len(others) > 1 else ''} "
            f"{', '.join(others)}; this reply is about order {normalize_order_id(order.order_id)} only, so "
            "please write to us about the others once it is settled.").strip())
    return dataclasses.replace(decision, identified_by=how)


def _apply(rule: str, req: PolicyRequest, order: OrderFacts, refund_limit: float) -> PolicyDecision:
    """The policy rule `rule` (cancel, modify_items, modify_address, else return) on one order."""
    status = order.status.strip().lower()
    if rule == "cancel":
        return _cancel(req, order, status)
    if rule == "modify_items":
        return _modify_items(req, order, status)
    if rule == "modify_address":
        return _modify_address(req, order, status)
    return _return(req, order, status, refund_limit)


def decide_for(req: PolicyRequest, rule: str, order_id: str, refund_limit: float) -> PolicyDecision:
    """One request of a ticket with several: `rule` applied to the customer's looked-up order `order_id`, with
    `req.text` the words of that request (its amount, if it names one)."""
    order = next((o for o in req.orders if normalize_order_id(o.order_id) == normalize_order_id(order_id)), None)
    if order is None:
        reason = (f"We could not find order {normalize_order_id(order_id)} among the orders on your account, and "
                  "the store policy lets us act only on your own orders.")
        return PolicyDecision(REFUSED, "order_not_found", reason)
    if order.user_id and order.user_id != req.customer_id:
        reason = (f"Order {normalize_order_id(order.order_id)} does not belong to the verified account, and "
                  "the store policy lets us help only the account holder.")
        return PolicyDecision(REFUSED, "order_not_owned", reason)
    decision = _apply(rule, req, order, refund_limit)
    return dataclasses.replace(decision, identified_by="request")


_EVERYTHING = re.compile(r"\b(?:all|everything|every(?:thing| item| order))\b", re.I)


def _return_everything(req: PolicyRequest, limit: float) -> PolicyDecision | None:
    """"Return everything I ordered" with no one order told: one request over every delivered order. Above the
    approval limit it goes to a human as a whole (nothing is written); else it stays unidentified (we ask)."""
    if rule_for(req.intent, req.text) != "return" or req.order_ids or not _EVERYTHING.search(req.text):
        return None
    delivered = [o for o in req.orders if o.status.strip().lower() == "delivered"]
    amount = round(sum(o.total for o in delivered), 2)
    if len(delivered) < 2 or amount <= limit:
        return None
    listed = ", ".join(normalize_order_id(o.order_id) for o in delivered)
    reason = (f"Returning the items of your delivered orders ({listed}) would refund up to {amount:.2f}, above the "
              f"{limit:.2f} limit an agent may approve, so a member of our team must approve it.")
    return PolicyDecision(NEEDS_HUMAN, "refund_above_limit", reason, "", [], amount, "everything")


# The order status each rule acts on, so an order the customer did not name can be told by it.
_RULE_STATUSES = {"cancel": ("pending",), "modify_address": ("pending",), "return": ("delivered",),
                  "modify_items": ("pending", "delivered")}
# Words that say which kind of item change a change_order ticket means when items match orders of both kinds.
_DELIVERED_CUE = re.compile(r"\b(?:exchange|received|delivered|got)\b", re.I)
_PENDING_CUE = re.compile(r"\b(?:modify|pending|before it ships|not (?:yet )?shipped)\b", re.I)
# Product names whose last word says little on its own ("set" in "Dumbbell Set"): their first word counts.
_GENERIC_HEADS = {"set", "kit", "machine"}


def _target_order(req: PolicyRequest) -> tuple[OrderFacts | None, str, list[str], PolicyDecision | None]:
    """The one order the request is about, how it was told and the other orders whose items the ticket names,
    or the refusal that says why it cannot be told."""
    by_id = {normalize_order_id(o.order_id): o for o in req.orders}
    named = [normalize_order_id(i) for i in req.order_ids]
    how, others = "named", []
    if named:
        order = next((by_id[i] for i in named if i in by_id), None)
        if order is None:
            reason = (f"We could not find order {named[0]} among the orders on your account, and the store "
                      "policy lets us act only on your own orders.")
            return None, "", [], PolicyDecision(REFUSED, "order_not_found", reason)
    elif len(req.orders) == 1:
        order, how = req.orders[0], "only"
    elif not req.orders:
        reason = "We could not tell which order you mean; please send us its order number."
        return None, "", [], PolicyDecision(REFUSED, "order_not_identified", reason)
    else:
        order, how, others = order_by_items(req.orders, rule_for(req.intent, req.text), req.text)
        if order is None:
            listed = ", ".join(normalize_order_id(o.order_id) for o in req.orders)
            reason = f"Your account has several orders ({listed}); please tell us which one you mean."
            return None, "", [], PolicyDecision(REFUSED, "order_not_identified", reason)
    if order.user_id and order.user_id != req.customer_id:
        # Policy: one user per conversation; requests about another user's orders are denied.
        reason = (f"Order {normalize_order_id(order.order_id)} does not belong to the verified account, and "
                  "the store policy lets us help only the account holder.")
        return None, "", [], PolicyDecision(REFUSED, "order_not_owned", reason)
    return order, how, others, None


# The verbs that say which change a request asks for; the earliest in the text decides (the classifier's intent
# says "a change to an order", the words say which: "modify the pending boots ... PayPal for any refund" is
# a change of items, not a refund). On a tie the more specific rule wins (an address change over items).
_RULE_CUES = (
    ("modify_address", re.compile(r"\b(?:change|modify|update|correct|fix)\w*\b[^.;]{0,60}?\baddress", re.I)),
    ("cancel", re.compile(r"\bcancel", re.I)),
    ("return", re.compile(r"\breturn(?:s|ing|ed)?\b", re.I)),
    # A verb with its object ("change the lamp", "exchange it"), so "due to some life changes" is no request.
    ("modify_items", re.compile(r"\b(?:exchange|swap|modify|change|switch)(?:ing)?\s+(?:my|the|it|this|that|all|"
                                r"one|both|a|an|these|those|them|item|order)\b", re.I)),
)
# "cancel or return everything": either, as the order's status allows; the intent decides.
_EITHER = re.compile(r"\b(?:cancel|return|exchange|modify)\w*\s+or\s+(?:cancel|return|exchange|modify)", re.I)


def rule_for(intent: str, text: str) -> str:
    """The policy rule an action request is checked against: the first change the text asks for, else the
    one the intent names."""
    found = [(m.start(), n, rule) for n, (rule, pattern) in enumerate(_RULE_CUES) if (m := pattern.search(text))]
    if not found or ((either := _EITHER.search(text)) and either.start() <= min(found)[0]):
        return ACTION_INTENTS[intent]
    return min(found)[2]


# "everything except the coffee machine": what follows names items the request leaves out.
# Items the customer keeps out of a request: "except the lamp", "keep the hiking boots", "leave the watch alone",
# "the bookshelf can stay" (also in the tickets' other languages: the clause before "pode ficar" is kept).
# "keep …" ends at its clause ("keep the lamp but return the chair" still returns the chair).
EXCEPT = re.compile(r"\b(?:except(?: for)?|but not|other than|apart from|besides)\b[^.;:!?)]*"
                    r"|[^.;:!?,\n]*\b(?:can|may|will) stay\b"
                    r"|[^.;:!?,\n]*\b(?:pode ficar|puede quedarse|se puede quedar|kann bleiben|"
                    r"darf bleiben|peut rester|può restare|puede quedar)\b"
                    r"|\b(?:keep(?:ing)?|leave)\b(?!\s+in\s+mind)[^.;:!?),]*?"
                    r"(?=\s+(?:but|and\s+(?:please\s+)?(?:return|cancel|exchange|send|change|swap))\b"
                    r"|[.;:!?),]|$)", re.I)


def candidate_orders(orders: Sequence[OrderFacts], rule: str, text: str) -> list[tuple[int, OrderFacts]]:
    """The orders in the status `rule` acts on holding an item the text names (not one it excepts), with where
    it is first named."""
    statuses = _RULE_STATUSES[rule]
    tokens = text_tokens(EXCEPT.sub(" ", text))
    found: list[tuple[int, OrderFacts]] = []
    for o in orders:
        if o.status.strip().lower() in statuses:
            positions = [p for p in (first_mention(tokens, name) for name in o.item_names) if p is not None]
            if positions:
                found.append((min(positions), o))
    if len(found) > 1 and len(statuses) > 1:
        # Items in both a pending and a delivered order: "exchange what I received" or "modify my pending".
        cue = ("delivered" if _DELIVERED_CUE.search(text) else "") or ("pending" if _PENDING_CUE.search(text) else "")
        if cue:
            found = [(p, o) for p, o in found if o.status.strip().lower() == cue]
    return found


def order_by_items(orders: Sequence[OrderFacts], rule: str, text: str) -> tuple[OrderFacts | None, str, list[str]]:
    """The order, among those in the status `rule` acts on, holding an item the text names.

    Returns (order, how, other order ids): how is `items` when one order holds the named items, `first_item`
    when several do and the item named first is in exactly one of them (the others are returned so the reply
    can say they are not handled yet); (None, "", []) when no order or no single order fits.
    """
    found = candidate_orders(orders, rule, text)
    if len(found) == 1:
        return found[0][1], "items", []
    if not found:
        return None, "", []
    earliest = min(p for p, _ in found)
    first = [o for p, o in found if p == earliest]
    if len(first) != 1:
        return None, "", []
    others = [normalize_order_id(o.order_id) for p, o in found if p != earliest]
    return first[0], "first_item", others


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("es") and word[:-2].endswith(("sh", "ch", "x", "ss")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def text_tokens(text: str) -> list[str]:
    """The text's words, lower case and singular, hyphens dropped ("T-shirts" → "tshirt"); a product named in
    Spanish, French, German, Italian or Portuguese reads as the catalogue's name ("casco de bicicleta")."""
    return [_singular(w) for w in re.findall(r"[a-z0-9]+", in_english(text).lower().replace("-", ""))]


def first_mention(tokens: Sequence[str], item_name: str) -> int | None:
    """Where the words first name the product: in full ("smart watch", "smartwatch", "t-shirt"), or by its
    last word ("keyboard" for Mechanical Keyboard, "shirt" for T-Shirt), or its first when the last is
    generic ("dumbbells" for Dumbbell Set); None when they do not."""
    parts = text_tokens(item_name.replace("-", " "))
    if not parts:
        return None
    keys = {"".join(parts)}
    if parts[-1] not in _GENERIC_HEADS:
        keys.add(parts[-1])
    elif len(parts) > 1:
        keys.add(parts[0])
    for i, token in enumerate(tokens):
        # A pair written apart ("book shelf") names what is written together ("Bookshelf").
        if token in keys or (i + 1 < len(tokens) and token + tokens[i + 1] in keys):
            return i
    return None


def _propose(req: PolicyRequest, name: str, detail: str) -> ProposedAction:
    return ProposedAction(name=name, detail=detail, idempotency_key=idempotency_key(req.ticket_id, name))


def _status_note(status: str) -> str:
    """What else the policy offers for an order in this status, as a sentence (or nothing)."""
    if status == "delivered":
        return " A delivered order can be returned or exchanged instead."
    if status == "cancelled":
        return " It has already been cancelled."
    if status.startswith("pending ("):
        return " Its items were already modified once, after which it can no longer be modified or cancelled."
    return ""


def _cancel(req: PolicyRequest, order: OrderFacts, status: str) -> PolicyDecision:
    oid = normalize_order_id(order.order_id)
    if status != "pending":
        reason = f"Order {oid} is {order.status}, and only pending orders can be cancelled.{_status_note(status)}"
        return PolicyDecision(REFUSED, "cancel_not_pending", reason, oid)
    if reason := refund_elsewhere(req.text, order):
        return PolicyDecision(REFUSED, "cancel_refund_method", reason, oid)
    action = _propose(req, "cancel_pending_order", f"cancel order {oid} (total {order.total:.2f})")
    reason = (f"Order {oid} is pending, so it can be cancelled. Please "
              "confirm the order number and the reason, either 'no longer needed' or 'ordered by mistake'; "
              f"after cancellation {_CANCEL_REFUND}.")
    return PolicyDecision(ALLOWED, "cancel_pending", reason, oid, [action])


# "…cancel the whole order and refund to gift card": the refund method a cancellation asks for.
_REFUND_TO = re.compile(r"\brefund(?:ed)?\s+(?:it\s+|that\s+|the money\s+)?(?:back\s+)?(?:to|on|onto)\s+"
                        r"(?:my\s+|the\s+)?(gift ?card|paypal|credit card|debit card|card|visa|mastercard|amex)", re.I)


def _method_kind(words: str) -> str:
    """The store's three kinds of payment method (gift card, PayPal, card) a method's words name."""
    joined = words.lower().replace(" ", "")
    return "gift card" if "giftcard" in joined else "paypal" if "paypal" in joined else "card"


def refund_elsewhere(clause: str, order: OrderFacts) -> str:
    """Why a cancellation cannot be made as asked when it wants its refund on another method than the order was
    paid with (a cancellation is refunded to the original payment method), or ''."""
    m = _REFUND_TO.search(clause)
    paid = [p.payment_method for p in order.payments if p.transaction_type == "payment"]
    if m is None or not paid or _method_kind(m.group(1)) in {_method_kind(x) for x in paid}:
        return ""
    return (f"A cancelled order is refunded to the payment method it was paid with ({', '.join(paid)}), so the "
            f"refund of order {normalize_order_id(order.order_id)} cannot go to a {m.group(1).lower()}; we have "
            "not proposed cancelling it. Tell us if you want it cancelled with the refund to the original payment "
            "method.")


def _modify_items(req: PolicyRequest, order: OrderFacts, status: str) -> PolicyDecision:
    oid = normalize_order_id(order.order_id)
    if status == "pending":
        action = _propose(req, "modify_pending_order_items", f"change item options on order {oid}")
        reason = (f"Order {oid} is pending, so each item can be changed to another option of the same "
                  "product. Items can be modified only once, so please list "
                  "every item you want to change and a payment method for any price difference.")
        return PolicyDecision(ALLOWED, "modify_pending", reason, oid, [action])
    if status == "delivered":
        action = _propose(req, "exchange_delivered_order_items", f"exchange items on order {oid}")
        reason = (f"Order {oid} is delivered, so each item can be exchanged for another option of the same "
                  "product. Please list every item you want to exchange "
                  "and a payment method for any price difference.")
        return PolicyDecision(ALLOWED, "exchange_delivered", reason, oid, [action])
    reason = (f"Order {oid} is {order.status}; only pending orders can be modified and only delivered "
              f"orders can be exchanged.{_status_note(status)}")
    return PolicyDecision(REFUSED, "modify_not_allowed", reason, oid)


def _modify_address(req: PolicyRequest, order: OrderFacts, status: str) -> PolicyDecision:
    oid = normalize_order_id(order.order_id)
    if status != "pending":
        reason = (f"Order {oid} is {order.status}, and only a pending order's shipping address can be "
                  "changed. The default address on your profile can still "
                  "be updated for future orders.")
        return PolicyDecision(REFUSED, "modify_not_pending", reason, oid)
    action = _propose(req, "modify_pending_order_address", f"change the shipping address of order {oid}")
    reason = (f"Order {oid} is pending, so its shipping address can be changed. Please send the full new address.")
    return PolicyDecision(ALLOWED, "modify_pending", reason, oid, [action])


def _return(req: PolicyRequest, order: OrderFacts, status: str, limit: float) -> PolicyDecision:
    oid = normalize_order_id(order.order_id)
    if status != "delivered":
        note = ""
        if status == "pending":
            note = f" A pending order can be cancelled instead, and then {_CANCEL_REFUND}."
        elif status == "cancelled":
            note = f" It was cancelled; when an order is cancelled {_CANCEL_REFUND}."
        reason = (f"Order {oid} is {order.status}; refunds for items are made through a return, and only "
                  f"delivered orders can be returned.{note}")
        return PolicyDecision(REFUSED, "return_not_delivered", reason, oid)
    asked = [a for a in (parse_amount(x) for x in req.amounts) if a is not None]
    # The amount the customer asks for is what needs approval; without one, the whole order is refunded.
    amount = asked[0] if asked else order.total
    detail = f"return items of order {oid} for a refund of {amount:.2f}"
    action = _propose(req, "return_delivered_order_items", detail)
    if amount > limit:
        reason = (f"A refund of {amount:.2f} on order {oid} is above the {limit:.2f} limit an agent may "
                  "approve, so a member of our team must approve it.")
        return PolicyDecision(NEEDS_HUMAN, "refund_above_limit", reason, oid, [action], amount)
    reason = (f"Order {oid} is delivered, so its items can be returned. "
              f"Please confirm which items to return; the refund of {amount:.2f} goes back to the payment "
              "method you paid with, or to one of your gift cards, and you will receive an e-mail on how to "
              "send the items back.")
    return PolicyDecision(ALLOWED, "return_delivered", reason, oid, [action], amount)
