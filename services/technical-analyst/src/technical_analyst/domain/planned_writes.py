"""The exact write a proposal stands for: which items, which new options, which payment method.

A proposal the customer can confirm with a plain "yes" must name everything commerce needs, chosen from the
order's lines, the product's variants and the customer's payment methods by what the ticket says. When the
ticket leaves a choice open (no item named, no option that fits), there is no exact write, and the reply asks
instead of proposing something the customer did not say.
"""

import ast
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .address import parse_address
from .address import words as address_words
from .order_rules import EXCEPT, first_mention, normalize_order_id, text_tokens

CANCEL = "cancel_pending_order"
RETURN = "return_delivered_order_items"
EXCHANGE = "exchange_delivered_order_items"
MODIFY_ITEMS = "modify_pending_order_items"
MODIFY_ADDRESS = "modify_pending_order_address"
MODIFY_USER_ADDRESS = "modify_user_address"   # the account's default address (no order)
ADDRESS_PARTS = ("address1", "address2", "city", "state", "country", "zip")
_BY_MISTAKE = re.compile(r"\b(?:by mistake|by accident|accidental(?:ly)?|mistaken(?:ly)?|in error)\b", re.I)
_ALL_ITEMS = re.compile(r"\b(?:all|everything|every item|whole order|entire order)\b", re.I)
_CHEAPEST = re.compile(r"\b(?:cheapest|least expensive|lowest price|cheaper)\b", re.I)
_DEAREST = re.compile(r"\b(?:most expensive|priciest|highest price)\b", re.I)
_METHOD_WORDS = {"gift_card": re.compile(r"\bgift ?card\b", re.I), "paypal": re.compile(r"\bpay ?pal\b", re.I),
                 "credit_card": re.compile(r"\bcredit ?card\b|\b(?:visa|mastercard|amex)\b", re.I)}


@dataclass(frozen=True)
class OrderLine:
    item_id: str
    product_id: str
    name: str
    price: float
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OrderDetail:
    """An order as commerce returns it, with what a write needs."""

    order_id: str
    status: str
    lines: Sequence[OrderLine]
    original_payment_method: str = ""
    address: tuple[str, ...] = ()        # ADDRESS_PARTS


@dataclass(frozen=True)
class Variant:
    item_id: str
    options: Mapping[str, str]
    available: bool
    price: float


@dataclass(frozen=True)
class PaymentOption:
    id: str
    source: str   # credit_card | paypal | gift_card


@dataclass(frozen=True)
class CustomerDetail:
    """The customer's payment methods and default address (ADDRESS_PARTS)."""

    methods: Sequence[PaymentOption]
    address: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlannedWrite:
    """One write, complete: what commerce is asked to do when the customer says yes."""

    action: str
    order_id: str
    idempotency_key: str
    detail: str                          # what will be done, in words the reply can quote
    item_ids: tuple[str, ...] = ()
    new_item_ids: tuple[str, ...] = ()
    payment_method_id: str = ""
    reason: str = ""                     # cancellations: 'no longer needed' | 'ordered by mistake'
    amount: float = 0.0                  # returns: the refund; swaps: the price difference (new minus old)
    address: tuple[str, ...] = ()        # address changes: the new address (ADDRESS_PARTS)


def confirmation_key(ticket_id: str, action: str, order_id: str) -> str:
    """The idempotency key of a proposed write: one per proposing ticket, action and order, so however often
    the customer's "yes" is delivered, commerce makes the write once."""
    return hashlib.sha256(f"{ticket_id}:{action}:{normalize_order_id(order_id)}".encode()).hexdigest()[:32]


# Where each kind of write is asked for, so the items of "return the bottle, and exchange the chair" are split.
_VERBS = {RETURN: re.compile(r"\breturn", re.I), CANCEL: re.compile(r"\bcancel", re.I),
          EXCHANGE: re.compile(r"\b(?:exchange|modify|change|swap|switch)", re.I)}
_VERBS[MODIFY_ITEMS] = _VERBS[EXCHANGE]
_MORE = re.compile(r"\b(?:more|most) expensive\b", re.I)
_IF_NOT_AVAILABLE = re.compile(r"\bif\b[^,;.]*(?:\b(?:no|not|unavailable)\b|n't\b)", re.I)
_LESS = re.compile(r"\b(?:less|least) expensive\b|\bcheap(?:er|est)\b", re.I)


def action_clause(text: str, action: str, sentence: bool = False) -> str:
    """The part of the text that asks for `action`: from its verb to the verb of another kind of write, or with
    `sentence` also to the end of its sentence (the whole text when the verb is not there)."""
    own = _VERBS[action].search(text)
    if own is None:
        return text
    ends = [m.start() for a, p in _VERBS.items() if p is not _VERBS[action]
            if (m := p.search(text, own.end())) is not None]
    if sentence and (stop := re.search(r"[.!?;](?:\s|$)", text[own.end():])):
        ends.append(own.end() + stop.end())
    return text[own.start(): min(ends, default=len(text))]


def named_lines(order: OrderDetail, text: str) -> list[OrderLine]:
    """The order's lines whose product the text names, leaving out those it excepts ("all but the lamp")."""
    tokens = text_tokens(EXCEPT.sub(" ", text))
    return [line for line in order.lines if first_mention(tokens, line.name) is not None]


def _excepted(order: OrderDetail, text: str) -> set[str]:
    tokens = text_tokens(" ".join(m.group(0) for m in EXCEPT.finditer(text)))
    return {line.item_id for line in order.lines if first_mention(tokens, line.name) is not None}


def order_by_options(orders: Sequence[OrderDetail], text: str) -> OrderDetail | None:
    """Among orders that all hold an item the text names, the one whose named item has the options the text
    names ("the 15-inch, 32GB laptop", "my small t-shirt"); None when no single order fits better."""
    words = _tokens(text)
    tokens, joined = set(words), " ".join(words)
    scored = []
    for order in orders:
        lines = named_lines(order, text)
        best = max((sum(_share_named(v, tokens, joined) == 1.0 for v in line.options.values()) for line in lines),
                   default=0)
        scored.append((best, order))
    top = max((s for s, _ in scored), default=0)
    winners = [o for s, o in scored if s == top]
    return winners[0] if top > 0 and len(winners) == 1 else None


# Where the new address is to be found when the customer does not write it out.
_SAME_AS_ORDER = re.compile(r"\bsame (?:address )?as (?:(?:in|on|for|of) )?(?:my )?(?:order )?#?(W\d{7})", re.I)
_DEFAULT_ADDRESS = re.compile(r"\b(?:default|profile|account|on file)\b[^.;]{0,40}\baddress\b"
                              r"|\baddress\b[^.;]{0,40}\b(?:in|on) (?:my )?(?:profile|account|file)\b", re.I)


def new_address(text: str, customer: CustomerDetail, orders: Mapping[str, OrderDetail],
                clause: str | None = None) -> tuple[str, ...]:
    """The address the text points at: one it writes out (in the request's own words first), another order's
    ("the same as order #W…") or the default one on the account ("my default address"); () when it points at
    none the store knows."""
    written = parse_address(clause) if clause else ()
    if written or (written := parse_address(text)):
        return written
    same = _SAME_AS_ORDER.search(text)
    if same:
        other = orders.get(normalize_order_id(same.group(1)))
        return other.address if other is not None else ()
    if _DEFAULT_ADDRESS.search(text):
        return customer.address
    return ()


def plan_write(action: str, order: OrderDetail, text: str, ticket_id: str,
               variants: Mapping[str, Sequence[Variant]], customer: CustomerDetail,
               orders: Mapping[str, OrderDetail] | None = None, clause: str | None = None) -> PlannedWrite | None:
    """The exact write for `action` on `order` as the text asks it, or None when a choice is left open.
    `orders` are the other orders the text names (by id), for an address taken from one of them. `clause`, for
    one request of several (domain/requests.py), is the words asking for it: its items, options and reason
    come from there, the payment method from the whole text."""
    oid = normalize_order_id(order.order_id)
    key = confirmation_key(ticket_id, action, oid)
    methods = customer.methods
    if action == CANCEL:
        reason = "ordered by mistake" if _BY_MISTAKE.search(clause or text) else "no longer needed"
        return PlannedWrite(CANCEL, oid, key, f"cancel order {oid} (reason: {reason})", reason=reason)
    if action == MODIFY_ADDRESS:
        address = new_address(text, customer, orders or {}, clause)
        if not address or address == order.address:
            return None     # the reply asks for the full new address
        return PlannedWrite(MODIFY_ADDRESS, oid, key, f"change the shipping address of order {oid} to "
                            f"{address_words(address)}", address=address)
    if action not in (RETURN, EXCHANGE, MODIFY_ITEMS):
        return None
    # The items named in the request's own sentence ("return the purifier. ... whether I could return the
    # vacuum later"), else up to the next request ("exchange it to i7 ... it is the 15-inch laptop").
    if clause is not None:
        lines = named_lines(order, clause)
    else:
        lines = named_lines(order, action_clause(text, action, sentence=True)) or named_lines(
            order, action_clause(text, action))
    words = clause if clause is not None else text
    lines = _one_of_twins(lines, words)
    twins = twin_words(lines, words)
    if twins is None:
        return None     # "one of the kettles" of two different ones, and nothing says which: the reply asks
    lines, own_words = twins
    if not lines and _ALL_ITEMS.search(words):
        lines = [line for line in order.lines if line.item_id not in _excepted(order, words)]
    if not lines and action != RETURN and clause is None:
        # "I'd like the sunglasses with green lenses … switch it to the black one": the verb's own words name
        # nothing; the items the request's sentences name are the ones to change (each must then find its
        # option, or the reply asks).
        lines = named_lines(order, _from_request(text))
    if not lines and len(order.lines) == 1:
        lines = list(order.lines)     # "exchange it for the biggest bottle": the order's only item
    if not lines:
        return None
    if action == RETURN:
        method = _method(text, methods, order.original_payment_method, refund=True)
        amount = round(sum(line.price for line in lines), 2)
        names = ", ".join(line.name for line in lines)
        return PlannedWrite(RETURN, oid, key, f"return {names} from order {oid} for a refund of {amount:.2f} "
                            f"to {_method_words(method, methods)}", item_ids=tuple(line.item_id for line in lines),
                            payment_method_id=method, amount=amount)
    swaps, missing = [], []
    for n, line in enumerate(lines):
        own = own_words.get(n) or item_words(line, lines, words)
        new = choose_variant(line, variants.get(line.product_id, ()), own)
        if new is None:
            missing.append(line)
        else:
            swaps.append((line, new))
    # An item whose option is not available is left out only when the customer said what to do then ("if there
    # is no clicky one, only exchange the thermostat"); otherwise the reply asks.
    if missing and not (swaps and _IF_NOT_AVAILABLE.search(words)
                        and all(option_unavailable(x, variants.get(x.product_id, ()), words) for x in missing)):
        return None
    # "If it is less than 200 bucks I want to exchange it": a new item outside the customer's price is not
    # what they asked for; the reply asks instead.
    low, high = price_bounds(words)
    if any(not low <= v.price <= high for _, v in swaps):
        return None
    method = _method(text, methods, order.original_payment_method, refund=False)
    diff = round(sum(v.price - line.price for line, v in swaps), 2)
    what = "; ".join(f"{line.name} {_options(line.options)} to {_options(v.options)}" for line, v in swaps)
    verb = "exchange the items of" if action == EXCHANGE else "change the items of"
    if diff > 0:
        money = f"the price difference of {diff:.2f} charged to {_method_words(method, methods)}"
    elif diff < 0:
        money = f"the price difference of {-diff:.2f} refunded to {_method_words(method, methods)}"
    else:
        money = "no price difference"
    return PlannedWrite(action, oid, key, f"{verb} order {oid}: {what}; {money}",
                        item_ids=tuple(line.item_id for line, _ in swaps),
                        new_item_ids=tuple(v.item_id for _, v in swaps), payment_method_id=method, amount=diff)


_PRICE_BOUND = re.compile(
    r"\b(?:if|as long as|provided|only if)\b[^.;]*?\b(?P<dir>less|under|below|cheaper|lower|more|over|above|"
    r"pricier|higher)\b(?:\s+than)?\s+(?:\$|usd\s*)?(?P<amount>\d+(?:[.,]\d+)?)", re.I)


def price_bounds(text: str) -> tuple[float, float]:
    """The price range a condition of the text puts on the new item ("if it is less than 200 bucks")."""
    low, high = 0.0, float("inf")
    for m in _PRICE_BOUND.finditer(text):
        amount = float(m.group("amount").replace(",", "."))
        if m.group("dir").lower() in ("less", "under", "below", "cheaper", "lower"):
            high = min(high, amount)
        else:
            low = max(low, amount)
    return low, high


def plan_user_address(text: str, ticket_id: str, customer: CustomerDetail,
                      orders: Mapping[str, OrderDetail] | None = None, clause: str | None = None,
                      ) -> PlannedWrite | None:
    """The account's new default address as the text writes it out (or another order's, "the same as order
    #W…"); None when it gives none, or the one it gives is already the default (the reply asks)."""
    words = clause if clause is not None else text
    address = parse_address(words) or parse_address(text)
    if not address and (same := _SAME_AS_ORDER.search(text)):
        other = (orders or {}).get(normalize_order_id(same.group(1)))
        address = other.address if other is not None else ()
    if not address or address == customer.address:
        return None
    return PlannedWrite(MODIFY_USER_ADDRESS, "", confirmation_key(ticket_id, MODIFY_USER_ADDRESS, ""),
                        f"change the default address on your account to {address_words(address)}", address=address)


def price_cue(text: str):
    """`max` for "the more expensive one", `min` for "the less expensive / cheaper one", the one said first when
    both are; None without either."""
    more, less = _MORE.search(text), _LESS.search(text)
    if more and less:
        return max if more.start() < less.start() else min
    return max if more else min if less else None


def order_by_price(orders: Sequence[OrderDetail], text: str) -> OrderDetail | None:
    """Among orders that each hold one line of a product the text names, the one holding the more (less)
    expensive one when the text says so ("I received two tablets … return the less expensive one"); None
    otherwise, or when prices tie."""
    cue = price_cue(text)
    if cue is None:
        return None
    priced = []
    for order in orders:
        lines = named_lines(order, text)
        if len(lines) != 1:
            return None
        priced.append((lines[0].price, order))
    if len({name for o in orders for name in (x.name for x in named_lines(o, text))}) != 1:
        return None     # different products: the price cue does not tell one of them
    best = cue(p for p, _ in priced)
    winners = [o for p, o in priced if p == best]
    return winners[0] if len(winners) == 1 else None


def _one_of_twins(lines: list[OrderLine], text: str) -> list[OrderLine]:
    """Two lines of one product and "the more (less) expensive one": only that one."""
    cue = price_cue(text)
    if cue is None:
        return lines
    kept = []
    for line in lines:
        twins = [x for x in lines if x.name == line.name]
        if len(twins) == 1 or line is cue(twins, key=lambda x: x.price):
            kept.append(line)
    return kept


# Before a product's name: one line of several identical ones ("one of the tea kettles", "just one kettle", "a
# single kettle"), or each of them in turn ("one Tea Kettle … to …; and another Tea Kettle … to …").
_ONE = r"(?:(?:just|only)\s+)?(?:one|a single|a|the first|the second|another|the other|a second)"
_OF = r"(?:\s+of\s+(?:the|my|these|those|both|them|the two)(?:\s+two)?)?"


def _name_pattern(name: str) -> str:
    parts = [re.escape(p) for p in re.findall(r"[a-z0-9]+", name.lower())]
    head = "".join(rf"(?:{p}[\s-]+)?" for p in parts[:-1])
    return rf"{head}{parts[-1]}(?:e?s)?\b"


def twin_words(lines: list[OrderLine], text: str) -> tuple[list[OrderLine], dict[int, str]] | None:
    """Lines of one product ordered more than once, as the text counts them: "one of the kettles" keeps one
    (either, when they are identical; the one whose options the text names, when they differ), "one kettle
    … to X; and another kettle … to Y" keeps each with its own words (index in the returned lines → words).
    None when the text asks for one of several different lines and does not say which."""
    kept: list[OrderLine] = []
    own: dict[int, str] = {}
    seen: set[str] = set()
    for line in lines:
        twins = [x for x in lines if x.name == line.name]
        if len(twins) == 1:
            kept.append(line)
            continue
        if line.name in seen:
            continue
        seen.add(line.name)
        marks = list(re.finditer(rf"\b{_ONE}{_OF}\s+(?:[\w-]+\s+){{0,2}}?{_name_pattern(line.name)}", text, re.I))
        if len(marks) >= 2 and len(marks) <= len(twins):
            # Each mention with its own words, up to the next.
            for n, m in enumerate(marks):
                end = marks[n + 1].start() if n + 1 < len(marks) else len(text)
                own[len(kept)] = text[m.start():end]
                kept.append(twins[n])
            continue
        one = [m for m in marks if re.match(r"(?:(?:just|only)\s+)?(?:one|a single)\b", m.group(0), re.I)]
        if len(one) == 1 and not re.search(r"\b(?:both|all|two|each)\b", text[one[0].end():][:40], re.I):
            if len({x.item_id for x in twins}) == 1:
                kept.append(twins[0])
                continue
            tokens = _tokens(text)
            fit = [x for x in twins if any(_share_named(v, set(tokens), " ".join(tokens)) == 1.0
                                           for k, v in x.options.items()
                                           if any(y.options.get(k) != v for y in twins))]
            if len(fit) != 1:
                return None
            kept.append(fit[0])
            continue
        kept.extend(twins)
    return kept, own


def item_words(line: OrderLine, lines: Sequence[OrderLine], text: str) -> str:
    """The sentences about one of several different items: from the first naming it up to the next that names
    only others ("the sunglasses with green lenses (same black frame). And for the watch, I want silver": the
    watch's silver is not the sunglasses'); the whole text when it names one product or does not name this."""
    others = {x.name for x in lines} - {line.name}
    if not others:
        return text
    sentences = re.findall(r"[^.!?;\n]+[.!?;\n]*", text)
    about = [[n for n in {line.name, *others} if re.search(rf"\b{_name_pattern(n)}", s, re.I)] for s in sentences]
    out, inside = [], False
    for sentence, names in zip(sentences, about, strict=True):
        if names:
            inside = line.name in names
        if inside:
            out.append(sentence)
    return "".join(out) or text


_BRACED = re.compile(r"(\{[^{}]*\})\s*(?:to|into|for)\s*(\{[^{}]*\})")


def _literal(text: str) -> dict[str, str] | None:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else None


_NO_SUCH = Variant("", {}, False, 0.0)   # the text names an exact option set that no variant has


def braced_target(line: OrderLine, variants: Sequence[Variant], text: str) -> Variant | None:
    """"Tea Kettle {'material': 'glass', …} to {'material': 'ceramic'}": the variant with the line's options
    changed exactly as the second set says, when the first set is the line's (or part of it); None when the text
    has no such pair for this line; an unavailable placeholder when no variant has exactly those options (no
    near miss is taken for them)."""
    for m in _BRACED.finditer(text):
        old, new = _literal(m.group(1)), _literal(m.group(2))
        if old is None or not new or any(line.options.get(k) != v for k, v in old.items()):
            continue
        wanted = {**line.options, **new}
        exact = [v for v in variants if v.options == wanted and v.item_id != line.item_id]
        return exact[0] if len(exact) == 1 else _NO_SUCH
    return None


def choose_variant(line: OrderLine, variants: Sequence[Variant], text: str) -> Variant | None:
    """The available other option of the line's product that fits the text best.

    An item id the text quotes wins. Otherwise each candidate scores by how much of its changed option values
    the text names (a value's words, sizes also as words: "large" for L) or moves the way a comparative asks
    ("a bigger one", "the maximum zoom"), and then by changing as little else as possible ("the same one but
    with clicky switches"); a price cue ("cheapest", "most expensive") decides
    among equals. None when nothing the text says singles one out, or when the option that fits the text best
    is not available (a near miss is not what the customer asked for; `option_unavailable` says so).
    """
    if (braced := braced_target(line, variants, text)) is not None:
        return braced if braced.available else None
    candidates = _candidates(line, variants, text, available_only=True)
    quoted = [v for v in candidates if re.search(rf"\b{re.escape(v.item_id)}\b", text)]
    if len(quoted) == 1:
        return quoted[0]
    # The first choice is read without the second ("I want silver …; if that isn't available, the black one").
    full, text = text, _SECOND_CHOICE.sub(" ", text)
    scored = _scores(line, candidates, text)
    if not scored:
        return None
    best = max(s for s, _ in scored)
    # A price cue ("the cheapest green one") takes the best available; otherwise a better fit that is not
    # available is not replaced by a near miss, unless the text names the second choice ("if white is not
    # available, an RGB backlight is fine"): then the best available one with a value that choice names.
    if not (_CHEAPEST.search(text) or _DEAREST.search(text)) and option_unavailable(line, variants, text):
        return _second_choice(line, candidates, full)
    top = [v for s, v in scored if s == best]
    if _CHEAPEST.search(text) or _DEAREST.search(text):
        ranked = sorted(top, key=lambda v: v.price, reverse=bool(_DEAREST.search(text)))
        if len(ranked) == 1 or ranked[0].price != ranked[1].price:
            return ranked[0]
        return None
    if best[0] == 0 and best[3] == 0:
        return None
    return top[0] if len(top) == 1 else None


# The customer's second choice: "if white is not available, RGB is fine", "if there are no leather ones,
# synthetic", "otherwise the black one".
_SECOND_CHOICE = re.compile(
    r"(?P<cond>\b(?:if|in case|should)\b[^,;.]*?(?:\b(?:no|not|unavailable|out of stock|sold out)\b|n't\b)[^,;.]*)"
    r"[,;:]\s*(?:then\s+)?(?P<alt>[^.;!?]+)"
    r"|\b(?:otherwise|or else|failing that)\b[,:]?\s*(?P<alt2>[^.;!?]+)", re.I)


def _second_choice(line: OrderLine, candidates: Sequence[Variant], text: str) -> Variant | None:
    """The available candidate that fits the customer's second choice best, read with its condition ("if there
    are no waterproof leather ones in size 10, synthetic is fine" is a waterproof synthetic size 10): it must
    change a value to one the second choice names. None when the text gives none or several fit equally."""
    for m in _SECOND_CHOICE.finditer(text):
        alt = m.group("alt") or m.group("alt2")
        words = _tokens(alt)
        tokens, joined = set(words), " ".join(words)
        fitting = [v for v in candidates
                   if any(_share_named(value, tokens, joined, name, alt) == 1.0
                          for name, value in v.options.items() if line.options.get(name) != value)]
        # The condition describes the first choice; its "no" denies that one exists, not an option's value.
        cond = re.sub(r"\b(?:no|not|unavailable|out of stock|sold out)\b|n't\b", " ", m.group("cond") or "")
        scored = _scores(line, fitting, f"{cond} {alt}")
        if scored:
            best = max(s for s, _ in scored)
            top = [v for s, v in scored if s == best]
            return top[0] if len(top) == 1 else None
    return None


def option_unavailable(line: OrderLine, variants: Sequence[Variant], text: str) -> bool:
    """Whether the option the text asks for exists but is not available: an unavailable variant whose changed
    values the text names whole, fits strictly better than every available one (or none is left that keeps
    what the text keeps: "the same material and color")."""
    if (braced := braced_target(line, variants, text)) is not None:
        return braced is not _NO_SUCH and not braced.available
    every = _candidates(line, variants, text, available_only=False)
    if any(re.search(rf"\b{re.escape(v.item_id)}\b", text) for v in every if v.available):
        return False
    # Only whole values named and unasked changes count here: words a value merely shares with the text ("the
    # other card" and "CF card") do not make an unavailable option the one asked for.
    scored = [(s[:3], v) for s, v in _scores(line, every, text)]
    if not scored:
        return False
    best = max(s for s, _ in scored)
    if best[0] == 0:
        return False
    top = [v for s, v in scored if s == best]
    return all(not v.available for v in top)


def _candidates(line: OrderLine, variants: Sequence[Variant], text: str, available_only: bool) -> list[Variant]:
    # "the same material and color": those options must stay as they are ("the same, except for the zoom"
    # keeps all but the zoom).
    # "with", "but" and "instead" end what "same" keeps ("the same keyboard with a white backlight").
    kept = [name for name in line.options
            if re.search(rf"\bsame\b(?:(?!\bexcept\b|\bother than\b|\bwith\b|\bbut\b|\binstead\b)[^.;]){{0,40}}"
                         rf"\b{re.escape(name)}\b", text, re.I)]
    return [v for v in variants if (v.available or not available_only) and v.item_id != line.item_id
            and all(v.options.get(name) == line.options[name] for name in kept)]


def _scores(line: OrderLine, candidates: Sequence[Variant], text: str) -> list[tuple[tuple, Variant]]:
    words = _tokens(text)
    tokens, joined = set(words), " ".join(words)
    cues = comparatives(line, text)
    scored = []
    free = _free_options(line, text)
    # The values the text names as they are ("maple, 34 inch" of a 34 inch board, "still leather"): changing one
    # is against what it asks. What the item is like now is often told before the request ("I got a pet bed in
    # brown. I want it in grey"): only the words from the first request on say what to keep.
    wanted = _from_request(text)
    wanted_words = _tokens(wanted)
    kept = {name for name, current in line.options.items()
            if _keeps(current, wanted, set(wanted_words), " ".join(wanted_words), name)}
    for v in candidates:
        changed = {name: value for name, value in v.options.items() if line.options.get(name) != value}
        # A value named only as the one to leave ("green lenses instead of brown") is not asked for.
        named = {name: 0.0 if _only_left(value, text) else _share_named(value, tokens, joined, name, text)
                 for name, value in changed.items()}
        # A kept value may change when the new one is named whole after it ("the 2000-piece puzzle …, switch it
        # to the 1500-piece one"), not before ("prefer battery > USB > AC" of a USB lamp keeps USB).
        against = {name for name in changed if name in kept
                   and (named[name] < 1.0 or _last_at(changed[name], text) < _last_at(line.options[name], text))}
        named.update(dict.fromkeys(against, 0.0))
        for name, cue in cues.items():
            named[name] = _cue_score(cue, line.options[name], v.options.get(name, ""), candidates, name)
            against.discard(name)
        # Whole values named (or moved as asked) count first, then keeping what the text keeps, then changing
        # nothing unasked (options it says do not matter are free), and only then words a value shares with the
        # text: a preference list ("battery > USB > AC") or a payment card mentioned elsewhere must not buy an
        # extra change.
        score = (sum(1 for n in named.values() if n == 1.0), -len(against),
                 -sum(1 for name, n in named.items() if n == 0 and name not in free),
                 round(sum(n for n in named.values() if n < 1.0), 3))
        scored.append((score, v))
    return scored


_WANTS = re.compile(r"\b(?:want|wanna|like|prefer|need|exchange|change|swap|switch|modify|replace|upgrade)",
                    re.I)


def _from_request(text: str) -> str:
    """The text from the sentence of its first request on."""
    m = _WANTS.search(text)
    if not m:
        return text
    start = max((s.end() for s in re.finditer(r"[.!?\n]", text[:m.start()])), default=0)
    return text[start:]


def _free_options(line: OrderLine, text: str) -> set[str]:
    """Options the text says do not matter ("armrests don't matter", "I don't care about the color")."""
    free = set()
    for name in line.options:
        word = re.escape(name).replace(r"\ ", r"\s+") + r"s?"
        if re.search(rf"\b{word}\b[^.;,]{{0,20}}\b(?:do(?:es)?n'?t|do(?:es)? not)\s+matter\b"
                     rf"|\b(?:do(?:es)?n'?t|do(?:es)? not)\s+(?:really\s+)?(?:care|mind)\s+(?:about|which|what)\s+"
                     rf"(?:the\s+)?{word}\b|\bany\s+{word}\b", text, re.I):
            free.add(name)
    return free


_LEAVING = r"\b(?:instead of|rather than|other than|from|not|than|replace|replacing)\s+(?:the |my |an? )?"


def _keeps(current: str, text: str, tokens: set[str], joined: str, name: str = "") -> bool:
    """Whether the text names the item's current value as wanted ("maple, 34 inch" of a 34 inch board), not as
    the one to leave ("instead of Apple HomeKit", "from blue")."""
    if _share_named(current, tokens, joined, name, text) != 1.0:
        return False
    if current.lower() in _YES_NO:
        return False    # "they are not waterproof" describes the item; the wanted value is named or not
    return re.search(_LEAVING + re.escape(current), text, re.I) is None


def _last_at(value: str, text: str) -> int:
    """Where the text last names the value (-1: nowhere)."""
    return max((m.start() for m in re.finditer(rf"(?<![\w-]){re.escape(value)}(?![\w-])", text, re.I)), default=-1)


def _only_left(value: str, text: str) -> bool:
    """Whether every mention of the value is as the one to leave ("instead of brown")."""
    if value.lower() in _YES_NO:
        return False
    mentions = list(re.finditer(rf"(?<![\w-]){re.escape(value)}(?![\w-])", text, re.I))
    return bool(mentions) and all(re.search(_LEAVING + "$", text[:m.start()], re.I) for m in mentions)


# Comparatives that move an ordered option: the words, the way they move it, and whether they want the end.
_UP = (r"bigger|larger|longer|higher|brighter|more|greater|faster|max(?:imum|imal|imized)?"
       r"|highest|largest|biggest|longest")
_DOWN = r"smaller|shorter|lower|dimmer|less|fewer|min(?:imum|imal)?|lowest|smallest|shortest"
_COMPARATIVE = re.compile(rf"\b({_UP}|{_DOWN})\b( bright)?((?: [a-z]+){{0,3}})", re.I)
_EXTREME = re.compile(r"^(?:max|min|highest|lowest|largest|smallest|biggest|longest|shortest)", re.I)
# An unnamed comparative ("a bigger one") is about the option that gives an item its size, or its light.
_SIZE_LIKE = ("capacity", "size", "length", "piece count", "frame size", "screen size", "storage")
# Sizes and levels share "medium", so both scales put it at 2.
_ORDER_WORDS = {"xs": 0, "s": 1, "small": 1, "low": 1, "m": 2, "medium": 2, "l": 3, "large": 3, "high": 3,
                "xl": 4, "xxl": 5}


def _rank(value: str) -> float | None:
    """The place of an option value on its scale: its number ("750ml", "2-piece", "24MP"), else its size or
    level word; None when the value is not ordered (a colour, a material)."""
    number = re.search(r"\d+(?:\.\d+)?", value)
    if number:
        return float(number.group(0))
    return _ORDER_WORDS.get(value.strip().lower())


def comparatives(line: OrderLine, text: str) -> dict[str, tuple[int, bool]]:
    """Option name → (direction +1 / -1, wants the extreme) for each comparative in the text about one of the
    line's ordered options: the option named right after it ("a larger frame size", "maximum zoom"), else,
    for "bigger"/"smaller"/"brighter" alone, the option that gives the item its size or light."""
    ordered = [name for name, value in line.options.items() if _rank(value) is not None]
    out: dict[str, tuple[int, bool]] = {}
    for m in _COMPARATIVE.finditer(text):
        word, bright, after = m.group(1).lower(), m.group(2), m.group(3).lower()
        direction = 1 if re.fullmatch(_UP, word) else -1
        if bright or word in ("brighter", "dimmer"):
            target = [n for n in ordered if n == "brightness"]
        else:
            target = [n for n in ordered if re.search(rf"\b{re.escape(n)}\b", after)]
            if not target and word in ("bigger", "larger", "smaller", "biggest", "largest", "smallest"):
                target = [n for n in ordered if n in _SIZE_LIKE][:1]
        for name in target[:1]:
            out.setdefault(name, (direction, bool(_EXTREME.match(word))))
    return out


def _cue_score(cue: tuple[int, bool], current: str, value: str, candidates: Sequence[Variant], name: str) -> float:
    """1 when the value moves the way the comparative asks (for "the maximum", only the end of the scale among
    the candidates), else 0."""
    direction, extreme = cue
    here, there = _rank(current), _rank(value)
    if here is None or there is None or (there - here) * direction <= 0:
        return 0.0
    if extreme:
        ranks = [r for v in candidates if (r := _rank(v.options.get(name, ""))) is not None]
        return 1.0 if there * direction == max(r * direction for r in ranks) else 0.0
    return 1.0


# Sizes are written as words as often as letters.
_SIZE_WORDS = {"xs": "extra small", "s": "small", "m": "medium", "l": "large", "xl": "extra large",
               "xxl": "extra extra large"}


_YES_NO = ("yes", "no")


def _share_named(value: str, tokens: set[str], joined: str, name: str = "", text: str = "") -> float:
    """How much of an option value the text names: 1 for the whole value (or a size's word), else the share of
    its words found ("Google Assistant" is half named by "Google Home"). A yes/no option is named by its name
    ("waterproof boots" names waterproof: yes; "non-waterproof" or "not waterproof" names no)."""
    if value.lower() in _YES_NO and name:
        word = re.escape(name).replace(r"\ ", r"[\s-]+")
        negated = rf"\b(?:not|non|no|without)[\s-]+(?:\w+\s+)?{word}\b"
        plain = rf"(?<![\w-])(?<!not )(?<!non-)(?<!non )(?<!no ){word}\b"
        found = re.search(negated if value.lower() == "no" else plain, text, re.I)
        if value.lower() == "yes" and found:
            # a plain mention must not be the tail of a negation ("not really waterproof")
            found = any(not re.search(r"\b(?:not|no|non)[\s-]+(?:\w+\s+)?$", text[:m.start()], re.I)
                        for m in re.finditer(plain, text, re.I))
        return 1.0 if found else 0.0
    parts = _tokens(value)
    if not parts:
        return 0.0
    phrase = " ".join(parts)
    if f" {phrase} " in f" {joined} ":
        return 1.0
    word = _SIZE_WORDS.get(phrase)
    if word and f" {word} " in f" {joined} ":
        return 1.0
    return sum(p in tokens for p in parts) / len(parts) * 0.5


def _tokens(text: str) -> list[str]:
    """Lower-case words, singular, hyphens as spaces ("15-inch" → 15 inch); decimals kept ("1.5")."""
    words = (w.strip(".") for w in re.findall(r"[a-z0-9.]+", text.lower().replace("-", " ")))
    words = (_UNIT_WORDS.get(w, w) for w in words)
    return [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words if w]


# Units written out as often as abbreviated ("4 foot" for the option value "4 ft").
_UNIT_WORDS = {"foot": "ft", "feet": "ft", "inches": "inch"}


def _method(text: str, methods: Sequence[PaymentOption], original: str, refund: bool) -> str:
    """The payment method the text names (one of the customer's), else the order's original one. A refund
    may go only to the original method or a gift card (policy: Return delivered order)."""
    for source, pattern in _METHOD_WORDS.items():
        if pattern.search(text):
            match = [m.id for m in methods if m.source == source]
            if len(match) == 1 and (not refund or source == "gift_card" or match[0] == original):
                return match[0]
    return original


def _method_words(method_id: str, methods: Sequence[PaymentOption]) -> str:
    source = next((m.source for m in methods if m.id == method_id), "")
    return f"{source.replace('_', ' ')} {method_id}".strip() if source else f"payment method {method_id}"


def _options(options: Mapping[str, str]) -> str:
    return "(" + ", ".join(f"{k} {v}" for k, v in options.items()) + ")"


def unavailable_lines(order: OrderDetail, clause: str, variants: Mapping[str, Sequence[Variant]]) -> list[str]:
    """The names of the items the clause names whose asked-for option exists but is not available."""
    return [line.name for line in named_lines(order, clause)
            if choose_variant(line, variants.get(line.product_id, ()), clause) is None
            and option_unavailable(line, variants.get(line.product_id, ()), clause)]
