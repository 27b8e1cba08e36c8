"""A human agent's reply (recorded by the context-compressor) reaches the analyst: what the agent approved is made
through commerce, exactly as the escalation's case names it, and the agent's text goes to the customer.

Only an action the case itself awaits is approved: the case must exist, belong to the ticket the agent answers,
and be of a reason whose pending action is the one approved (a `refund_above_limit` case: `issue_refund`).
Commerce's ApproveCase then makes the case's own refund (its order, amount and payment method; nothing the reply
could change) under a key from case id + action, so a redelivered or repeated approval replays the first answer
and the refund is made once. An approval that cannot be made goes back to the agents as an escalation of the reply
saying why, and the customer is sent nothing: the agent's text would promise what did not happen.
"""

from dataclasses import dataclass
from typing import Protocol

from supportmesh.v1.envelope_pb2 import Action, Envelope
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh.v1.outcomes_pb2 import Escalation, Reply, Response
from supportmesh_core import handoff
from supportmesh_core.handback import CASE_ACTIONS, approval_key
from supportmesh_core.stage import Escalate, Respond, remaining_seconds

from .domain import STAGE
from .domain.execution import DONE, REFUSED, ExecutionResult

APPROVAL_REFUSED, APPROVAL_FAILED = "approval_refused", "action_failed"
ENGINE = "human"


@dataclass(frozen=True)
class CaseFacts:
    """What the analyst checks of a case before asking commerce to make its action."""

    case_id: str
    ticket_id: str
    reason: str
    status: str


class CaseApprovals(Protocol):
    """Commerce's cases as the handback needs them (gRPC in production, a fake in unit tests)."""

    async def get_case(self, case_id: str, timeout_s: float) -> CaseFacts | ExecutionResult: ...

    async def approve_case(self, case_id: str, action: str, ticket_id: str, approved_by: str, idempotency_key: str,
                           timeout_s: float) -> ExecutionResult: ...


def case_problem(case: CaseFacts, action: str, ticket_id: str) -> str:
    """Why this case's action cannot be approved by a reply to `ticket_id`; empty when it can."""
    if case.ticket_id != ticket_id:
        return f"case {case.case_id} was opened for ticket {case.ticket_id or 'none'}, not {ticket_id}"
    awaited = CASE_ACTIONS.get(case.reason)
    if awaited is None:
        return f"case {case.case_id} ({case.reason}) awaits no action a person can approve"
    if awaited != action:
        return f"case {case.case_id} awaits approval of {awaited}, not {action}"
    return ""


class Handback:
    """The analyst's part of an agent's reply: approved actions through commerce, then the answer or the refusal."""

    def __init__(self, approvals: CaseApprovals) -> None:
        self._approvals = approvals

    async def __call__(self, env: Envelope, hop: HopRecord) -> Respond | Escalate:
        reply = env.agent_reply
        hop.intent, hop.engine = env.classification.intent, ENGINE
        hop.labels.update({"handback.in_reply_to": reply.ticket_id, "handback.agent": reply.agent_id})
        actions: list[Action] = []
        for approved in reply.approved_actions:
            key = approval_key(approved.case_id, approved.action)
            case = await self._approvals.get_case(approved.case_id, remaining_seconds(env))
            if isinstance(case, ExecutionResult):   # not found, or commerce could not answer
                result = case
            elif problem := case_problem(case, approved.action, reply.ticket_id):
                result = ExecutionResult(REFUSED, problem)
            else:
                result = await self._approvals.approve_case(approved.case_id, approved.action, reply.ticket_id,
                                                            reply.agent_id, key, remaining_seconds(env))
            actions.append(Action(name=approved.action, status=result.status, detail=result.detail,
                                  idempotency_key=key))
            hop.labels["action"] = f"{approved.action}:{result.status}"
            hop.labels["case_id"] = approved.case_id
            if result.status != DONE:
                return self._not_sent(env, actions, approved.case_id, result)
        text = reply.text.strip()
        if done := " ".join(a.detail for a in actions if a.detail):
            text = f"{text}\n\n{done}"
        return Respond(env, Response(reply=Reply(text=text), actions=actions, engine=ENGINE,
                                     in_reply_to=reply.ticket_id, agent_id=reply.agent_id))

    @staticmethod
    def _not_sent(env: Envelope, actions: list[Action], case_id: str, result: ExecutionResult) -> Escalate:
        reply = env.agent_reply
        reason = APPROVAL_FAILED if result.status not in (DONE, REFUSED) else APPROVAL_REFUSED
        made = [a for a in actions if a.status == DONE]
        what = "failed" if reason == APPROVAL_FAILED else "was refused"
        why = (f"the reply of {reply.agent_id} to ticket {reply.ticket_id} was NOT sent to the customer: its "
               f"approval of {actions[-1].name} on case {case_id} {what}: {result.detail}.")
        if made:
            why += " Made before it: " + " ".join(a.detail for a in made)
        why += (" Send the reply again once that is resolved (the same approval is made at most once), or "
                "without --approve.")
        env.analysis.actions.extend(actions)   # the summary lists them with the envelope's other facts
        # The customer is sent nothing (customer_message stays empty), which the summary says.
        summary = handoff.summary(env, reason, why, "", stage=STAGE)
        return Escalate(env, Escalation(reason=reason, case_id=case_id, summary=summary, actions=actions,
                                        priority="high"))
