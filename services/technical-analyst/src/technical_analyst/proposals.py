"""Proposals the customer confirms: exact writes from commerce reads, kept per conversation, done on "yes".

The application layer between the analyst's handler and its domain (policy, writes, confirmation): it reads
the store (orders, customer, variants), keeps proposals in the pending store and makes the confirmed writes.
"""

import asyncio
import dataclasses
import time
from collections.abc import Callable
from typing import Protocol

from supportmesh.v1.envelope_pb2 import Action, Envelope
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh_core import handoff
from supportmesh_core.resolution import UNSURE_REQUEST
from supportmesh_core.stage import Escalate, Forward, remaining_seconds

from .adapters.store_reads import StoreReads
from .domain import NOT_COMPLETED, STAGE
from .domain import confirmation as confirm
from .domain import requests as several
from .domain.execution import DONE, FAILED, NEEDS_APPROVAL, CommerceActions
from .domain.order_rules import (
    ALLOWED,
    NEEDS_HUMAN,
    NOT_APPLICABLE,
    REFUSED,
    PolicyDecision,
    PolicyRequest,
    candidate_orders,
    decide,
    decide_for,
    normalize_order_id,
    refund_within_limit,
    rule_for,
    rule_sentence,
)
from .domain.planned_writes import (
    EXCHANGE,
    MODIFY_ADDRESS,
    MODIFY_ITEMS,
    MODIFY_USER_ADDRESS,
    PlannedWrite,
    Variant,
    order_by_options,
    order_by_price,
    plan_user_address,
    plan_write,
    unavailable_lines,
)

OUT_OF_SCOPE = "out_of_scope"
# At most this many orders are looked up in full to tell them apart by the options the ticket names.
MAX_ORDERS_COMPARED = 6
# The context-compressor's reading of a turn that answers a proposal (`yes` / `no`).
CONFIRMATION_FACT = "confirmation"


class PendingStore(Protocol):
    def save(self, proposal: confirm.PendingProposal, now_ms: int) -> None: ...
    def get(self, conversation_id: str) -> confirm.PendingProposal | None: ...


class Proposals:
    """Makes allowed actions exact, keeps them for the customer's answer, and carries out a "yes" once."""

    def __init__(self, commerce: CommerceActions, reads: StoreReads, pending: PendingStore,
                 refund_approval_limit: float, ttl_s: float, clock: Callable[[], float] = time.time) -> None:
        self._commerce, self._reads, self._pending = commerce, reads, pending
        self._limit = refund_approval_limit
        self._ttl_ms = int(ttl_s * 1000)
        self._clock = clock

    async def reply_to_pending(self, env: Envelope, hop: HopRecord) -> Forward | Escalate | None:
        """The turn answers the conversation's proposal (yes / no): carry it out or explain; None otherwise."""
        reply = env.context.facts.get(CONFIRMATION_FACT, "")
        if not reply:
            return None
        proposal = await asyncio.to_thread(self._pending.get, env.ticket.conversation_id or env.ticket.ticket_id)
        what = confirm.answer(proposal, reply, env.ticket.ticket_id, self._now_ms())
        if what != confirm.NOTHING:
            assert proposal is not None
            return await self.answer(env, hop, proposal, what)
        if env.classification.intent != OUT_OF_SCOPE:
            return None
        env.analysis.policy_decision, env.analysis.policy_code = NOT_APPLICABLE, "nothing_to_confirm"
        env.analysis.policy_reason = ("There is no request of yours waiting for a confirmation, so nothing "
                                      "was changed. Please tell us what you would like us to do.")
        hop.labels["confirmation"] = "nothing_pending"
        return Forward(env)

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    async def propose(self, env: Envelope, hop: HopRecord, decision: PolicyDecision) -> None:
        """Turn the allowed actions into exact writes kept for the customer's "yes"; an action whose choices
        the ticket leaves open stays a plain proposal without a key (the reason asks for the choices)."""
        text = f"{env.ticket.subject}\n{env.ticket.body}"
        writes: list[PlannedWrite] = []
        open_choices = []
        for p in decision.actions:
            write = await self.exact_write(env, hop, p.name, decision.order_id, text)
            if write is None:
                open_choices.append(p)
            else:
                writes.append(write)
        a = env.analysis
        a.actions.extend(Action(name=w.action, status="proposed", detail=w.detail, idempotency_key=w.idempotency_key)
                         for w in writes)
        a.actions.extend(Action(name=p.name, status="proposed", detail=p.detail) for p in open_choices)
        hop.labels["proposal"] = "kept" if writes else "choices_open"
        if writes and not open_choices:
            # The exact write is in the action's detail; the choices the full reason asks for are made.
            a.policy_reason = rule_sentence(decision.reason)
        if writes:
            now = self._now_ms()
            proposal = confirm.PendingProposal(
                conversation_id=env.ticket.conversation_id or env.ticket.ticket_id, ticket_id=env.ticket.ticket_id,
                customer_id=env.retrieval.customer_id, customer_name=env.retrieval.customer_name,
                writes=tuple(writes), created_ms=now, expires_ms=now + self._ttl_ms)
            await asyncio.to_thread(self._pending.save, proposal, now)

    async def propose_several(self, env: Envelope, hop: HopRecord, request: PolicyRequest,
                              asked: list[several.Request]) -> PolicyDecision | None:
        """A ticket asking for several things: each request decided on its own order, the exact writes kept as
        ONE proposal for the customer's "yes", one reason covering them all. Returns the decision to hand the
        ticket to a human with when a refund is above the approval limit (then nothing is proposed), else None."""
        outcomes = several.settle([await self._outcome(env, hop, request, r) for r in asked])
        over = [o for o in outcomes if o.needs_human]
        if over:
            o = over[0]
            amount = o.write.amount if o.write is not None else 0.0
            reason = " ".join(x.reason for x in outcomes)
            return PolicyDecision(NEEDS_HUMAN, "refund_above_limit", reason, o.request.order_id, [], amount,
                                  "request")
        writes = sorted((o.write for o in outcomes if o.write is not None),
                        # An address change first: a pending order whose items were modified keeps its address.
                        key=lambda w: (w.action != MODIFY_USER_ADDRESS, w.action != MODIFY_ADDRESS))
        a = env.analysis
        a.actions.extend(Action(name=w.action, status="proposed", detail=w.detail, idempotency_key=w.idempotency_key)
                         for w in writes)
        a.actions.extend(Action(name=o.action, status="proposed" if not o.impossible else "refused", detail=o.reason)
                         for o in outcomes if o.write is None and o.action)
        a.policy_decision = ALLOWED if writes else REFUSED
        a.policy_code = "several_requests"
        a.policy_reason = " ".join(o.reason for o in outcomes)
        hop.labels["requests"] = ",".join(
            f"{o.request.rule}:{o.request.order_id or '?'}:{_state(o)}" for o in outcomes)[:256]
        hop.labels["proposal"] = "kept" if writes else "choices_open"
        if writes:
            now = self._now_ms()
            await asyncio.to_thread(self._pending.save, confirm.PendingProposal(
                conversation_id=env.ticket.conversation_id or env.ticket.ticket_id, ticket_id=env.ticket.ticket_id,
                customer_id=env.retrieval.customer_id, customer_name=env.retrieval.customer_name,
                writes=tuple(writes), created_ms=now, expires_ms=now + self._ttl_ms), now)
        return None

    async def _outcome(self, env: Envelope, hop: HopRecord, request: PolicyRequest,
                       r: several.Request) -> several.Outcome:
        """One request's decision and, when the policy allows it, its exact write."""
        if r.rule == several.USER_ADDRESS:
            return await self._user_address(env, hop, r)
        if not r.order_id:
            return several.Outcome(r, several.unresolved_reason(r))
        facts = next(o for o in request.orders if normalize_order_id(o.order_id) == r.order_id)
        partial = several.is_partial_cancel(r, list(facts.item_names)) and facts.status.strip().lower() == "pending"
        unsure = env.classification.family == UNSURE_REQUEST   # never a whole order for one item, unsure
        if partial and (r.rule == several.REMOVE or unsure or several.only_those_items(r.clause, request.text)):
            return several.Outcome(r, several.partial_cancel_reason(r.order_id, r.items), action="cancel_pending_order",
                                   impossible=True)
        rule = several.CANCEL if r.rule == several.REMOVE else r.rule
        # The refund at stake is the items returned (checked below on the exact write), not the order's total.
        decision = decide_for(dataclasses.replace(request, text=r.clause, amounts=[]), rule, r.order_id, self._limit)
        over_total = decision.code == "refund_above_limit"
        if (decision.decision != ALLOWED and not over_total) or not decision.actions:
            return several.Outcome(r, decision.reason, impossible=True)
        action = decision.actions[0].name
        write, why = await self._request_write(env, hop, action, r)
        if write is None:
            if why:
                return several.Outcome(r, f"{rule_sentence(decision.reason)} {why}", action=action, impossible=True)
            return several.Outcome(r, decision.reason, action=action)
        if action == "return_delivered_order_items" and write.amount > self._limit:
            reason = (f"A refund of {write.amount:.2f} on order {r.order_id} is above the {self._limit:.2f} limit an "
                      "agent may approve, so a member of our team must approve it.")
            return several.Outcome(r, reason, write, action, needs_human=True)
        if over_total:
            decision = refund_within_limit(decision, dataclasses.replace(request, amounts=[]), write.amount,
                                           self._limit)
        said = rule_sentence(decision.reason)
        if partial:
            # "Cancel the skateboard" of an order holding more: only the whole order can be, and the reply says so.
            said += f" {several.whole_order_note(r.order_id, facts.item_names)}"
        return several.Outcome(r, f"{said}{why and ' ' + why}", write, action)

    async def _user_address(self, env: Envelope, hop: HopRecord, r: several.Request) -> several.Outcome:
        """The account's default address: any verified customer may change it (policy: Modify user address);
        the exact write needs the whole new address, written out or another order's."""
        budget = _read_budget(env)
        customer_id = env.retrieval.customer_id
        try:
            customer = await self._reads.customer(customer_id, budget)
            others = {}
            for other in sorted({normalize_order_id(e.value) for e in env.classification.entities
                                 if e.type == "order_id"}):
                others[other] = await self._reads.order(other, customer_id, budget)
        except LookupError as exc:
            hop.labels["proposal.lookup_error"] = str(exc)[:256]
            return several.Outcome(r, several.unresolved_reason(r), action=MODIFY_USER_ADDRESS)
        text = f"{env.ticket.subject}\n{env.ticket.body}"
        write = plan_user_address(text, env.ticket.ticket_id, customer, others, clause=r.clause)
        if write is None:
            return several.Outcome(r, several.unresolved_reason(r), action=MODIFY_USER_ADDRESS)
        return several.Outcome(r, "The default address on your account can be changed for your future orders; "
                                  "orders already placed keep theirs unless you ask us to change them too.",
                               write, MODIFY_USER_ADDRESS)

    async def _request_write(self, env: Envelope, hop: HopRecord, action: str,
                             r: several.Request) -> tuple[PlannedWrite | None, str]:
        """The request's exact write and, when an option it asks for is not available, a sentence saying so."""
        try:
            order, customer, variants, others = await self._write_inputs(env, action, r.order_id)
        except LookupError as exc:
            hop.labels["proposal.lookup_error"] = str(exc)[:256]
            return None, ""
        text = f"{env.ticket.subject}\n{env.ticket.body}"
        write = plan_write(action, order, text, env.ticket.ticket_id, variants, customer, others, clause=r.clause)
        missing = unavailable_lines(order, r.clause, variants) if variants else []
        why = (f"The option you asked for is not available for the {', '.join(missing)}, so "
               f"{'it is left out' if write is not None else 'we cannot make this change as asked'}."
               if missing else "")
        return write, why

    async def _write_inputs(self, env: Envelope, action: str, order_id: str):
        """What an exact write of `action` on `order_id` is planned from: the order, the customer, the variants of
        its products (item changes) and the other orders the ticket names ("the same address as order #W…").
        Raises LookupError when commerce does not answer in time."""
        budget = _read_budget(env)
        customer_id = env.retrieval.customer_id
        order = await self._reads.order(order_id, customer_id, budget)
        customer = await self._reads.customer(customer_id, budget)
        variants: dict[str, list[Variant]] = {}
        if action in (EXCHANGE, MODIFY_ITEMS):
            for product_id in dict.fromkeys(line.product_id for line in order.lines):
                variants[product_id] = await self._reads.variants(product_id, budget)
        others = {}
        if action == MODIFY_ADDRESS:
            named = {normalize_order_id(e.value) for e in env.classification.entities if e.type == "order_id"}
            for other in sorted(named - {normalize_order_id(order_id)}):
                others[other] = await self._reads.order(other, customer_id, budget)
        return order, customer, variants, others

    async def by_options(self, env: Envelope, hop: HopRecord, request: PolicyRequest):
        """Several orders hold the items the ticket names: the one whose item has the options it names, if any."""
        candidates = [o for _, o in candidate_orders(request.orders, rule_for(request.intent, request.text),
                                                     request.text)]
        if not 1 < len(candidates) <= MAX_ORDERS_COMPARED:
            return None
        budget = _read_budget(env)
        try:
            details = [await self._reads.order(o.order_id, request.customer_id, budget) for o in candidates]
        except LookupError as exc:
            hop.labels["proposal.lookup_error"] = str(exc)[:256]
            return None
        chosen, how = order_by_options(details, request.text), "options"
        if chosen is None:
            chosen, how = order_by_price(details, request.text), "price"
        if chosen is None:
            return None
        decision = decide(dataclasses.replace(request, order_ids=[chosen.order_id]), self._limit)
        return dataclasses.replace(decision, identified_by=how)

    async def exact_write(self, env: Envelope, hop: HopRecord, action: str, order_id: str,
                           text: str) -> PlannedWrite | None:
        try:
            order, customer, variants, others = await self._write_inputs(env, action, order_id)
        except LookupError as exc:
            hop.labels["proposal.lookup_error"] = str(exc)[:256]
            return None
        return plan_write(action, order, text, env.ticket.ticket_id, variants, customer, others)

    async def answer(self, env: Envelope, hop: HopRecord, proposal: confirm.PendingProposal,
                      what: str) -> Forward | Escalate:
        """The customer answered the conversation's proposal: execute exactly its writes, drop it, or explain."""
        a, r = env.analysis, env.retrieval
        hop.labels["confirmation"] = what
        hop.labels["proposal_ticket"] = proposal.ticket_id
        if not r.customer_id:
            # The identity verified when proposing; the answer ("yes") carries none of its own.
            r.customer_id, r.customer_name = proposal.customer_id, proposal.customer_name
        listed = "; ".join(w.detail for w in proposal.writes)
        if what == confirm.EXPIRED:
            a.policy_decision, a.policy_code = NOT_APPLICABLE, "proposal_expired"
            a.policy_reason = (f"Our proposal to {listed} has expired, so nothing was changed. Please send your "
                               "request again and we will check it against your orders as they are now.")
            return Forward(env)
        if what == confirm.ALREADY_ANSWERED:
            a.policy_decision, a.policy_code = NOT_APPLICABLE, "proposal_already_answered"
            done = "carried out" if proposal.state == confirm.CONFIRMED else "dropped"
            a.policy_reason = f"Your earlier answer already {done} our proposal to {listed}; nothing more was changed."
            return Forward(env)
        now = self._now_ms()
        if what == confirm.DECLINE:
            await asyncio.to_thread(self._pending.save, dataclasses.replace(
                proposal, state=confirm.DECLINED, answered_by=env.ticket.ticket_id), now)
            a.policy_decision, a.policy_code = NOT_APPLICABLE, "proposal_declined"
            a.policy_reason = f"As you asked, nothing was changed: we will not {listed}."
            return Forward(env)
        results = []
        for w in proposal.writes:
            # The proposing ticket's id: each delivery of the "yes" is the very same request to commerce.
            result = await self._commerce.write(w, proposal.customer_id, proposal.ticket_id, remaining_seconds(env))
            results.append((w, result))
            a.actions.append(Action(name=w.action, status=result.status if result.status != NEEDS_APPROVAL
                                    else "refused", detail=result.detail or w.detail,
                                    idempotency_key=w.idempotency_key))
        await asyncio.to_thread(self._pending.save, dataclasses.replace(
            proposal, state=confirm.CONFIRMED, answered_by=env.ticket.ticket_id), now)
        hop.labels["action"] = ",".join(f"{w.action}:{res.status}" for w, res in results)[:256]
        failed = [(w, res) for w, res in results if res.status == FAILED]
        if failed:
            why = "; ".join(f"confirmed {w.action} on order {w.order_id} failed: {res.detail}" for w, res in failed)
            return Escalate(env, handoff.escalation(env, "action_failed", why, NOT_COMPLETED, stage=STAGE,
                                                    actions=a.actions))
        refused = [res.detail for _, res in results if res.status != DONE]
        a.policy_decision = ALLOWED if len(refused) < len(results) else REFUSED
        a.policy_code = "proposal_confirmed" if not refused else "proposal_confirmed_refused"
        a.policy_reason = " ".join(refused)
        return Forward(env)


def _state(o: several.Outcome) -> str:
    """A request's outcome on the hop: kept (an exact write), refused (cannot be done as asked), open (a choice)."""
    return "kept" if o.write is not None else "refused" if o.impossible else "open"


def _read_budget(env: Envelope) -> float:
    """Seconds for one commerce read: a share of what is left, so a proposal's few reads fit the ticket's budget."""
    return max(0.2, remaining_seconds(env) / 4)
