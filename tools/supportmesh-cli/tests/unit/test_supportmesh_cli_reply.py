"""`supportmesh reply` without a broker: the record it builds from a ticket's outcome, its refusals, and how tail
shows an agent's answer."""

import re

import pytest
from aiokafka import ConsumerRecord
from supportmesh_cli.main import build_parser
from supportmesh_cli.reply import NothingToApprove, build_reply
from supportmesh_cli.tail import render
from supportmesh_core import topics
from supportmesh_core.codec import BadMessage

pytestmark = pytest.mark.unit

ESCALATION = {"ticket_id": "T-1", "conversation_id": "C-1", "reason": "refund_above_limit", "case_id": "CASE-9"}


def test_reply_options_parse(monkeypatch):
    monkeypatch.setenv("SUPPORTMESH_AGENT_ID", "agent:desk-7")
    args = build_parser().parse_args(["reply", "T-1", "--text", "Done.", "--approve"])
    assert (args.command, args.ticket_id, args.text, args.approve, args.agent) == (
        "reply", "T-1", "Done.", True, "agent:desk-7")


def test_an_approval_names_the_action_the_case_awaits():
    reply = build_reply("T-1", topics.ESCALATIONS, ESCALATION, "Approved.", "agent:alice", approve=True)
    assert (reply.ticket_id, reply.conversation_id, reply.agent_id) == ("T-1", "C-1", "agent:alice")
    assert [(a.case_id, a.action) for a in reply.approved_actions] == [("CASE-9", "issue_refund")]
    assert reply.reply_id.startswith("AR-") and reply.sent_at
    plain = build_reply("T-1", topics.ESCALATIONS, ESCALATION, "Hello.", "agent:alice", approve=False)
    assert list(plain.approved_actions) == []


@pytest.mark.parametrize(("topic", "outcome", "words"), [
    (topics.RESPONSES, {"ticket_id": "T-1", "conversation_id": "C-1"}, "answered, not escalated"),
    (topics.ESCALATIONS, {**ESCALATION, "reason": "duplicate_charge"}, "names no action awaiting approval"),
    (topics.ESCALATIONS, {**ESCALATION, "case_id": ""}, "no case"),
])
def test_approve_without_an_action_to_approve_is_refused(topic, outcome, words):
    with pytest.raises(NothingToApprove, match=words):
        build_reply("T-1", topic, outcome, "Approved.", "agent:alice", approve=True)


def test_a_reply_the_mesh_would_refuse_is_refused_here():
    with pytest.raises(BadMessage, match="text is empty"):
        build_reply("T-1", topics.ESCALATIONS, ESCALATION, "  ", "agent:alice", approve=False)


def test_tail_shows_who_answered_which_ticket():
    rec = ConsumerRecord(topic=topics.RESPONSES, partition=0, offset=1, timestamp=1_700_000_000_000,
                         timestamp_type=0, key=b"C-1", value=b"{}", checksum=None, serialized_key_size=3,
                         serialized_value_size=2, headers=())
    text = render(rec, {"ticket_id": "AR-1", "in_reply_to": "T-1", "agent_id": "agent:alice", "latency_ms": 40,
                        "engine": "human", "reply": {"text": "Refunded."},
                        "actions": [{"name": "issue_refund", "status": "done"}]})
    lines = text.splitlines()
    assert re.fullmatch(r"\d\d:\d\d:\d\d AGENT REPLY AR-1 to T-1 by agent:alice 40 ms engine=human", lines[0])
    assert lines[1:] == ["  Refunded.", "  actions: issue_refund=done"]
