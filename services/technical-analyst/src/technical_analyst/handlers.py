"""The analyst stage: technical tickets get a diagnosis, order requests get the store policy's decision."""

import time
from collections.abc import Callable

from supportmesh.v1.envelope_pb2 import Action, Envelope
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh_core import handoff, resolution
from supportmesh_core.resolution import UNSURE_REQUEST, SafetyRule
from supportmesh_core.stage import Escalate, Forward, Respond, remaining_seconds

from .adapters.store_reads import StoreReads
from .adapters.tool_agent import ModelToolAgent, Proposal
from .domain import NOT_COMPLETED, STAGE
from .domain.billing import CASE_ACTION, case_request, evidence
from .domain.diagnosis import diagnose, error_codes
from .domain.execution import DONE, FAILED, NEEDS_APPROVAL, CommerceActions, Execution, ExecutionResult, plan
from .domain.order_rules import (
    ACTION_INTENTS,
    ALLOWED,
    NEEDS_HUMAN,
    NOT_APPLICABLE,
    REFUSED,
    PolicyDecision,
    PolicyRequest,
    decide,
    order_question,
    refund_within_limit,
)
from .domain.requests import USER_ADDRESS, conditional, requested_intent, several, split_requests
from .domain.tool_calls import WRITE_INTENTS, ToolContext
from .handback import Handback
from .proposals import PendingStore, Proposals

TECHNICAL_INTENT = "technical_support"
TECHNICAL_CATEGORY = "TECHNICAL"
COMMERCE_UNAVAILABLE = "commerce_unavailable"
# The intent of "update my default address to …" (a request on the account, not an order).
DEFAULT_ADDRESS_INTENT = "set_up_shipping_address"
# The classifier's marker for a ticket whose own words ask for a store write (intent_classifier/domain/
# order_request.py): decided as the write its first request verb asks for, whatever the intent says.
ORDER_REQUEST = "order_request"


class AnalystHandler:
    """Translates an envelope into policy and diagnosis calls and writes the Analysis back."""

    def __init__(self, refund_approval_limit: float, commerce: CommerceActions,
                 agent: ModelToolAgent | None = None, model_budget_share: float = 0.4, *,
                 reads: StoreReads | None = None, pending: PendingStore | None = None,
                 proposal_ttl_s: float = 86400.0, clock: Callable[[], float] = time.time) -> None:
        self._limit = refund_approval_limit
        self._commerce = commerce
        self._contracts = resolution.load()
        self._agent = agent if agent is not None and agent.configured else None
        self._model_share = model_budget_share
        # Without both, proposals are not kept and a "yes" has nothing to confirm.
        self._proposals = (Proposals(commerce, reads, pending, refund_approval_limit, proposal_ttl_s, clock)
                           if reads is not None and pending is not None else None)
        # A human agent's reply (tickets.agent-replies, via the compressor): what it approved, then its answer.
        self._handback = Handback(commerce)

    async def __call__(self, env: Envelope, hop: HopRecord) -> Forward | Escalate | Respond:
        if env.HasField("agent_reply"):
            return await self._handback(env, hop)
        c = env.classification
        hop.intent, hop.confidence, hop.engine = c.intent, c.confidence, "rules"
        # Money and safety first (the resolution contract's safety rules): a case with the evidence, a person.
        if (rule := self._contracts.safety_rule(list(c.flags))) is not None:
            return await self._safety_case(env, hop, rule)
        if self._proposals is not None and (answered := await self._proposals.reply_to_pending(env, hop)):
            return answered
        technical = c.intent == TECHNICAL_INTENT or c.category.upper() == TECHNICAL_CATEGORY
        if technical and not order_question([e.type for e in c.entities]) and ORDER_REQUEST not in c.flags:
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
            return Escalate(env, handoff.escalation(
                env, "no_grounding", "no knowledge-base article matched this technical problem"
                + (f" (error codes: {', '.join(codes)})" if codes else ""),
                "We could not find a documented fix for this problem, so a specialist from our support team will "
                "look into it and reply to you.", stage=STAGE))
        env.analysis.diagnosis = diagnosis.text
        env.analysis.steps.extend(diagnosis.steps)
        hop.labels["decision"] = "diagnosed"
        hop.labels["article"] = diagnosis.article_id
        return Forward(env)

    async def _policy(self, env: Envelope, hop: HopRecord) -> Forward | Escalate:
        c, r = env.classification, env.retrieval
        intent = self._intent(env, hop)
        if (self._agent is not None and intent in WRITE_INTENTS.values() and r.customer_id
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
            ticket_id=env.ticket.ticket_id, intent=intent, customer_id=r.customer_id, orders=list(r.orders),
            order_ids=[e.value for e in c.entities if e.type == "order_id"],
            amounts=[e.value for e in c.entities if e.type == "amount"],
            commerce_unavailable=COMMERCE_UNAVAILABLE in env.degradations,
            text=f"{env.ticket.subject}\n{env.ticket.body}",
        )
        asked = (split_requests(request.text, request.orders, request.order_ids)
                 if self._proposals is not None and request.customer_id
                 and (intent in ACTION_INTENTS or intent == DEFAULT_ADDRESS_INTENT)
                 and not request.commerce_unavailable else [])
        if intent == DEFAULT_ADDRESS_INTENT:
            # "Update my default address to …": only a change of the account's address is decided here.
            asked = [x for x in asked if x.rule == USER_ADDRESS]
        unsure = c.family == UNSURE_REQUEST
        if unsure:
            # Routed by its verbs alone (the classifier was unsure): only what the words ask without a condition.
            kept = [x for x in asked if not (x.fallback or conditional(x.clause))]
            hop.labels["unsure_kept"] = f"{len(kept)}/{len(asked)}"
            if not kept:   # nothing decided: the generator hands the ticket to a person (low confidence)
                env.analysis.policy_decision, env.analysis.policy_code = NOT_APPLICABLE, "no_order_request"
                return Forward(env)
            asked = kept
        if several(asked) or unsure:
            # Several requests (or one read by its verbs alone): each decided on its own order and clause, one
            # proposal and one reply for them all.
            if c.intent == DEFAULT_ADDRESS_INTENT:
                # The reply proposes the change and asks for a yes: the change-address contract, which covers
                # the default address too (set_up_shipping_address's only states the address on file).
                c.intent = "change_shipping_address"
                hop.labels["intent_from"] = DEFAULT_ADDRESS_INTENT
            held = await self._proposals.propose_several(env, hop, request, asked)
            if held is None:
                return Forward(env)
            decision = held     # a refund above the limit: the ticket goes to a human, as a single one would
        else:
            decision = await self._single(env, hop, request)
        a = env.analysis
        a.policy_decision, a.policy_code, a.policy_reason = decision.decision, decision.code, decision.reason
        hop.labels["decision"] = decision.decision
        hop.labels["policy_code"] = decision.code
        if decision.order_id:
            hop.labels["order_id"] = decision.order_id
            hop.labels["order_identified_by"] = decision.identified_by
        execution = plan(decision, env.ticket.ticket_id, request.text, sure=not env.classification.family)
        if execution is None:
            if decision.decision == ALLOWED and decision.actions and self._proposals is not None:
                await self._proposals.propose(env, hop, decision)
                return Forward(env)
            a.actions.extend(Action(name=p.name, status=p.status, detail=p.detail,
                                    idempotency_key=p.idempotency_key) for p in decision.actions)
            if decision.decision != NEEDS_HUMAN:
                return Forward(env)
            return Escalate(env, handoff.escalation(
                env, decision.code, decision.reason, f"{decision.reason} A member of our team will review your "
                "request and reply to you; nothing has been changed yet.", stage=STAGE, actions=a.actions))
        # The ticket's remaining budget is the deadline: a write that cannot finish in time is not started.
        result = await self._commerce.execute(execution, r.customer_id, env.ticket.ticket_id,
                                              remaining_seconds(env))
        return self._after_execution(env, hop, execution, result)

    async def _safety_case(self, env: Envelope, hop: HopRecord, rule: SafetyRule) -> Escalate:
        """Open the case with what was looked up and hand over; a case commerce could not open is said so."""
        a, why = env.analysis, "; ".join(evidence(env, rule))
        a.policy_decision, a.policy_code = NEEDS_HUMAN, rule.reason
        env.classification.priority = rule.priority
        hop.labels.update({"decision": NEEDS_HUMAN, "policy_code": rule.reason})
        case_id, told = "", rule.told
        if rule.case:
            request = case_request(env, rule)
            result = (ExecutionResult(FAILED, "commerce unavailable") if COMMERCE_UNAVAILABLE in env.degradations
                      else await self._commerce.open_case(request, env.retrieval.customer_id,
                                                          env.ticket.ticket_id, remaining_seconds(env)))
            a.actions.append(Action(name=CASE_ACTION, status=result.status, detail=result.detail,
                                    idempotency_key=request.idempotency_key))
            if result.status == DONE:
                case_id, told = result.case_id, f"{told} Your case number is {result.case_id}."
                hop.labels["case_id"] = case_id
            else:
                why += f"; no case could be opened: {result.detail}"
        return Escalate(env, handoff.escalation(env, rule.reason, why, told, stage=STAGE, priority=rule.priority,
                                                case_id=case_id, actions=a.actions))

    @staticmethod
    def _intent(env: Envelope, hop: HopRecord) -> str:
        """The intent the policy decides: the classifier's, or for an `order_request` ticket the classifier read
        as something else (a question, a problem) the write its first request verb asks for."""
        c = env.classification
        if ORDER_REQUEST not in c.flags or c.intent in ACTION_INTENTS or c.intent == DEFAULT_ADDRESS_INTENT:
            return c.intent
        asked = requested_intent(f"{env.ticket.subject}\n{env.ticket.body}")
        if asked:
            hop.labels["request_intent"] = asked
        return asked or c.intent

    async def _single(self, env: Envelope, hop: HopRecord, request: PolicyRequest) -> PolicyDecision:
        """The policy's decision for a ticket asking for one thing (or whose requests are not told apart)."""
        decision = decide(request, self._limit)
        if decision.code == "order_not_identified" and self._proposals is not None and request.orders:
            decision = await self._proposals.by_options(env, hop, request) or decision
        if (decision.code == "refund_above_limit" and decision.order_id and self._proposals is not None
                and not request.amounts):
            # The limit applies to the refund the return makes: the items named, not the whole order.
            write = await self._proposals.exact_write(env, hop, "return_delivered_order_items", decision.order_id,
                                                      request.text)
            if write is not None:
                decision = refund_within_limit(decision, request, write.amount, self._limit)
        return decision

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
            return Escalate(env, handoff.escalation(
                env, "refund_above_limit", f"{a.policy_reason} Commerce opened case {result.case_id}: {result.detail}",
                f"{a.policy_reason} Your request is now case {result.case_id}; a member of our team will review it "
                "and reply to you. No refund has been made yet.", stage=STAGE, case_id=result.case_id,
                actions=a.actions))
        if result.status == FAILED:
            return Escalate(env, handoff.escalation(
                env, "action_failed", f"{execution.action} on order {execution.order_id} failed: {result.detail}",
                NOT_COMPLETED, stage=STAGE, actions=a.actions))
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
