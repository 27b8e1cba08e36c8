"""The analyst stage: technical tickets get a diagnosis, order requests get the store policy's decision."""

import asyncio
import dataclasses
import time
from collections.abc import Callable
from typing import Protocol

from supportmesh.v1.envelope_pb2 import Action, Envelope
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh.v1.outcomes_pb2 import Escalation
from supportmesh_core.kafka import Escalate, Forward, remaining_seconds

from .adapters.store_reads import StoreReads
from .adapters.tool_agent import ModelToolAgent, Proposal
from .domain import confirmation as confirm
from .domain.diagnosis import diagnose, error_codes
from .domain.execution import DONE, FAILED, NEEDS_APPROVAL, CommerceActions, Execution, ExecutionResult, plan
from .domain.handoff import handoff_summary
from .domain.policy import (
    ALLOWED,
    NEEDS_HUMAN,
    NOT_APPLICABLE,
    REFUSED,
    PolicyRequest,
    candidate_orders,
    decide,
    normalize_order_id,
    order_question,
    refund_within_limit,
    rule_for,
    rule_sentence,
)
from .domain.tool_calls import WRITE_INTENTS, ToolContext
from .domain.writes import (
    EXCHANGE,
    MODIFY_ADDRESS,
    MODIFY_ITEMS,
    PlannedWrite,
    Variant,
    order_by_options,
    plan_write,
)

TECHNICAL_INTENT = "technical_support"
TECHNICAL_CATEGORY = "TECHNICAL"
OUT_OF_SCOPE = "out_of_scope"
COMMERCE_UNAVAILABLE = "commerce_unavailable"
# At most this many orders are looked up in full to tell them apart by the options the ticket names.
MAX_ORDERS_COMPARED = 6
# The context-compressor's reading of a turn that answers a proposal (`yes` / `no`).
CONFIRMATION_FACT = "confirmation"


class PendingStore(Protocol):
    def save(self, proposal: confirm.PendingProposal, now_ms: int) -> None: ...
    def get(self, conversation_id: str) -> confirm.PendingProposal | None: ...


class AnalystHandler:
    """Translates an envelope into policy and diagnosis calls and writes the Analysis back."""

    def __init__(self, refund_approval_limit: float, commerce: CommerceActions,
                 agent: ModelToolAgent | None = None, model_budget_share: float = 0.4, *,
                 reads: StoreReads | None = None, pending: PendingStore | None = None,
                 proposal_ttl_s: float = 86400.0, clock: Callable[[], float] = time.time) -> None:
        self._limit = refund_approval_limit
        self._commerce = commerce
        self._agent = agent if agent is not None and agent.configured else None
        self._model_share = model_budget_share
        # Without both, proposals are not kept and a "yes" has nothing to confirm.
        self._reads, self._pending = (reads, pending) if reads is not None and pending is not None else (None, None)
        self._ttl_ms = int(proposal_ttl_s * 1000)
        self._clock = clock

    async def __call__(self, env: Envelope, hop: HopRecord) -> Forward | Escalate:
        c = env.classification
        hop.intent, hop.confidence, hop.engine = c.intent, c.confidence, "rules"
        reply = env.context.facts.get(CONFIRMATION_FACT, "")
        if reply and self._pending is not None:
            conversation = env.ticket.conversation_id or env.ticket.ticket_id
            proposal = await asyncio.to_thread(self._pending.get, conversation)
            what = confirm.answer(proposal, reply, env.ticket.ticket_id, self._now_ms())
            if what != confirm.NOTHING:
                assert proposal is not None
                return await self._answer(env, hop, proposal, what)
            if c.intent == OUT_OF_SCOPE:
                env.analysis.policy_decision, env.analysis.policy_code = NOT_APPLICABLE, "nothing_to_confirm"
                env.analysis.policy_reason = ("There is no request of yours waiting for a confirmation, so nothing "
                                              "was changed. Please tell us what you would like us to do.")
                hop.labels["confirmation"] = "nothing_pending"
                return Forward(env)
        technical = c.intent == TECHNICAL_INTENT or c.category.upper() == TECHNICAL_CATEGORY
        if technical and not order_question([e.type for e in c.entities]):
            return self._technical(env, hop)
        return await self._policy(env, hop)

    def _technical(self, env: Envelope, hop: HopRecord) -> Forward | Escalate:
        entity_codes = [e.value for e in env.classification.entities if e.type == "error_code"]
        codes = error_codes(entity_codes, env.context.log_lines)
        diagnosis = diagnose(codes, env.retrieval.articles)
        env.analysis.policy_decision, env.analysis.policy_code = NOT_APPLICABLE, "technical"
        if codes:
            hop.labels["error_codes"] = ",".join(codes)[:256]
        if diagnosis is None:
            hop.labels["decision"] = "no_grounding"
            return Escalate(env, Escalation(
                reason="no_grounding",
                summary=handoff_summary(env, "no knowledge-base article matched this technical problem"
                                        + (f" (error codes: {', '.join(codes)})" if codes else ""), []),
                customer_message="We could not find a documented fix for this problem, so a specialist from "
                                 "our support team will look into it and reply to you."))
        env.analysis.diagnosis = diagnosis.text
        env.analysis.steps.extend(diagnosis.steps)
        hop.labels["decision"] = "diagnosed"
        hop.labels["article"] = diagnosis.article_id
        return Forward(env)

    async def _policy(self, env: Envelope, hop: HopRecord) -> Forward | Escalate:
        c, r = env.classification, env.retrieval
        if (self._agent is not None and c.intent in WRITE_INTENTS.values() and r.customer_id
                and COMMERCE_UNAVAILABLE not in env.degradations):
            budget = remaining_seconds(env) * self._model_share
            proposal = await self._agent.propose(env, self._tool_context(env), budget)
            _label(hop, proposal)
            if proposal.write is not None:
                decision, execution = proposal.write.decision, proposal.write.execution
                a = env.analysis
                a.policy_decision, a.policy_code, a.policy_reason = decision.decision, decision.code, decision.reason
                hop.engine = proposal.engine
                hop.labels.update({"decision": decision.decision, "policy_code": decision.code,
                                   "order_id": decision.order_id})
                result = await self._commerce.execute(execution, r.customer_id, env.ticket.ticket_id,
                                                      remaining_seconds(env))
                return self._after_execution(env, hop, execution, result)
            # No approved write: the rules engine decides, exactly as without a model.
        request = PolicyRequest(
            ticket_id=env.ticket.ticket_id, intent=c.intent, customer_id=r.customer_id, orders=list(r.orders),
            order_ids=[e.value for e in c.entities if e.type == "order_id"],
            amounts=[e.value for e in c.entities if e.type == "amount"],
            commerce_unavailable=COMMERCE_UNAVAILABLE in env.degradations,
            text=f"{env.ticket.subject}\n{env.ticket.body}",
        )
        decision = decide(request, self._limit)
        if decision.code == "order_not_identified" and self._reads is not None and r.orders:
            decision = await self._by_options(env, hop, request) or decision
        if (decision.code == "refund_above_limit" and decision.order_id and self._pending is not None
                and not request.amounts):
            # The limit applies to the refund the return makes: the items named, not the whole order.
            write = await self._exact_write(env, hop, "return_delivered_order_items", decision.order_id,
                                            request.text)
            if write is not None:
                decision = refund_within_limit(decision, request, write.amount, self._limit)
        a = env.analysis
        a.policy_decision, a.policy_code, a.policy_reason = decision.decision, decision.code, decision.reason
        hop.labels["decision"] = decision.decision
        hop.labels["policy_code"] = decision.code
        if decision.order_id:
            hop.labels["order_id"] = decision.order_id
            hop.labels["order_identified_by"] = decision.identified_by
        execution = plan(decision, env.ticket.ticket_id, f"{env.ticket.subject}\n{env.ticket.body}")
        if execution is None:
            if decision.decision == ALLOWED and decision.actions and self._pending is not None:
                await self._propose(env, hop, decision)
                return Forward(env)
            a.actions.extend(Action(name=p.name, status=p.status, detail=p.detail,
                                    idempotency_key=p.idempotency_key) for p in decision.actions)
            if decision.decision != NEEDS_HUMAN:
                return Forward(env)
            return Escalate(env, Escalation(
                reason=decision.code, summary=handoff_summary(env, decision.reason, a.actions),
                customer_message=f"{decision.reason} A member of our team will review your request and reply "
                                 "to you; nothing has been changed yet.", actions=a.actions))
        # The ticket's remaining budget is the deadline: a write that cannot finish in time is not started.
        result = await self._commerce.execute(execution, r.customer_id, env.ticket.ticket_id,
                                              remaining_seconds(env))
        return self._after_execution(env, hop, execution, result)

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    async def _propose(self, env: Envelope, hop: HopRecord, decision) -> None:
        """Turn the allowed actions into exact writes kept for the customer's "yes"; an action whose choices
        the ticket leaves open stays a plain proposal without a key (the reason asks for the choices)."""
        text = f"{env.ticket.subject}\n{env.ticket.body}"
        writes: list[PlannedWrite] = []
        open_choices = []
        for p in decision.actions:
            write = await self._exact_write(env, hop, p.name, decision.order_id, text)
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

    async def _by_options(self, env: Envelope, hop: HopRecord, request: PolicyRequest):
        """Several orders hold the items the ticket names: the one whose item has the options it names, if any."""
        candidates = [o for _, o in candidate_orders(request.orders, rule_for(request.intent, request.text),
                                                     request.text)]
        if not 1 < len(candidates) <= MAX_ORDERS_COMPARED:
            return None
        budget = max(0.2, remaining_seconds(env) / 4)
        try:
            details = [await self._reads.order(o.order_id, request.customer_id, budget) for o in candidates]
        except LookupError as exc:
            hop.labels["proposal.lookup_error"] = str(exc)[:256]
            return None
        chosen = order_by_options(details, request.text)
        if chosen is None:
            return None
        decision = decide(dataclasses.replace(request, order_ids=[chosen.order_id]), self._limit)
        return dataclasses.replace(decision, identified_by="options")

    async def _exact_write(self, env: Envelope, hop: HopRecord, action: str, order_id: str,
                           text: str) -> PlannedWrite | None:
        budget = max(0.2, remaining_seconds(env) / 4)
        customer_id = env.retrieval.customer_id
        try:
            order = await self._reads.order(order_id, customer_id, budget)
            customer = await self._reads.customer(customer_id, budget)
            variants: dict[str, list[Variant]] = {}
            if action in (EXCHANGE, MODIFY_ITEMS):
                for product_id in dict.fromkeys(line.product_id for line in order.lines):
                    variants[product_id] = await self._reads.variants(product_id, budget)
            others = {}
            if action == MODIFY_ADDRESS:
                # "the same address as order #W…": the other orders the ticket names, the customer's own.
                named = {normalize_order_id(e.value) for e in env.classification.entities if e.type == "order_id"}
                for other in sorted(named - {normalize_order_id(order_id)}):
                    others[other] = await self._reads.order(other, customer_id, budget)
        except LookupError as exc:
            hop.labels["proposal.lookup_error"] = str(exc)[:256]
            return None
        return plan_write(action, order, text, env.ticket.ticket_id, variants, customer, others)

    async def _answer(self, env: Envelope, hop: HopRecord, proposal: confirm.PendingProposal,
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
            return Escalate(env, Escalation(
                reason="action_failed",
                summary=handoff_summary(env, "; ".join(f"confirmed {w.action} on order {w.order_id} failed: "
                                                       f"{res.detail}" for w, res in failed), a.actions),
                customer_message="We could not complete your request automatically, so a member of our team "
                                 "will finish it and reply to you.", actions=a.actions))
        refused = [res.detail for _, res in results if res.status != DONE]
        a.policy_decision = ALLOWED if len(refused) < len(results) else REFUSED
        a.policy_code = "proposal_confirmed" if not refused else "proposal_confirmed_refused"
        a.policy_reason = " ".join(refused)
        return Forward(env)

    @staticmethod
    def _tool_context(env: Envelope) -> ToolContext:
        c, r = env.classification, env.retrieval
        return ToolContext(
            ticket_id=env.ticket.ticket_id, intent=c.intent, customer_id=r.customer_id, orders=list(r.orders),
            text=f"{env.ticket.subject}\n{env.ticket.body}",
            order_ids=[e.value for e in c.entities if e.type == "order_id"],
            amounts=[e.value for e in c.entities if e.type == "amount"])

    def _after_execution(self, env: Envelope, hop: HopRecord, execution: Execution,
                         result: ExecutionResult) -> Forward | Escalate:
        """Record what commerce did; answer, explain the refusal, or hand over (approval case, failure)."""
        a = env.analysis
        status = "refused" if result.status == NEEDS_APPROVAL else result.status
        a.actions.append(Action(name=execution.action, status=status, detail=result.detail,
                                idempotency_key=execution.idempotency_key))
        hop.labels["action"] = f"{execution.action}:{result.status}"
        if result.status == DONE:
            a.policy_decision, a.policy_code = ALLOWED, f"{execution.action}_done"
            return Forward(env)
        if result.status == NEEDS_APPROVAL:
            hop.labels["case_id"] = result.case_id
            return Escalate(env, Escalation(
                reason="refund_above_limit", case_id=result.case_id,
                summary=handoff_summary(env, f"{a.policy_reason} Commerce opened case {result.case_id}: "
                                        f"{result.detail}", a.actions),
                customer_message=f"{a.policy_reason} Your request is now case {result.case_id}; a member of our "
                                 "team will review it and reply to you. No refund has been made yet.",
                actions=a.actions))
        if result.status == FAILED:
            return Escalate(env, Escalation(
                reason="action_failed",
                summary=handoff_summary(env, f"{execution.action} on order {execution.order_id} failed: "
                                        f"{result.detail}", a.actions),
                customer_message="We could not complete your request automatically, so a member of our team "
                                 "will finish it and reply to you.", actions=a.actions))
        # Refused by the store (the order changed since it was looked up, ...): its reason is quotable.
        a.policy_decision, a.policy_code, a.policy_reason = REFUSED, f"{execution.action}_refused", result.detail
        return Forward(env)


def _label(hop: HopRecord, proposal: Proposal) -> None:
    """What the model proposed and what was refused, on the stage's hop record (the model calls have their own)."""
    hop.labels["model.outcome"] = proposal.outcome
    if proposal.refusals:
        hop.labels["model.refused"] = ",".join(f"{tool}:{r.code}" for tool, r in proposal.refusals)[:256]
    if proposal.lookups:
        hop.labels["model.lookups"] = str(proposal.lookups)
