"""A ticket's several requests ("return two items, exchange a third, change the address"): one per change and order.

The ticket's words are cut at each request verb (return, cancel, exchange / modify / change the …, change the
address, remove … from the order); each part asks for one kind of change, of the items it names. An item tells
its order when exactly one of the customer's orders in the status the change needs holds it (a return only of
a delivered order, a cancellation or a change of address only of a pending one); a part without items ("cancel
the whole order") is about the order of the request before it. Parts of one change on one order are one request
(an exchange or an item change can be made only once per order, so all its items go in one write).

A verb that is negated ("I do not want to cancel") or sits inside a condition or a question ("if cancelling part
of it is not possible", "check whether I can return …") asks for nothing. A part that follows "if that is not
possible / not available / otherwise" is a fallback: it is wanted only if the request before it cannot be made.

Pure code: which order, status and policy rule apply is decided here from the looked-up order facts; the exact
writes (items, options, payment) are made from commerce reads in planned_writes.py.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from supportmesh.v1.envelope_pb2 import OrderFacts

from .order_rules import EXCEPT, first_mention, normalize_order_id, text_tokens

CANCEL, RETURN, MODIFY_ITEMS, MODIFY_ADDRESS = "cancel", "return", "modify_items", "modify_address"
# The account's default address ("change my user / default / home address to …"): no order, order_id "".
USER_ADDRESS = "user_address"
# "remove the jacket from my order": a cancellation of some items, which the policy does not offer.
REMOVE = "remove"
# The statuses each change acts on (policy.md: cancel / modify pending, return / exchange delivered).
_STATUSES = {USER_ADDRESS: ("",), CANCEL: ("pending",), REMOVE: ("pending",), MODIFY_ADDRESS: ("pending",),
             RETURN: ("delivered",), MODIFY_ITEMS: ("pending", "delivered")}
# Verbs that ask for a change, most specific first (an address change also reads as "change the …"); an address
# change's words stop at another request verb ("change the lamp to red, and change the address").
_OTHER_VERB = r"(?!\b(?:change|modify|exchange|return|cancel|swap|switch)\b)"
_ACCOUNT_ADDRESS = (r"(?:(?:my|the|our)\s+)?(?:new\s+)?"
                    r"(?:(?:user|default|account|profile|home|permanent|main|primary)\s+)+"
                    r"(?:shipping\s+)?address(?!es)\b(?!\s+(?:of|for|on)\s+(?:the|my|this|that)\s+order)"
                    r"|(?:(?:my|the)\s+)?(?:new\s+)?address\s+(?:on|in|to)\s+(?:my\s+)?(?:account|profile|file)\b")
_VERBS = (
    (USER_ADDRESS, re.compile(rf"\b(?:change|modify|update|correct|fix|set|put|make|save)\w*\s+(?:as\s+)?"
                              rf"(?:{_ACCOUNT_ADDRESS})"
                              rf"|\band\s+(?:also\s+)?(?:{_ACCOUNT_ADDRESS})(?=[^.;]{{0,40}}\bto\b)", re.I)),
    # Also an order sent somewhere else without the word "address": "can it go to my shop instead: 4100 Kettner
    # Blvd", "should go to my new apartment at 77 Lakeshore Drive", "please ship it to 12 Elm St instead".
    (MODIFY_ADDRESS, re.compile(rf"\b(?:change|modify|update|correct|fix)\w*\b(?:{_OTHER_VERB}[^.;]){{0,60}}?\baddress"
                                r"|\b(?:send|ship|deliver|go|redirect|re-?route)\b(?:(?!\bback\b)[^.;?\n]){0,40}?\bto\b"
                                r"(?=[^.;?\n]{0,60}?(?:\binstead\b|\b\d{1,5}\s+[A-Z][a-z]+))", re.I)),
    (CANCEL, re.compile(r"\bcancel(?:l?ing|s)?\b|\bbe cancell?ed\b", re.I)),
    (RETURN, re.compile(r"\breturn(?:s|ing)?\b|\bbe returned\b", re.I)),
    # A verb with its object ("change the lamp", "exchange it"), so "due to some life changes" is no request.
    (MODIFY_ITEMS, re.compile(r"\bexchange\s+\w|\b(?:swap|modify|change|switch)(?:ing)?\s+(?:my|the|it|this|that|"
                              r"all|one|both|a|an|these|those|them|item|order)\b|\bbe (?:exchanged|modified|changed)\b",
                              re.I)),
    (REMOVE, re.compile(r"\bremove\b(?=[^.;]{0,60}\bfrom\b)", re.I)),
)
# What the verb's own words say about an item change: "exchange" what was received, "modify" what is pending.
_EXCHANGE_WORDS = re.compile(r"\breceived\b|\bdelivered\b", re.I)
_MODIFY_WORDS = re.compile(r"\bpending\b|\bjust (?:ordered|placed)\b|\bnot (?:yet )?shipped\b", re.I)
_SENTENCE_END = re.compile(r"[.!?;:](?:\s|$)|\n")
# A verb right after a negation asks for nothing ("I do not want to cancel any orders", "don't return it").
_NEGATED = re.compile(r"\b(?:not|never|no need to|n't)\s+(?:\w+\s+){0,3}$", re.I)
# The start of a condition or a question whose clause has not ended (no comma since): a verb in it is the
# condition's subject ("if cancelling part of the order is not possible, …"), not a request.
_OPEN_CONDITION = re.compile(r"\b(?:if|whether|unless|in case)\b[^,;]*$", re.I)
# "If that is not possible / not available, …", "otherwise …": what follows is wanted only as a fallback.
_FALLBACK = re.compile(r"\b(?:if\b[^,;]*\b(?:not|no|n't|cannot|unavailable|impossible)\b[^,;]*,\s*(?:\w+\s+){0,6}$"
                       r"|otherwise\b|if not\b|else\b)", re.I)
_WHOLE_ORDER = re.compile(r"\b(?:whole|entire|full|complete)\s+order\b|\ball (?:the )?items\b|\beverything\b", re.I)
_ALL_ORDERS = re.compile(r"\ball\s+(?:of\s+)?(?:my\s+|the\s+)?(?:possible\s+|pending\s+|delivered\s+)?orders\b", re.I)


@dataclass(frozen=True)
class Request:
    """One change the ticket asks for, on one order (order_id "" when the text and account leave it open)."""

    rule: str                       # cancel | return | modify_items | modify_address | remove
    order_id: str                   # normalized (#W…); "" when not told
    clause: str                     # the words asking for it (its items and options)
    items: tuple[str, ...] = ()     # the order's item names the clause names
    fallback: bool = False          # wanted only if the request before it cannot be made
    candidates: tuple[str, ...] = ()  # order_id "": the orders it could be about
    whole_order: bool = False       # the clause says the whole order ("cancel the entire order")


@dataclass(frozen=True)
class Part:
    """The words of one request verb: `clause` up to the next verb, `sentence` also cut at its sentence's end."""

    rule: str
    verb: str
    clause: str
    sentence: str
    fallback: bool


def request_parts(text: str) -> list[Part]:
    """The text's request verbs in order, each with its words; the words of a sentence before its first verb
    belong to that verb ("The puzzle in the same order also needs to be exchanged")."""
    found: list[tuple[int, int, str, str]] = []
    for n, (rule, pattern) in enumerate(_VERBS):
        for m in pattern.finditer(text):
            found.append((m.start(), n, rule, m.group(0).split()[0].lower()))
    found.sort()
    starts: list[tuple[int, str, str]] = []
    for pos, _, rule, verb in found:
        if starts and pos < starts[-1][0] + 3:   # the same verb matched by two patterns: the first (specific) wins
            continue
        lead = text[_sentence_start(text, pos):pos]
        # A negated verb or one inside a condition or question asks for nothing, but still ends the words before.
        asks = not (_NEGATED.search(lead) or _OPEN_CONDITION.search(lead))
        starts.append((pos, rule if asks else "", verb))
    bounds: list[list] = []
    for pos, rule, verb in starts:
        sentence = _sentence_start(text, pos)
        start = sentence if not bounds or bounds[-1][0] < sentence else pos
        if bounds:
            bounds[-1][1] = start
        bounds.append([start, len(text), pos, rule, verb])
    parts = []
    for start, end, pos, rule, verb in bounds:
        if not rule:
            continue
        stop = _SENTENCE_END.search(text, pos)
        sentence_end = min(end, stop.end()) if stop else end
        lead = text[_sentence_start(text, pos):pos]
        parts.append(Part(rule, verb, text[start:end], text[start:sentence_end],
                          bool(parts) and bool(_FALLBACK.search(lead))))
    return parts


def _sentence_start(text: str, pos: int) -> int:
    ends = [m.end() for m in _SENTENCE_END.finditer(text, 0, pos)]
    return ends[-1] if ends else 0


# "the same address as order #W…" names an order to copy from, not one to change.
_REFERENCE = re.compile(r"\bsame\b[^.;]{0,30}?\bas\b[^.;#]{0,20}#?W\d{7}", re.I)
_THE_ORDER = re.compile(r"\border\b", re.I)
# "…the two skateboards I just bought. I want to return them": a pronoun object names the sentence before's items.
_PRONOUN_OBJECT = re.compile(r"\b(?:return|cancel|exchange|swap|send back)\s+(?:them|it|both)\b", re.I)
_ORDER_ADDRESSES = re.compile(r"\ball\b[^.;]{0,20}\border(?:s'|s)? (?:shipping )?addresses\b"
                              r"|\bincluding (?:all )?(?:the|my) (?:pending )?orders\b", re.I)
_SAME_ORDER = re.compile(r"\b(?:in|from|of) the same order\b", re.I)
_OTHER_ORDER = re.compile(r"\b(?:in|from) (?:an|my|the) ?other order\b|\bin another order\b", re.I)


def split_requests(text: str, orders: Sequence[OrderFacts], named_order_ids: Sequence[str] = ()) -> list[Request]:
    """The ticket's requests, one per (change, order), in the order the text asks them.

    `orders` are the customer's looked-up orders; `named_order_ids` the order ids the ticket quotes. A part
    whose order cannot be told stays a request without an order (with the orders it could be)."""
    by_id = {normalize_order_id(o.order_id): o for o in orders}
    named = [i for i in dict.fromkeys(normalize_order_id(x) for x in named_order_ids) if i in by_id]
    requests: list[Request] = []
    previous = ""   # the order of the request before: "cancel the whole order", "change its address"
    for part in request_parts(text):
        rule, clause = part.rule, part.clause
        statuses = _statuses(rule, part.verb, part.sentence)
        in_clause = [i for i in dict.fromkeys(normalize_order_id(m) for m in
                                              re.findall(r"#?\bW\d{7}\b", _REFERENCE.sub(" ", part.sentence), re.I))
                     if i in by_id]
        whole = bool(_WHOLE_ORDER.search(part.sentence))
        if rule == USER_ADDRESS:
            requests.append(Request(rule, "", clause, (), part.fallback))
            if _ORDER_ADDRESSES.search(part.sentence):
                # "my user address and all possible order addresses": each pending order's too.
                requests.extend(Request(MODIFY_ADDRESS, normalize_order_id(o.order_id), clause, (), part.fallback)
                                for o in orders if _status(o) == "pending")
            continue
        if in_clause:
            tokens = text_tokens(EXCEPT.sub(" ", clause))
            targets = [(oid, _named_items(by_id[oid], tokens)) for oid in in_clause]
        elif _ALL_ORDERS.search(part.sentence) and rule in (CANCEL, RETURN):
            targets = [(normalize_order_id(o.order_id), ()) for o in orders if _status(o) in statuses]
            whole = True
        else:
            # The items of the request's own sentence ("cancel the order since I no longer need it. Finally,
            # how much did I pay for the grills" names no grill to cancel).
            words = part.sentence
            targets = _by_items(orders, statuses, text_tokens(EXCEPT.sub(" ", words)),
                                previous if _SAME_ORDER.search(words) else "",
                                previous if _OTHER_ORDER.search(words) else "")
            at = text.find(words)
            if targets is None and _PRONOUN_OBJECT.search(words) and at > 0 and _sentence_start(text, at) == at:
                end = len(text[:at].rstrip())
                before = text[_sentence_start(text, end - 1):end]
                targets = _by_items(orders, statuses, text_tokens(EXCEPT.sub(" ", before)))
                if targets is not None:
                    clause = f"{before.strip()} {clause}"   # the write reads its items from the clause
            if targets is None:
                # No item named: the order before, the one the ticket names, or, when the words say "the order",
                # the customer's only order in that status ("these two things" refers to something else).
                wanted = statuses if not statuses[0] else statuses[:1]
                fit = [oid for oid in ([previous] if previous else []) + named
                       if oid in by_id and _status(by_id[oid]) in wanted]
                if not fit and _THE_ORDER.search(words):
                    fit = [normalize_order_id(o.order_id) for o in orders if _status(o) in wanted]
                    fit = fit if len(fit) == 1 else []
                if len(set(fit)) > 1 and not previous:
                    # "I want to cancel it" with two named orders in that status: asked, never guessed.
                    requests.append(Request(rule, "", clause, (), part.fallback, candidates=tuple(dict.fromkeys(fit))))
                    continue
                targets = [(fit[0], ())] if fit else [("", ())]
        for oid, items in targets:
            if not oid:
                requests.append(Request(rule, "", clause, tuple(items), part.fallback,
                                        candidates=_holding(orders, statuses, items)))
                continue
            requests.append(Request(rule, oid, clause, tuple(items), part.fallback, whole_order=whole))
            previous = oid
    return _merged(requests)


def _statuses(rule: str, verb: str, words: str) -> tuple[str, ...]:
    """The statuses the change acts on, the preferred first: for an item change the verb says which ("exchange"
    what was received, "modify" what is pending), else its words ("the one I received", "my pending order")."""
    if rule != MODIFY_ITEMS:
        return _STATUSES[rule]
    if verb.startswith("exchange") or (_EXCHANGE_WORDS.search(words) and not _MODIFY_WORDS.search(words)):
        return ("delivered", "pending")
    if verb.startswith("modif") or (_MODIFY_WORDS.search(words) and not _EXCHANGE_WORDS.search(words)):
        return ("pending", "delivered")
    return ("", "pending", "delivered")   # no preference


def _status(o: OrderFacts) -> str:
    return o.status.strip().lower()


def _named_items(o: OrderFacts, tokens: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n for n in o.item_names if first_mention(tokens, n) is not None))


def _by_items(orders: Sequence[OrderFacts], statuses: tuple[str, ...], tokens: list[str], same: str = "",
              other: str = "") -> list[tuple[str, tuple[str, ...]]] | None:
    """Each product the clause names, with the one order (in a status the change acts on, the preferred status
    first) that holds it; ("", (name,)) for a product several such orders hold. None when no product is named."""
    products: dict[str, list[OrderFacts]] = {}
    for o in orders:
        for name in o.item_names:
            if first_mention(tokens, name) is not None:
                products.setdefault(name, [])
                if _status(o) in statuses and o not in products[name]:
                    products[name].append(o)
    if not products:
        return None
    out: dict[str, list[str]] = {}
    for name, holding in products.items():
        if len(holding) > 1 and same:
            # "The puzzle in the same order": the order of the request before, when it holds one.
            holding = [o for o in holding if normalize_order_id(o.order_id) == same] or holding
        if len(holding) > 1 and other:
            holding = [o for o in holding if normalize_order_id(o.order_id) != other]
        if len(holding) > 1 and statuses[0]:
            # An item in a delivered and a pending order: the verb's preference ("exchange" what was received).
            preferred = [o for o in holding if _status(o) == statuses[0]]
            holding = preferred if len(preferred) == 1 else holding
        if len(holding) == 1:
            out.setdefault(normalize_order_id(holding[0].order_id), []).append(name)
        elif holding:
            out.setdefault("", []).append(name)
        # No order in the right status holds it: the request is decided on the order that does (a refusal).
        else:
            other = [o for o in orders if name in o.item_names]
            if len(other) == 1:
                out.setdefault(normalize_order_id(other[0].order_id), []).append(name)
            else:
                out.setdefault("", []).append(name)
    return [(oid, tuple(names)) for oid, names in out.items()]


def _holding(orders: Sequence[OrderFacts], statuses: tuple[str, ...], items: Sequence[str]) -> tuple[str, ...]:
    return tuple(normalize_order_id(o.order_id) for o in orders
                 if _status(o) in statuses and any(n in o.item_names for n in items))


def _merged(requests: list[Request]) -> list[Request]:
    """One request per (change, order): an exchange or item change is made once per order with all its items.
    A fallback that asks for the same change on the same order as its primary adds nothing and is dropped."""
    out: list[Request] = []
    for r in requests:
        if r.rule == USER_ADDRESS:
            # One default address: a second mention ("… and then change it back") adds its words to the first.
            first = next((i for i, x in enumerate(out) if x.rule == USER_ADDRESS), None)
            if first is None:
                out.append(r)
            else:
                out[first] = Request(USER_ADDRESS, "", f"{out[first].clause} {r.clause}", (), out[first].fallback)
            continue
        if not r.order_id and not r.items and any(x.rule == r.rule and x.order_id for x in requests):
            continue   # "make sure all the items I want to return are returned": restates a request made
        same = next((i for i, x in enumerate(out) if r.order_id and x.order_id == r.order_id and x.rule == r.rule),
                    None)
        if same is None:
            out.append(r)
            continue
        x = out[same]
        # The fallback's words stay with its primary: they say what to do when an option is not available.
        items = x.items if r.fallback and not x.fallback else tuple(dict.fromkeys(x.items + r.items))
        out[same] = Request(x.rule, x.order_id, f"{x.clause} {r.clause}", items, x.fallback and r.fallback,
                            x.candidates, x.whole_order or r.whole_order)
    return out


def conditional(clause: str) -> bool:
    """Whether the request's own sentence makes it depend on something not yet known ("If that is not possible,
    cancel the order", "If not, cancel the charger")."""
    stop = _SENTENCE_END.search(clause)
    sentence = clause[:stop.end()] if stop else clause
    return bool(re.search(r"\bif\b[^,;.]*(?:\b(?:no|not|cannot|unavailable|impossible)\b|n't\b)", sentence, re.I))


# ---- several requests: which apply, and one reply for them all --------------------------------------------

@dataclass(frozen=True)
class Outcome:
    """What one request came to: an exact write kept for the "yes", an open choice, or a refusal, with the
    sentence the reply says about it."""

    request: Request
    reason: str                     # customer-readable: the rule that allows it, the choice it needs, or why not
    write: object | None = None     # writes.PlannedWrite, kept for the customer's "yes"
    action: str = ""                # the store action (cancel_pending_order, …), also when no exact write
    impossible: bool = False        # cannot be done as asked (refused, option not available): its fallback applies
    needs_human: bool = False       # a refund above the approval limit


def several(requests: Sequence[Request]) -> bool:
    """Whether the ticket is decided request by request: it asks for more than one thing, at least one of them on
    an order it tells, or it asks to change the account's default address (a request on no order)."""
    return (len(requests) > 1 and any(r.order_id for r in requests)) or any(r.rule == USER_ADDRESS for r in requests)


def settle(outcomes: Sequence[Outcome]) -> list[Outcome]:
    """The outcomes that stand: a fallback only when the request before it cannot be done as asked (then that
    request's refusal is kept as the reason the fallback is proposed)."""
    kept: list[Outcome] = []
    primary: Outcome | None = None
    for o in outcomes:
        if not o.request.fallback or primary is None:
            kept.append(o)
            primary = o
            continue
        if primary.impossible:
            kept.append(o)
    return kept


def is_partial_cancel(request: Request, item_names: Sequence[str]) -> bool:
    """A cancellation (or removal) of some items of an order: the policy cancels only whole orders."""
    if request.rule == REMOVE:
        return not request.whole_order and set(request.items) != set(item_names)
    return (request.rule == CANCEL and bool(request.items) and not request.whole_order
            and bool(set(item_names) - set(request.items)))


_ONLY = re.compile(r"\bonly\b|\bjust (?:that|this|the)\b|\bnot the (?:whole|entire)\b", re.I)
# Anywhere in the ticket: "I never want to cancel my entire order", "don't cancel the rest", "keep the rest".
_KEEP_ORDER = re.compile(r"\b(?:never|not|don'?t|dont|no)\b(?:\s+\w+){0,3}\s+cancel\w*\s+(?:my|the)\s+"
                         r"(?:entire|whole|full|complete)\s+order\b|\b(?:don'?t|do not|not)\s+cancel\s+the\s+rest\b"
                         r"|\bkeep\s+the\s+rest\b", re.I)


def only_those_items(clause: str, text: str = "") -> bool:
    """Whether the customer wants only the named items cancelled, not their order ("I ONLY want to cancel that
    hose", "I never want to cancel my entire order"): then the whole order is not proposed."""
    return bool(_ONLY.search(clause) or _KEEP_ORDER.search(text))


def whole_order_note(order_id: str, items: Sequence[str]) -> str:
    return (f"Single items cannot be cancelled, so this cancels the whole order {order_id} with all its items "
            f"({', '.join(items)}).")


def partial_cancel_reason(order_id: str, items: Sequence[str]) -> str:
    return (f"Single items cannot be removed from order {order_id}: only a whole pending order can be cancelled "
            f"(policy: Cancel pending order), so we have not proposed cancelling it for the {', '.join(items)}. "
            "Tell us if you want the whole order cancelled.")


def unresolved_reason(request: Request) -> str:
    if request.rule == USER_ADDRESS:
        return ("The default address on your account can be changed; please send us the full new address (street, "
                "apartment or suite if any, city, state and zip code).")
    what = {CANCEL: "cancel", RETURN: "return", MODIFY_ITEMS: "change", MODIFY_ADDRESS: "change the address of",
            REMOVE: "change"}[request.rule]
    if request.candidates:
        return (f"Several of your orders hold {', '.join(request.items) or 'what you name'} "
                f"({', '.join(request.candidates)}); please tell us which one you want us to {what}.")
    return f"We could not tell which order you want us to {what}; please send us its order number."


# The intent a request verb asks for: what an `order_request` ticket is decided as when the classifier read it as
# a question (the reply keeps the question's contract and leads with the decision).
_RULE_INTENTS = {CANCEL: "cancel_order", RETURN: "get_refund", MODIFY_ITEMS: "change_order",
                 MODIFY_ADDRESS: "change_shipping_address", USER_ADDRESS: "set_up_shipping_address"}


_CANCEL_OR_RETURN = re.compile(r"\b(?:cancel\w*\s+or\s+return|return\w*\s+or\s+cancel)\w*\b", re.I)


def requested_intent(text: str) -> str:
    """The write intent of the text's first request verb that asks for something; "" when none does (a negated
    or conditional verb, or only "remove … from the order", which the policy does not offer). "Cancel or return
    everything" asks for the purchase to be undone as each order's status allows: the return's rule, which also
    covers every delivered order (policy.decide)."""
    if _CANCEL_OR_RETURN.search(text):
        return _RULE_INTENTS[RETURN]
    return next((_RULE_INTENTS[p.rule] for p in request_parts(text) if p.rule in _RULE_INTENTS), "")
