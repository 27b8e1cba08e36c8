"""The agent-reply record: strict decoding with reasons, its derived ids, and the approval key."""

import json

import pytest
from supportmesh.v1.agent_reply_pb2 import AgentReply, ApprovedAction
from supportmesh_core.codec import JSON_TYPE, PROTOBUF_TYPE, BadMessage
from supportmesh_core.handback import approval_key, decode_agent_reply, reply_id_for

pytestmark = pytest.mark.unit

GOOD = {"ticket_id": "T-1", "conversation_id": "C-1", "agent_id": "agent:alice", "text": "Your refund is approved.",
        "approved_actions": [{"case_id": "CASE-ABC", "action": "issue_refund"}]}


def _raw(**over) -> bytes:
    return json.dumps({**GOOD, **over}).encode()


def test_a_good_reply_gets_an_id_from_its_content_and_a_time():
    first = decode_agent_reply(_raw(), JSON_TYPE, b"C-1")
    again = decode_agent_reply(_raw(), JSON_TYPE, b"C-1")
    assert first.reply_id == again.reply_id and first.reply_id.startswith("AR-")
    assert decode_agent_reply(_raw(text="Other words."), JSON_TYPE).reply_id != first.reply_id
    assert first.sent_at and [(a.case_id, a.action) for a in first.approved_actions] == [("CASE-ABC", "issue_refund")]
    assert decode_agent_reply(_raw(reply_id="AR-mine"), JSON_TYPE).reply_id == "AR-mine"


def test_protobuf_and_sniffed_json_read_alike():
    reply = AgentReply(ticket_id="T-1", conversation_id="C-1", agent_id="a", text="hi",
                       approved_actions=[ApprovedAction(case_id="CASE-1", action="issue_refund")])
    assert decode_agent_reply(reply.SerializeToString(), PROTOBUF_TYPE).text == "hi"
    assert decode_agent_reply(_raw(), None).agent_id == "agent:alice"
    assert reply_id_for(reply) == reply_id_for(AgentReply.FromString(reply.SerializeToString()))


@pytest.mark.parametrize(("raw", "key", "reason"), [
    (b"", None, "empty message"),
    (b"{not json", None, "not JSON"),
    (b"[1]", "", "neither JSON nor a protobuf"),
    (json.dumps([GOOD]).encode(), JSON_TYPE, "must be a JSON object"),
    (_raw(ticket_id=""), None, "ticket_id is required"),
    (_raw(conversation_id=""), None, "conversation_id is required"),
    (_raw(agent_id=""), None, "agent_id is required"),
    (_raw(agent_id="two words"), None, "is not an id"),
    (_raw(text="   "), None, "text is empty"),
    (_raw(text="x" * 70000), None, "over the 65536 byte limit"),
    (_raw(text="a\x00b"), None, "NUL"),
    (_raw(text=5), None, "wrong type"),
    (_raw(approved_actions=[{"case_id": "CASE-1", "action": "cancel_pending_order"}]), None, "not one a case"),
    (_raw(approved_actions=[{"action": "issue_refund"}]), None, "needs the case_id"),
    (_raw(approved_actions=["CASE-1"]), None, "needs the case_id"),
    (_raw(reply_id="T-1"), None, "must not be the ticket's"),
])
def test_malformed_replies_are_refused_with_the_reason(raw, key, reason):
    ctype = key if key in (JSON_TYPE, "") else JSON_TYPE if raw[:1] == b"{" else None
    with pytest.raises(BadMessage, match=reason):
        decode_agent_reply(raw, ctype or None)


def test_the_key_must_be_the_conversation():
    with pytest.raises(BadMessage, match="is not its conversation_id"):
        decode_agent_reply(_raw(), JSON_TYPE, b"C-2")


def test_the_approval_key_depends_on_case_and_action_only():
    assert approval_key("CASE-1", "issue_refund") == approval_key("CASE-1", "issue_refund")
    assert approval_key("CASE-1", "issue_refund") != approval_key("CASE-2", "issue_refund")
    assert len(approval_key("CASE-1", "issue_refund")) == 32
