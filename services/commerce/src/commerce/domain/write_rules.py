"""The store policy (data/retail/policy.md) as code: what each write may do to which order, and its effect.

Each rule is a pure function from the current state to a `Change` (the new order and customer state,
gift-card balance movements, the money involved and a sentence saying what was done). A rule the request
breaks raises PolicyViolation with a sentence a reply can quote, naming the policy section it rests on.
Money is integer cents throughout.
"""

import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .errors import InvalidArgument, NotFound, PolicyViolation
from .model import Address, Customer, Order, OrderItem, Payment, PaymentMethod, Variant, to_dollars

CANCEL_REASONS = ("no longer needed", "ordered by mistake")
CASE_PRIORITIES = ("low", "medium", "high", "urgent")
PENDING, DELIVERED = "pending", "delivered"
ITEMS_MODIFIED = "pending (item modified)"
RETURN_REQUESTED, EXCHANGE_REQUESTED, CANCELLED = "return requested", "exchange requested", "cancelled"
# Orders whose money may be refunded through IssueRefund: delivered ones, and those with a return on the way.
REFUNDABLE_STATUSES = (DELIVERED, RETURN_REQUESTED)


@dataclass(frozen=True)
class Change:
    """What a write does: the new order / customer state and what it means in money and words."""

    summary: str
    order: Order | None = None
    customer: Customer | None = None
    balance_deltas: Mapping[str, int] = field(default_factory=dict)  # gift card id -> cents added
    amount_cents: int = 0
    payment_method_id: str = ""
    refund_immediate: bool = False


class OverLimit(Exception):
    """A refund the policy allows but above the approval limit: a human must approve it."""

    def __init__(self, amount_cents: int, limit_cents: int, payment_method_id: str) -> None:
        super().__init__(f"refund of {_money(amount_cents)} is above the approval limit {_money(limit_cents)}")
        self.amount_cents, self.limit_cents, self.payment_method_id = amount_cents, limit_cents, payment_method_id


def cancel_pending_order(order: Order, customer: Customer, reason: str) -> Change:
    """Pending only; reason 'no longer needed' or 'ordered by mistake'; everything paid is refunded."""
    _require_status(order, (PENDING,), "cancelled", "Cancel pending order")
    why = " ".join(reason.split()).lower()
    if why not in CANCEL_REASONS:
        raise PolicyViolation(f"The reason for cancelling must be 'no longer needed' or 'ordered by mistake', "
                              f"not {reason.strip()[:60]!r} (policy: Cancel pending order).")
    net: dict[str, int] = {}
    for p in order.payments:
        net[p.payment_method_id] = net.get(p.payment_method_id, 0) + _signed(p)
    refunds = tuple(Payment("refund", cents, pm) for pm, cents in net.items() if cents > 0)
    deltas = {p.payment_method_id: p.amount_cents for p in refunds if _is_gift_card(customer, p.payment_method_id)}
    refunded = sum(p.amount_cents for p in refunds)
    new = dataclasses.replace(order, status=CANCELLED, cancel_reason=why, payments=order.payments + refunds)
    where = "; ".join(_refund_words(customer, p.payment_method_id, p.amount_cents, with_amount=len(refunds) > 1)
                      for p in refunds)
    names = ", ".join(dict.fromkeys(line.name for line in order.items))
    summary = f"Order {order.order_id} ({names}) has been cancelled (reason: {why})."
    if refunds:
        summary += f" The refund of {_money(refunded)} goes back to {where}."
    return Change(summary=summary, order=new, balance_deltas=deltas, amount_cents=refunded,
                  payment_method_id=refunds[0].payment_method_id if len(refunds) == 1 else "",
                  refund_immediate=bool(refunds) and all(p.payment_method_id in deltas for p in refunds))


def modify_pending_order_address(order: Order, address: Address) -> Change:
    """Pending only (not after its items were modified): the order ships to the new address."""
    _require_status(order, (PENDING,), "modified", "Modify pending order")
    checked = check_address(address)
    new = dataclasses.replace(order, address=checked)
    return Change(summary=f"The shipping address of order {order.order_id} is now {_address_words(checked)}.",
                  order=new)


def modify_customer_address(customer: Customer, address: Address) -> Change:
    """The customer's default address; orders already placed keep theirs."""
    checked = check_address(address)
    return Change(summary=f"The default address on your account is now {_address_words(checked)}.",
                  customer=dataclasses.replace(customer, address=checked))


def modify_pending_order_items(order: Order, customer: Customer, item_ids: Sequence[str],
                               new_item_ids: Sequence[str], variants: Mapping[str, Variant],
                               payment_method_id: str) -> Change:
    """Pending only, once: each item becomes another available variant of the same product.

    The price difference is charged to (or refunded to) the given payment method; a gift card must cover
    a charge.
    """
    _require_status(order, (PENDING,), "modified", "Modify pending order")
    diff, swaps = _swaps(order, item_ids, new_item_ids, variants, "Modify pending order")
    method = payment_method(customer, payment_method_id)
    if method.source == "gift_card" and (method.balance_cents or 0) < diff:
        raise PolicyViolation(f"Gift card {method.id} has {_money(method.balance_cents or 0)}, not enough for the "
                              f"price difference of {_money(diff)} (policy: Modify items).")
    payments = order.payments
    if diff:
        payments += (Payment("payment" if diff > 0 else "refund", abs(diff), method.id),)
    new = dataclasses.replace(order, status=ITEMS_MODIFIED, items=_apply_swaps(order.items, swaps),
                              payments=payments)
    deltas = {method.id: -diff} if method.source == "gift_card" and diff else {}
    summary = (f"The items of order {order.order_id} have been changed: {_swap_words(swaps)}. "
               f"{_difference_words(diff, customer, method.id)} The order can no longer be modified or "
               "cancelled.")
    return Change(summary=summary, order=new, balance_deltas=deltas, amount_cents=diff,
                  payment_method_id=method.id, refund_immediate=diff < 0 and method.source == "gift_card")


def modify_pending_order_payment(order: Order, customer: Customer, payment_method_id: str) -> Change:
    """Pending only: the single payment moves to one other method; a gift card must cover the total."""
    _require_status(order, (PENDING,), "modified", "Modify pending order")
    if len(order.payments) != 1 or order.payments[0].transaction_type != "payment":
        raise PolicyViolation(f"The payment of order {order.order_id} was already changed, so it cannot be "
                              "changed again (policy: Modify payment).")
    old = order.payments[0]
    method = payment_method(customer, payment_method_id)
    if method.id == old.payment_method_id:
        raise PolicyViolation(f"Order {order.order_id} is already paid with {method.id}; choose a different "
                              "payment method (policy: Modify payment).")
    amount = old.amount_cents
    if method.source == "gift_card" and (method.balance_cents or 0) < amount:
        raise PolicyViolation(f"Gift card {method.id} has {_money(method.balance_cents or 0)}, not enough for "
                              f"the order total of {_money(amount)} (policy: Modify payment).")
    payments = order.payments + (Payment("payment", amount, method.id),
                                 Payment("refund", amount, old.payment_method_id))
    deltas: dict[str, int] = {}
    if method.source == "gift_card":
        deltas[method.id] = -amount
    if _is_gift_card(customer, old.payment_method_id):
        deltas[old.payment_method_id] = deltas.get(old.payment_method_id, 0) + amount
    summary = (f"Order {order.order_id} is now paid with {_method_words(method)}; the original payment of "
               f"{_money(amount)} is refunded to {_refund_words(customer, old.payment_method_id, amount, False)}.")
    return Change(summary=summary, order=dataclasses.replace(order, payments=payments), balance_deltas=deltas,
                  amount_cents=amount, payment_method_id=method.id,
                  refund_immediate=_is_gift_card(customer, old.payment_method_id))


def return_delivered_order_items(order: Order, customer: Customer, item_ids: Sequence[str],
                                 payment_method_id: str) -> Change:
    """Delivered only: the items go back; their price is refunded to the original method or a gift card."""
    _require_status(order, (DELIVERED,), "returned", "Return delivered order")
    if not item_ids:
        raise InvalidArgument("item_ids is required: name the items to return")
    lines = _pick_lines(order, item_ids, "Return delivered order")
    method = _refund_method(order, customer, payment_method_id, "Return delivered order")
    amount = sum(line.price_cents for line in lines)
    new = dataclasses.replace(order, status=RETURN_REQUESTED, return_item_ids=tuple(sorted(item_ids)),
                              return_payment_method_id=method.id)
    names = ", ".join(line.name for line in lines)
    summary = (f"The return of {len(lines)} item(s) from order {order.order_id} ({names}) has been requested. "
               f"The refund of {_money(amount)} will go to {_method_words(method)}, and you will receive an "
               "e-mail explaining how to send the items back.")
    return Change(summary=summary, order=new, amount_cents=amount, payment_method_id=method.id,
                  refund_immediate=False)


def exchange_delivered_order_items(order: Order, customer: Customer, item_ids: Sequence[str],
                                   new_item_ids: Sequence[str], variants: Mapping[str, Variant],
                                   payment_method_id: str) -> Change:
    """Delivered only, once: each item for another available variant of the same product."""
    _require_status(order, (DELIVERED,), "exchanged", "Exchange delivered order")
    diff, swaps = _swaps(order, item_ids, new_item_ids, variants, "Exchange delivered order")
    method = payment_method(customer, payment_method_id)
    if method.source == "gift_card" and (method.balance_cents or 0) < diff:
        raise PolicyViolation(f"Gift card {method.id} has {_money(method.balance_cents or 0)}, not enough for the "
                              f"price difference of {_money(diff)} (policy: Exchange delivered order).")
    new = dataclasses.replace(order, status=EXCHANGE_REQUESTED, exchange_item_ids=tuple(sorted(item_ids)),
                              exchange_new_item_ids=tuple(sorted(new_item_ids)),
                              exchange_payment_method_id=method.id, exchange_price_diff_cents=diff)
    summary = (f"The exchange on order {order.order_id} has been requested: {_swap_words(swaps)}. "
               f"{_difference_words(diff, customer, method.id, settled_later=True)} You will receive an e-mail "
               "explaining how to send the items back.")
    return Change(summary=summary, order=new, amount_cents=diff, payment_method_id=method.id)


def issue_refund(order: Order, customer: Customer, item_ids: Sequence[str], amount_cents: int,
                 payment_method_id: str, limit_cents: int) -> Change:
    """Refund money paid for a delivered (or being returned) order, to the original method or a gift card.

    The amount is the named items' prices, else `amount_cents`, else the items of a requested return, else
    everything paid and not yet refunded; never more than that. Above `limit_cents` raises OverLimit.
    """
    if order.status not in REFUNDABLE_STATUSES:
        raise PolicyViolation(f"Order {order.order_id} is {order.status}; {_refund_status_note(order.status)}")
    refundable = sum(_signed(p) for p in order.payments)
    if item_ids:
        amount = sum(line.price_cents for line in _pick_lines(order, item_ids, "Return delivered order"))
    elif amount_cents:
        amount = amount_cents
    elif order.return_item_ids:
        amount = sum(line.price_cents for line in _pick_lines(order, order.return_item_ids, "Return"))
    else:
        amount = refundable
    if amount <= 0:
        raise InvalidArgument("the amount to refund must be positive")
    if amount > refundable:
        raise PolicyViolation(f"Only {_money(max(refundable, 0))} of order {order.order_id} was paid and not yet "
                              f"refunded, so a refund of {_money(amount)} is not possible.")
    method = _refund_method(order, customer, payment_method_id, "Return delivered order")
    if amount > limit_cents:
        raise OverLimit(amount, limit_cents, method.id)
    new = dataclasses.replace(order, payments=order.payments + (Payment("refund", amount, method.id),))
    gift = method.source == "gift_card"
    summary = (f"A refund of {_money(amount)} for order {order.order_id} has been issued to "
               f"{_refund_words(customer, method.id, amount, with_amount=False)}.")
    return Change(summary=summary, order=new, balance_deltas={method.id: amount} if gift else {},
                  amount_cents=amount, payment_method_id=method.id, refund_immediate=gift)


def check_case(reason: str, priority: str, summary: str) -> tuple[str, str, str]:
    """A case's reason, priority (default medium) and summary, validated."""
    reason, priority, summary = reason.strip(), (priority.strip().lower() or "medium"), summary.strip()
    if not reason:
        raise InvalidArgument("reason is required")
    if priority not in CASE_PRIORITIES:
        raise InvalidArgument(f"priority must be one of {', '.join(CASE_PRIORITIES)}")
    if not summary:
        raise InvalidArgument("summary is required: the human agent reads it first")
    return reason[:100], priority, summary[:4000]


def check_address(a: Address) -> Address:
    """Every part but address2 must be present; values are stripped."""
    clean = Address(*(" ".join(v.split()) for v in (a.address1, a.address2, a.city, a.state, a.country, a.zip)))
    missing = [n for n in ("address1", "city", "state", "country", "zip") if not getattr(clean, n)]
    if missing:
        raise InvalidArgument(f"address is incomplete: {', '.join(missing)} missing")
    if any(len(v) > 200 for v in (clean.address1, clean.address2, clean.city, clean.state, clean.country)):
        raise InvalidArgument("address has a part longer than 200 characters")
    return clean


def payment_method(customer: Customer, payment_method_id: str) -> PaymentMethod:
    pm_id = payment_method_id.strip()
    if not pm_id:
        raise InvalidArgument("payment_method_id is required")
    method = next((m for m in customer.payment_methods if m.id == pm_id), None)
    if method is None:
        raise NotFound(f"payment method {pm_id} is not on the account of {customer.customer_id}")
    return method


def original_payment_method(order: Order) -> str:
    first = next((p for p in order.payments if p.transaction_type == "payment"), None)
    return first.payment_method_id if first else ""


# --- helpers ----------------------------------------------------------------------------------------


def _require_status(order: Order, allowed: tuple[str, ...], verb: str, rule: str) -> None:
    if order.status in allowed:
        return
    note = ""
    if order.status == ITEMS_MODIFIED:
        note = " Its items were already modified once, after which it can no longer be modified or cancelled."
    elif order.status == DELIVERED:
        note = " A delivered order can be returned or exchanged instead."
    elif order.status in (RETURN_REQUESTED, EXCHANGE_REQUESTED):
        note = f" A {order.status.split()[0]} was already requested for it."
    only = " or ".join(allowed)
    raise PolicyViolation(f"Order {order.order_id} is {order.status}, and only {only} orders can be {verb} "
                          f"(policy: {rule}).{note}")


def _pick_lines(order: Order, item_ids: Sequence[str], rule: str) -> list[OrderItem]:
    """The order lines the ids name, honouring repeats: an item listed twice must be in the order twice."""
    have = Counter(i.item_id for i in order.items)
    for item_id, wanted in Counter(item_ids).items():
        if have[item_id] < wanted:
            raise PolicyViolation(f"Item {item_id} is not in order {order.order_id}"
                                  + (f" {wanted} times" if wanted > 1 and have[item_id] else "")
                                  + f" (policy: {rule}).")
    lines, used = [], set()
    for item_id in item_ids:
        n = next(n for n, line in enumerate(order.items) if line.item_id == item_id and n not in used)
        used.add(n)
        lines.append(order.items[n])
    return lines


def _swaps(order: Order, item_ids: Sequence[str], new_item_ids: Sequence[str],
           variants: Mapping[str, Variant], rule: str) -> tuple[int, list[tuple[OrderItem, Variant]]]:
    """Pairs (old line, new variant) after the same-product, other-option, available checks; and the price
    difference (new minus old) in cents."""
    if not item_ids:
        raise InvalidArgument("item_ids is required: name the items to change")
    if len(item_ids) != len(new_item_ids):
        raise InvalidArgument("item_ids and new_item_ids must have the same length (one new item per item)")
    swaps = []
    for line, new_id in zip(_pick_lines(order, item_ids, rule), new_item_ids, strict=True):
        variant = variants.get(new_id)
        if variant is None:
            raise NotFound(f"item {new_id} does not exist")
        if variant.product_id != line.product_id:
            raise PolicyViolation(f"Item {new_id} is not a {line.name}: an item can only be changed to another "
                                  f"option of the same product (policy: {rule}).")
        if new_id == line.item_id:
            raise PolicyViolation(f"Item {new_id} is the item already ordered; choose a different option "
                                  f"(policy: {rule}).")
        if not variant.available:
            raise PolicyViolation(f"The {line.name} option {_options(variant.options)} (item {new_id}) is not "
                                  f"available (policy: {rule}).")
        swaps.append((line, variant))
    return sum(v.price_cents - line.price_cents for line, v in swaps), swaps


def _apply_swaps(items: tuple[OrderItem, ...], swaps: list[tuple[OrderItem, Variant]]) -> tuple[OrderItem, ...]:
    out, pending = list(items), list(swaps)
    for n, line in enumerate(out):
        match = next((s for s in pending if s[0] is line), None)
        if match is not None:
            pending.remove(match)
            v = match[1]
            out[n] = OrderItem(name=line.name, product_id=line.product_id, item_id=v.item_id,
                               price_cents=v.price_cents, options=dict(v.options))
    return tuple(out)


def _refund_method(order: Order, customer: Customer, payment_method_id: str, rule: str) -> PaymentMethod:
    original = original_payment_method(order)
    method = payment_method(customer, payment_method_id or original)
    if method.id != original and method.source != "gift_card":
        raise PolicyViolation(f"A refund can only go to the original payment method ({original}) or an existing "
                              f"gift card, not {method.id} (policy: {rule}).")
    return method


def _refund_status_note(status: str) -> str:
    if status.startswith(PENDING):
        return "a pending order is refunded by cancelling it (policy: Cancel pending order)."
    if status == CANCELLED:
        return "its total was refunded when it was cancelled (policy: Cancel pending order)."
    return ("only delivered orders can be refunded, through a return (policy: Return delivered order).")


def _signed(p: Payment) -> int:
    return p.amount_cents if p.transaction_type == "payment" else -p.amount_cents


def _is_gift_card(customer: Customer, pm_id: str) -> bool:
    return any(m.id == pm_id and m.source == "gift_card" for m in customer.payment_methods)


def _method_words(m: PaymentMethod) -> str:
    if m.source == "credit_card":
        return f"the {m.brand or 'credit'} card ending in {m.last_four}" if m.last_four else f"credit card {m.id}"
    if m.source == "gift_card":
        return f"gift card {m.id}"
    return f"PayPal account {m.id}"


def _refund_words(customer: Customer, pm_id: str, cents: int, with_amount: bool = True) -> str:
    method = next((m for m in customer.payment_methods if m.id == pm_id), PaymentMethod(pm_id, "unknown"))
    when = "immediately" if method.source == "gift_card" else "within 5 to 7 business days"
    prefix = f"{_money(cents)} to " if with_amount else ""
    return f"{prefix}{_method_words(method)} ({when})"


def _difference_words(diff: int, customer: Customer, pm_id: str, settled_later: bool = False) -> str:
    if diff == 0:
        return "There is no price difference."
    method = next(m for m in customer.payment_methods if m.id == pm_id)
    if diff > 0:
        verb = "will be charged to" if settled_later else "has been charged to"
        return f"The price difference of {_money(diff)} {verb} {_method_words(method)}."
    verb = "will be refunded to" if settled_later else "has been refunded to"
    return f"The price difference of {_money(-diff)} {verb} {_method_words(method)}."


def _swap_words(swaps: list[tuple[OrderItem, Variant]]) -> str:
    return "; ".join(f"{line.name} {_options(line.options)} to {_options(v.options)}" for line, v in swaps)


def _options(options: Mapping[str, str]) -> str:
    return "(" + ", ".join(f"{k} {v}" for k, v in options.items()) + ")"


def _address_words(a: Address) -> str:
    street = ", ".join(x for x in (a.address1, a.address2) if x)
    return f"{street}, {a.city}, {a.state} {a.zip}, {a.country}"


def _money(cents: int) -> str:
    return f"${to_dollars(cents):,.2f}"
