"""The customer reply, built from the intent's resolution contract and the envelope's facts, or the handoff.

Every sentence is either fixed wording about what the support desk does, one of the store's own help pages
(data/store/help.yaml), or a fact the earlier stages looked up (order status, tracking ids, items, payments and
refunds, the customer's payment methods and address, the policy decision and its reason, article steps). The
contract (libs/core/.../contracts/resolution.yaml) says which of these each intent's reply states, in order.
Replies cite the help pages, articles and orders they use; the agent policy is never quoted.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from supportmesh.v1.envelope_pb2 import Article, Envelope, OrderFacts
from supportmesh_core import handoff, resolution
from supportmesh_core.resolution import TWO_READINGS, Contract, Contracts

APOLOGY_BELOW = -0.3
APOLOGY = "I'm sorry for the trouble this has caused. "
TECHNICAL_INTENT, TECHNICAL_CATEGORY = "technical_support", "TECHNICAL"
OUT_OF_SCOPE = "out_of_scope"
HUMAN_REQUESTED_INTENT = "contact_human_agent"
ACTION_INTENTS = {"cancel_order", "change_order", "change_shipping_address", "get_refund"}
STATUS_INTENTS = {"track_order", "track_refund"}
COMMERCE_UNAVAILABLE = "commerce_unavailable"
# The classifier's marker for a ticket whose own words ask for a store write: it reached the analyst whatever its
# intent and confidence, so the analyst's decision on it, not the intent's confidence, carries the reply.
ORDER_REQUEST = "order_request"
# Policy codes that decide no write: an intent that only asks, or no order request at all.
_NO_WRITE_CODES = {"informational", "no_order_request", "technical"}
MAX_ORDERS_LISTED = 5
MAX_SNIPPET_CHARS = 420
# The analyst's codes for a turn that answered a proposal ("yes" / "no"): the answer is replied to from what
# the analyst did, whatever the classifier made of a bare "yes" (no intent, out of scope, low confidence).
CONFIRMATION_CODES = {"proposal_confirmed", "proposal_confirmed_refused", "proposal_declined", "proposal_expired",
                      "proposal_already_answered", "nothing_to_confirm"}

IDENTITY_REQUEST = ("Before we can look at or change an order, we need to verify your identity: please reply "
                    "with the e-mail address on your account, or your full name and zip code.")
PROFILE_OFFER = ("If you reply with the e-mail address on your account (or your full name and zip code), we can "
                 "also tell you {what}.")
# Elements that state facts of the customer's orders: they need a verified customer and a reachable store.
ORDER_ELEMENTS = frozenset({"order_status", "refund_status", "payments", "cancellation_terms", "policy_decision"})
CAPABILITIES = ("tracking, cancelling or changing an order; returns, exchanges and refunds; shipping "
                "addresses; your account, payments and invoices; and technical problems with Microsoft 365 "
                "apps such as Outlook, Teams and SharePoint")
# A template slot that survived rendering ({name}, {{name}}, ${name}): such a reply must never be sent.
# Articles legitimately quote such text ({GUID} in registry paths), so only our own wording is checked.
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\$\{|\{[A-Za-z_][\w.]*\}")
_STEP_NUMBER = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s+")
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Reply:
    """A grounded answer for the customer: `text` is `greeting`, a blank line, then `body`."""

    text: str
    citations: list[str] = field(default_factory=list)
    greeting: str = ""
    body: str = ""


@dataclass(frozen=True)
class Handoff:
    """The ticket goes to a human: why, the summary they read, and what the customer is told."""

    reason: str
    summary: str
    customer_message: str


def compose(env: Envelope, min_confidence: float, max_steps: int,
            contracts: Contracts | None = None) -> Reply | Handoff:
    """Decide between answering and handing over, and build the answer the intent's contract asks for."""
    contracts = contracts or resolution.load()
    c, a = env.classification, env.analysis
    if a.policy_code in CONFIRMATION_CODES:
        return _answered(env)
    if (rule := contracts.safety_rule(list(c.flags))) is not None:
        # Normally handed over before this stage; a marker must never get an ordinary answer.
        return _handoff(env, rule.reason, f"safety marker {rule.reason}", rule.told)
    # A ticket routed by its intent family (several order writes, none sure alone) counts the family's score.
    confidence = c.family_score if c.family else c.confidence
    marked = ORDER_REQUEST in c.flags and write_decided(env)
    if confidence < min_confidence and not marked:
        why = f"classifier confidence {confidence:.2f} is below {min_confidence:.2f}"
        return _handoff(env, "low_confidence", why, "We want to be sure we understand your request "
                        "correctly, so a member of our support team will review it and reply to you.")
    if a.policy_decision == "needs_human":
        told = (f"{a.policy_reason} A member of our team will review your request and reply to you; nothing "
                "has been changed yet.").strip()
        return _handoff(env, a.policy_code or "needs_human", a.policy_reason or "the policy reserves this "
                        "for a human", told)
    if c.intent == HUMAN_REQUESTED_INTENT:
        return _handoff(env, "human_requested", "the customer asked for a human agent",
                        "We are passing your conversation to a member of our support team, who will reply "
                        "to you.")
    if write_decided(env) and (c.intent in (OUT_OF_SCOPE, TECHNICAL_INTENT)
                               or c.category.upper() == TECHNICAL_CATEGORY):
        # A write request read as something else: the analyst's decision is the answer.
        return _order(env, decide_write=True)
    if c.intent == OUT_OF_SCOPE:
        # A ticket naming the verified customer's own order is about that order, whatever else it says.
        named = _named_orders(env)
        return _finish(env, "\n".join(_describe(o) for o in named) if named else _out_of_scope(), [])
    if c.intent == TECHNICAL_INTENT or c.category.upper() == TECHNICAL_CATEGORY:
        return _order(env) if _order_question(env) else _technical(env, max_steps)
    contract = contracts.for_intent(c.intent)
    if contract is None:
        return _order(env) if _concerns_orders(env) else _informational(env)
    if reason := contract.always_escalates:
        told = " ".join(p.text for p in contracts.pages(c.intent)) or "A member of our support team will reply to you."
        return _handoff(env, reason, f"the {c.intent} contract hands every such ticket to a person", told)
    reply = _by_contract(env, contract, contracts)
    return _with_second_reading(env, reply, contracts) if c.family == TWO_READINGS else reply


def _with_second_reading(env: Envelope, reply: Reply | Handoff, contracts: Contracts) -> Reply | Handoff:
    """The reply for the classifier's second reading joined to the first's: unsure between two questions, the
    customer gets both answers (their paragraphs once each) rather than a wait for a person."""
    alternatives = env.classification.alternatives
    second = contracts.for_intent(alternatives[1].intent) if len(alternatives) > 1 else None
    if not isinstance(reply, Reply) or second is None or second.always_escalates:
        return reply
    other = Envelope()
    other.CopyFrom(env)
    other.classification.intent = second.intent
    more = _by_contract(other, second, contracts)
    if not isinstance(more, Reply):
        return reply
    opener = APOLOGY if reply.body.startswith(APOLOGY) else ""
    bodies = (reply.body.removeprefix(APOLOGY), more.body.removeprefix(APOLOGY))
    body = opener + "\n\n".join(dict.fromkeys(p for b in bodies for p in b.split("\n\n") if p.strip()))
    text = f"{reply.greeting}\n\n{body}"
    return Reply(text=text, citations=list(dict.fromkeys(reply.citations + more.citations)), greeting=reply.greeting,
                 body=body)


def _by_contract(env: Envelope, contract: Contract, contracts: Contracts) -> Reply | Handoff:
    """The contract's elements in order, each from the envelope's facts; the help pages cited by id."""
    r, elements = env.retrieval, contract.elements
    if "policy_decision" not in elements and write_decided(env):
        # A write request the classifier read as another intent (a question about payment methods, a refund's
        # status): the analyst's decision leads, the contract's own elements follow.
        elements = ("policy_decision", *elements)
    named = _named_orders(env)
    names_one = any(e.type == "order_id" for e in env.classification.entities)
    about_orders = bool(ORDER_ELEMENTS & set(elements)) and ("identity" in elements or names_one)
    if about_orders and COMMERCE_UNAVAILABLE in env.degradations:
        errors = "; ".join(r.lookup_errors) or "the commerce service was unavailable"
        return _handoff(env, "degraded", f"order lookup failed: {errors}",
                        "Our order system cannot be reached right now, so a member of our support team will "
                        "look up your order and reply to you.")
    pages = contracts.pages(contract.intent)
    verified = bool(r.customer_id) and env.analysis.policy_code != "identity_not_verified"
    if about_orders and not verified:
        # Nothing about an order before the customer is verified; the store's general answer still helps.
        return _finish(env, "\n\n".join([IDENTITY_REQUEST, *(p.text for p in pages)]), [p.id for p in pages])
    # A named order that is not the customer's is said once, before whatever the elements state.
    missing = _unknown_order(env) if ORDER_ELEMENTS & set(elements) else ""
    parts: list[str] = [missing] if missing else []
    for element in elements:
        if element == "policy_decision":
            if missing and env.analysis.policy_code == "order_not_found":
                continue   # the analyst's refusal says the same as `missing`: once is enough
            decided = _policy_text(env)
            if isinstance(decided, Handoff):
                return decided
            parts.append(decided)
            continue
        part = _ELEMENTS[element](env, named) if element in _ELEMENTS else ""
        if part:
            parts.append(part)
    parts.extend(p.text for p in pages)
    offer = _profile_offer(elements) if not verified else ""
    if offer:
        parts.append(offer)
    if not parts:
        return _handoff(env, "no_grounding", f"nothing was found to answer a {contract.intent} ticket with",
                        "A member of our support team will look into your request and reply to you.")
    return _finish(env, "\n\n".join(parts), [p.id for p in pages])


def write_decided(env: Envelope) -> bool:
    """The analyst decided a write request: it proposed, refused or made an action, or allowed or refused a
    change (an identity refusal counts only for a ticket marked `order_request`)."""
    a = env.analysis
    if any(x.status in ("proposed", "refused", "done") for x in a.actions):
        return True
    if a.policy_decision not in ("allowed", "refused") or not a.policy_reason or a.policy_code in _NO_WRITE_CODES:
        return False
    return a.policy_code != "identity_not_verified" or ORDER_REQUEST in env.classification.flags


def _named_orders(env: Envelope) -> list[OrderFacts]:
    """The looked-up orders the ticket names (all of them are the verified customer's)."""
    named = {_normalize(e.value) for e in env.classification.entities if e.type == "order_id"}
    return [o for o in env.retrieval.orders if _order_id(o) in named]


def _asked_orders(env: Envelope, named: list[OrderFacts]) -> list[OrderFacts]:
    """The orders a question is about: those it names, else the customer's orders (newest first)."""
    return named or list(env.retrieval.orders)[:MAX_ORDERS_LISTED]


def _order_status_part(env: Envelope, named: list[OrderFacts]) -> str:
    """Status, items and tracking of the orders asked about; a general delivery question needs none."""
    intent = env.classification.intent
    if intent not in STATUS_INTENTS and not named:
        return ""
    orders = _asked_orders(env, named)
    if not orders:
        asked = "Please send us the order number you are asking about, so we can look it up."
        return "" if _unknown_order(env) else asked
    return "\n".join(_describe(o) for o in orders)


def _unknown_order(env: Envelope) -> str:
    """A named order that is not among the customer's, said plainly."""
    wanted = [_normalize(e.value) for e in env.classification.entities if e.type == "order_id"]
    found = {_order_id(o) for o in env.retrieval.orders}
    missing = [w for w in wanted if w not in found]
    if not missing:
        return ""
    return (f"We could not find order {missing[0]} among the orders on your account. Please check the order "
            "number and send it again.")


def _refund_part(env: Envelope, named: list[OrderFacts]) -> str:
    """Each asked-about order's refunds from its payment history, or that none was issued and what comes next.
    A refund request (not a status question) states refunds only where there are some."""
    asking_status = env.classification.intent == "track_refund"
    lines = []
    for o in _asked_orders(env, named):
        refunds = [p for p in o.payments if p.transaction_type == "refund"]
        if refunds:
            done = "; ".join(f"${p.amount:,.2f} to your {p.payment_method}" for p in refunds)
            lines.append(f"Order {_order_id(o)} ({o.status}): a refund has been issued: {done}.")
        elif asking_status:
            lines.append(f"Order {_order_id(o)} is {o.status}: no refund has been issued for it yet. "
                         + _REFUND_NEXT.get(o.status.strip().lower(), _REFUND_NEXT_DEFAULT))
    if not lines and asking_status and not _unknown_order(env):
        return "Please send us the order number you are asking about, so we can look its refund up."
    return "\n".join(lines)


_REFUND_NEXT = {
    "pending": "It has not shipped; if you cancel it, the full amount is refunded.",
    "processed": "It is being prepared for shipping, so it can no longer be cancelled; after delivery you can "
                 "return it for a refund.",
    "delivered": "If you would like to return items from it for a refund, tell us which ones.",
    "return requested": "Its return has been requested: the refund is issued when the items reach us.",
    "exchange requested": "Its exchange has been requested: any price difference is settled when the items "
                          "reach us.",
}
_REFUND_NEXT_DEFAULT = "Tell us what happened with it and we will look into it."


def _payments_part(env: Envelope, named: list[OrderFacts]) -> str:
    """The charges and refunds of the orders the ticket names, as the order's payment history has them."""
    lines = []
    for o in named:
        moves = "; ".join(f"{'refund' if p.transaction_type == 'refund' else 'payment'} of ${p.amount:,.2f} "
                          f"({p.payment_method})" for p in o.payments) or "no payment recorded"
        items = f" ({', '.join(o.item_names)})" if o.item_names else ""
        lines.append(f"Order {_order_id(o)}{items} is {o.status}, total ${o.total:,.2f}; its payments: {moves}.")
    return "\n".join(lines)


def _cancellation_part(env: Envelope, named: list[OrderFacts]) -> str:
    """Whether each named order can still be cancelled, from its status."""
    lines = []
    for o in named:
        status = o.status.strip().lower()
        if status == "pending":
            lines.append(f"Order {_order_id(o)} is pending, so it can still be cancelled, free of charge.")
        elif status == "delivered":
            lines.append(f"Order {_order_id(o)} has been delivered, so it can no longer be cancelled, but you "
                         "can return it.")
        else:
            lines.append(f"Order {_order_id(o)} is {o.status}, so it can no longer be cancelled.")
    return "\n".join(lines)


def _payment_methods_part(env: Envelope, named: list[OrderFacts]) -> str:
    methods = [m.description for m in env.retrieval.payment_methods if m.description]
    if not env.retrieval.customer_id or not methods:
        return ""
    return "The payment methods saved on your account are: " + "; ".join(methods) + "."


def _address_part(env: Envelope, named: list[OrderFacts]) -> str:
    address = env.retrieval.default_address
    if not env.retrieval.customer_id or not address:
        return ""
    return f"The default address on your account is {address}."


_ELEMENTS = {
    "order_status": _order_status_part,
    "refund_status": _refund_part,
    "payments": _payments_part,
    "cancellation_terms": _cancellation_part,
    "payment_methods": _payment_methods_part,
    "default_address": _address_part,
}
_PROFILE_FACTS = {"payment_methods": "which payment methods you have saved",
                  "default_address": "which default address we have on file"}


def _profile_offer(elements: Sequence[str]) -> str:
    wanted = [_PROFILE_FACTS[e] for e in elements if e in _PROFILE_FACTS]
    return PROFILE_OFFER.format(what=" and ".join(wanted)) if wanted else ""


def _answered(env: Envelope) -> Reply | Handoff:
    """The reply to the customer's yes or no: what the store did, in its own words, and what it refused."""
    a = env.analysis
    done = [x.detail for x in a.actions if x.status == "done" and x.detail]
    parts = (["As you confirmed, we have taken care of this."] + done) if done else []
    if a.policy_reason:
        parts.append(a.policy_reason)
    if not parts:
        return _handoff(env, "no_policy_decision", "the answer to a proposal left nothing to report",
                        "A member of our support team will look at your request and reply to you.")
    return _finish(env, "\n\n".join(parts), [])


def _order_question(env: Envelope) -> bool:
    """A ticket that names an order and quotes no error code asks about that order, whatever the intent
    says: it is answered from the order's facts (or handed over), never with troubleshooting steps."""
    types = {e.type for e in env.classification.entities}
    return "order_id" in types and "error_code" not in types


def _concerns_orders(env: Envelope) -> bool:
    c = env.classification
    named = any(e.type == "order_id" for e in c.entities)
    return c.intent in ACTION_INTENTS or c.intent in STATUS_INTENTS or named


def _order(env: Envelope, decide_write: bool = False) -> Reply | Handoff:
    r, a, intent = env.retrieval, env.analysis, env.classification.intent
    if COMMERCE_UNAVAILABLE in env.degradations:
        errors = "; ".join(r.lookup_errors) or "the commerce service was unavailable"
        return _handoff(env, "degraded", f"order lookup failed: {errors}",
                        "Our order system cannot be reached right now, so a member of our support team will "
                        "look up your order and reply to you.")
    if not r.customer_id or a.policy_code == "identity_not_verified":
        return _finish(env, IDENTITY_REQUEST, [])
    if intent in ACTION_INTENTS or decide_write:
        decided = _policy_text(env)
        return decided if isinstance(decided, Handoff) else _finish(env, decided, [])
    return _status(env)


def _policy_text(env: Envelope) -> str | Handoff:
    """What the analyst decided for a write request, in the store's words, or the handoff without a decision."""
    a = env.analysis
    done = [x for x in a.actions if x.status == "done" and x.detail]
    if done:
        # What the store actually did, in its own words (amounts, payment method, timing); nothing else is
        # claimed, and nothing is asked for confirmation any more.
        return "\n\n".join(["We have taken care of this for you."] + [x.detail for x in done])
    if a.policy_decision not in ("allowed", "refused") or not a.policy_reason:
        return _handoff(env, "no_policy_decision", "no store-policy decision was made for this order request",
                        "A member of our support team will look at your request and reply to you.")
    parts = [_with_items(env, a.policy_reason)]
    # A proposal with a key is kept by the analyst as an exact write: a "yes" carries it out. One without a
    # key leaves choices open (which items, which option), and the policy reason asks for them.
    proposed = [x for x in a.actions if x.status == "proposed" and x.idempotency_key]
    if a.policy_decision == "allowed" and proposed:
        what = "; ".join(x.detail or x.name.replace("_", " ") for x in proposed)
        parts.append(f"Once you confirm, we will {what}. Please reply \"yes\" to confirm or \"no\" to leave "
                     "everything as it is; nothing has been changed yet.")
    elif (a.policy_code in ("cancel_not_pending", "cancel_pending_order_refused")
          and _order_status(env, a.policy_reason) == "delivered"):
        parts.append("Would you like to start a return or an exchange instead?")
    return "\n\n".join(parts)


def _with_items(env: Envelope, text: str) -> str:
    """Name the items of each order the text names without them, so the customer sees what it is about."""
    for o in env.retrieval.orders:
        oid = _order_id(o)
        if o.item_names and f"Order {oid}" in text and not any(n in text for n in o.item_names):
            text = text.replace(f"Order {oid}", f"Order {oid} ({', '.join(o.item_names)})", 1)
    return text


_METHOD_ID = re.compile(
    r"\b(?:(?:credit card|paypal(?: account)?|gift card) )?((?:credit_card|paypal|gift_card)_\d+)\b", re.I)


def _readable_methods(env: Envelope, text: str) -> str:
    """Payment methods as the customer knows them ("Visa credit card ending in 4242"), not by the store's ids."""
    known = {m.id: m.description for m in env.retrieval.payment_methods}
    return _METHOD_ID.sub(lambda m: known.get(m.group(1), m.group(0)), text)


def _order_status(env: Envelope, text: str) -> str:
    """The status of the looked-up order that `text` names, if any."""
    for o in env.retrieval.orders:
        if _order_id(o) in text:
            return o.status.strip().lower()
    return ""


def _status(env: Envelope) -> Reply | Handoff:
    r, c = env.retrieval, env.classification
    named = [_normalize(e.value) for e in c.entities if e.type == "order_id"]
    orders = [o for o in r.orders if _order_id(o) in named] if named else list(r.orders)
    if not orders:
        if named:
            text = (f"We could not find order {named[0]} among the orders on your account. Please check the "
                    "order number and send it again.")
        else:
            text = "Please send us the order number you are asking about, so we can look it up."
        return _finish(env, text, [])
    lines = [_describe(o) for o in orders[:MAX_ORDERS_LISTED]]
    return _finish(env, "\n".join(lines), [])


def _describe(o: OrderFacts) -> str:
    items = f" ({', '.join(o.item_names)})" if o.item_names else ""
    sentence = f"Order {_order_id(o)}{items} is {o.status}."
    if len(o.tracking_ids) == 1:
        sentence += f" Tracking number: {o.tracking_ids[0]}."
    elif o.tracking_ids:
        sentence += f" Tracking numbers: {', '.join(o.tracking_ids)}."
    else:
        sentence += " It has no tracking number on record."
    # The store's order total is the sum of its item prices, as commerce reports it.
    return sentence + f" Order total: ${o.total:,.2f}."


def _technical(env: Envelope, max_steps: int) -> Reply | Handoff:
    articles, a = env.retrieval.articles, env.analysis
    if not articles:
        return _handoff(env, "no_grounding", "no knowledge-base article matched this technical problem",
                        "A specialist from our support team will look into this problem and reply to you.")
    steps = list(a.steps) or next((list(x.steps) for x in articles if x.steps), [])
    source = _source_of(steps, articles)
    parts = [a.diagnosis] if a.diagnosis else []
    if steps:
        parts.append(f"These steps come from the article \"{source.title}\"{_url(source)}:")
        parts.append("\n".join(f"{i}. {_clean_step(s)}" for i, s in enumerate(steps[:max_steps], 1)))
    else:
        parts.append(_article_answer(source))
    return _finish(env, "\n\n".join(parts), [source.id])


def _source_of(steps: Sequence[str], articles: Sequence[Article]) -> Article:
    """The article the steps were taken from, so the citation names where they came from."""
    return next((x for x in articles if steps and list(x.steps) == list(steps)), articles[0])


def _informational(env: Envelope) -> Reply | Handoff:
    articles = env.retrieval.articles
    if not articles:
        return _handoff(env, "no_grounding", "nothing was found to ground an answer on",
                        "A member of our support team will look into your request and reply to you.")
    return _finish(env, _article_answer(articles[0]), [articles[0].id])


def _article_answer(article: Article) -> str:
    snippet = _clean_snippet(article.snippet)
    if snippet:
        return f"From our article \"{article.title}\"{_url(article)}: {snippet}"
    return f"Our article \"{article.title}\"{_url(article)} covers this."


def _out_of_scope() -> str:
    return ("Thank you for reaching out. That request is outside what our support team can help with. "
            f"We can help with {CAPABILITIES}.")


def _finish(env: Envelope, body: str, article_ids: list[str]) -> Reply | Handoff:
    """Add greeting and tone, collect the citations, and refuse to send anything with an unfilled slot."""
    r, c = env.retrieval, env.classification
    greeting = f"Hi {r.customer_name.split()[0]}," if r.customer_id and r.customer_name.strip() else "Hello,"
    opener = APOLOGY if c.sentiment < APOLOGY_BELOW else ""
    body = _readable_methods(env, body)
    text = f"{greeting}\n\n{opener}{body}"
    if find_placeholder(text, quoted_facts(env)):
        return _handoff(env, "template_error", "the drafted reply still contained a template placeholder",
                        "A member of our support team will reply to you shortly.")
    return Reply(text=text, citations=cite(env, text, article_ids), greeting=greeting, body=f"{opener}{body}")


def cite(env: Envelope, text: str, article_ids: Sequence[str]) -> list[str]:
    """The articles used, then `order:#W…` for every looked-up order `text` mentions."""
    citations = list(dict.fromkeys(x for x in article_ids if x))
    return citations + [f"order:{oid}" for oid in dict.fromkeys(_order_id(o) for o in env.retrieval.orders)
                        if oid in text]


def find_placeholder(text: str, quoted: Sequence[str]) -> str | None:
    """An unfilled template slot in `text` outside the quoted facts, or None."""
    for fact in sorted((q for q in quoted if q), key=len, reverse=True):
        text = text.replace(fact, " ")
    match = _PLACEHOLDER.search(text)
    return match.group(0) if match else None


def quoted_facts(env: Envelope) -> list[str]:
    """Every envelope string a reply may quote verbatim, in the form the reply quotes it."""
    r, a = env.retrieval, env.analysis
    facts = [r.customer_name, a.diagnosis, a.policy_reason, *(x.detail for x in a.actions)]
    for x in r.articles:
        facts += [x.title, x.url, _clean_snippet(x.snippet), *(_clean_step(s) for s in x.steps)]
    facts += [_clean_step(s) for s in a.steps]
    for o in r.orders:
        facts += [o.status, *o.item_names, *o.tracking_ids]
    return facts


def _handoff(env: Envelope, reason: str, why: str, customer_message: str) -> Handoff:
    summary = handoff.summary(env, reason, why, customer_message, stage="response-generator")
    return Handoff(reason=reason, summary=summary, customer_message=customer_message)


def _normalize(order_id: str) -> str:
    return "#" + order_id.strip().lstrip("#").upper()


def _order_id(o: OrderFacts) -> str:
    return _normalize(o.order_id)


def _url(article: Article) -> str:
    return f" ({article.url})" if article.url else ""


def _clean_step(step: str) -> str:
    return " ".join(_STEP_NUMBER.sub("", step).split())


def _clean_snippet(snippet: str) -> str:
    """The snippet as plain prose: no highlight tags, one line, cut at a sentence end when long."""
    text = " ".join(_TAG.sub("", snippet).split())
    if len(text) <= MAX_SNIPPET_CHARS:
        return text
    cut = text[:MAX_SNIPPET_CHARS]
    end = cut.rfind(". ")
    return cut[: end + 1] if end > MAX_SNIPPET_CHARS // 3 else cut.rsplit(" ", 1)[0] + " ..."
