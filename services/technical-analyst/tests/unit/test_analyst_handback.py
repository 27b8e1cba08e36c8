"""The analyst's part of an agent's reply: only the action the case awaits is approved, under the case's key; the
customer gets the agent's text and what the store did, or nothing when the approval could not be made."""

import time

import pytest
from supportmesh.v1.agent_reply_pb2 import AgentReply, ApprovedAction
from supportmesh.v1.envelope_pb2 import Envelope
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh_core.handback import approval_key
from supportmesh_core.stage import Escalate, Respond
from technical_analyst.domain.execution import ExecutionResult
from technical_analyst.handback import APPROVAL_FAILED, APPROVAL_REFUSED, CaseFacts
from technical_analyst.handlers import AnalystHandler

pytestmark = pytest.mark.unit

SUMMARY = "A refund of $700.00 for order #W2378156 has been issued to your Visa credit card ending in 1234."


class FakeCases:
    """Cases by id, and the approvals asked for."""

    def __init__(self, cases: dict[str, CaseFacts], result: ExecutionResult | None = None) -> None:
        self.cases, self.result = cases, result or ExecutionResult("done", SUMMARY)
        self.approvals: list[tuple] = []

    async def get_case(self, case_id, timeout_s):
        return self.cases.get(case_id) or ExecutionResult("refused", f"case {case_id} not found")

    async def approve_case(self, case_id, action, ticket_id, approved_by, idempotency_key, timeout_s):
        self.approvals.append((case_id, action, ticket_id, approved_by, idempotency_key))
        return self.result


def _reply(*actions: tuple[str, str]) -> Envelope:
    reply = AgentReply(reply_id="AR-1", ticket_id="T-1", conversation_id="C-1", agent_id="agent:alice",
                       text="Good news: I approved your refund.",
                       approved_actions=[ApprovedAction(case_id=c, action=a) for c, a in actions])
    env = Envelope(deadline_unix_ms=int(time.time() * 1000) + 3000)
    env.ticket.ticket_id, env.ticket.conversation_id, env.ticket.body = "AR-1", "C-1", reply.text
    env.agent_reply.CopyFrom(reply)
    env.classification.intent = "agent_reply"
    return env


PENDING = CaseFacts("CASE-1", "T-1", "refund_above_limit", "pending_approval")


async def test_an_approved_refund_is_made_under_the_case_key_and_the_customer_told():
    cases = FakeCases({"CASE-1": PENDING})
    result = await AnalystHandler(500.0, cases)(_reply(("CASE-1", "issue_refund")), HopRecord())
    assert isinstance(result, Respond)
    assert cases.approvals == [("CASE-1", "issue_refund", "T-1", "agent:alice",
                                approval_key("CASE-1", "issue_refund"))]
    r = result.response
    assert r.reply.text == f"Good news: I approved your refund.\n\n{SUMMARY}"
    assert (r.in_reply_to, r.agent_id, r.engine) == ("T-1", "agent:alice", "human")
    assert [(a.name, a.status, a.idempotency_key) for a in r.actions] == [
        ("issue_refund", "done", approval_key("CASE-1", "issue_refund"))]


async def test_a_plain_reply_calls_nothing():
    cases = FakeCases({})
    result = await AnalystHandler(500.0, cases)(_reply(), HopRecord())
    assert isinstance(result, Respond) and result.response.reply.text == "Good news: I approved your refund."
    assert cases.approvals == [] and list(result.response.actions) == []


@pytest.mark.parametrize(("case", "words"), [
    (CaseFacts("CASE-1", "T-other", "refund_above_limit", "pending_approval"), "opened for ticket T-other"),
    (CaseFacts("CASE-1", "T-1", "duplicate_charge", "open"), "awaits no action"),
    (None, "not found"),
])
async def test_an_action_the_case_does_not_await_is_never_asked_for(case, words):
    cases = FakeCases({"CASE-1": case} if case else {})
    hop = HopRecord()
    result = await AnalystHandler(500.0, cases)(_reply(("CASE-1", "issue_refund")), hop)
    assert isinstance(result, Escalate) and result.escalation.reason == APPROVAL_REFUSED
    assert words in result.escalation.summary and "NOT sent" in result.escalation.summary
    assert result.escalation.customer_message == "" and cases.approvals == []
    assert hop.labels["action"] == "issue_refund:refused"


@pytest.mark.parametrize(("status", "reason"), [("refused", APPROVAL_REFUSED), ("failed", APPROVAL_FAILED)])
async def test_an_approval_commerce_does_not_make_goes_back_to_the_agents(status, reason):
    cases = FakeCases({"CASE-1": PENDING}, ExecutionResult(status, "Case CASE-1 was already approved by agent:bob"))
    result = await AnalystHandler(500.0, cases)(_reply(("CASE-1", "issue_refund")), HopRecord())
    assert isinstance(result, Escalate) and result.escalation.reason == reason
    assert result.escalation.case_id == "CASE-1" and "already approved by agent:bob" in result.escalation.summary
