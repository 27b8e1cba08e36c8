"""A human agent's reply (tickets.agent-replies): strict decoding, the ids it is known by, the actions it may approve.

The agent desk and `supportmesh reply` write the same record; both check it with `decode_agent_reply`, so what
the CLI accepts the mesh accepts, and a record the mesh would dead-letter is refused at the terminal with the
same reason.
"""

import hashlib
import re

from google.protobuf.message import DecodeError
from supportmesh.v1.agent_reply_pb2 import AgentReply

from .codec import JSON_TYPE, MAX_BODY_BYTES, PROTOBUF_TYPE, BadMessage, message_from_json, now_rfc3339

# What a case of each reason waits for a person to approve; only these actions can be approved, and only on a
# case of that reason (commerce's ApproveCase checks the same).
CASE_ACTIONS = {"refund_above_limit": "issue_refund"}
APPROVABLE_ACTIONS = frozenset(CASE_ACTIONS.values())
MAX_ACTIONS = 5
# Ids an agent desk may choose (reply, ticket, conversation, agent): printable, no spaces, bounded.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,127}")
REPLY_PREFIX = "AR-"
# The service that keeps the conversations consumes the agent replies (docs/architecture.md, Human handback).
CONSUMER = "context-compressor"


def consumer_group(service: str = CONSUMER) -> str:
    """The consumer group of a service's agent-replies input: its own, beside the stage's."""
    return f"{service}.agent-replies"


def reply_id_for(reply: AgentReply) -> str:
    """The id of a reply that came without one: a hash of what it says, so a record published twice (a producer
    retry, a desk that sends again) is one reply, and a redelivered one keeps its id."""
    parts = [reply.ticket_id, reply.conversation_id, reply.agent_id, reply.text, reply.sent_at]
    parts += [f"{a.case_id}:{a.action}" for a in reply.approved_actions]
    return REPLY_PREFIX + hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def approval_key(case_id: str, action: str) -> str:
    """The idempotency key of an approved action: from the case and the action alone, so a repeated approval (a
    redelivery, a second `supportmesh reply --approve`, another agent) is the same request to commerce."""
    return hashlib.sha256(f"{case_id}:{action}".encode()).hexdigest()[:32]


def decode_agent_reply(raw: bytes | None, content_type: str | None = None, key: bytes | None = None) -> AgentReply:
    """Decode and validate an agent reply (JSON or protobuf), filling its id and time when absent.

    Raises BadMessage with a reason the agent desk can act on. `key` is the record's Kafka key: when present it
    must be the conversation id, so a conversation's replies stay in order with each other.
    """
    if not raw:
        raise BadMessage("empty message")
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype in (JSON_TYPE, "text/json") or (not ctype and raw.lstrip()[:1] == b"{"):
        reply = message_from_json(raw, AgentReply(), "an agent reply")
    elif ctype in (PROTOBUF_TYPE, "application/protobuf") or not ctype:
        reply = AgentReply()
        try:
            reply.ParseFromString(raw)
        except (DecodeError, RecursionError, UnicodeDecodeError) as exc:
            raise BadMessage("neither JSON nor a protobuf AgentReply" if not ctype
                             else f"not a protobuf AgentReply: {exc}") from None
    else:
        raise BadMessage(f"unsupported content-type {content_type!r}; use {JSON_TYPE} or {PROTOBUF_TYPE}")
    return _validated(reply, key)


def _validated(reply: AgentReply, key: bytes | None) -> AgentReply:
    for name in ("ticket_id", "conversation_id", "agent_id"):
        value = getattr(reply, name)
        if not value:
            raise BadMessage(f"{name} is required")
        if not _ID.fullmatch(value):
            raise BadMessage(f"{name} {value[:40]!r} is not an id (letters, digits and ._:@/+-, at most 128)")
    if key and key.decode(errors="replace") != reply.conversation_id:
        raise BadMessage(f"the record's key {key[:40].decode(errors='replace')!r} is not its conversation_id "
                         f"{reply.conversation_id!r}")
    text = reply.text.encode("utf-8", "surrogatepass")
    if not reply.text.strip():
        raise BadMessage("text is empty: the customer would receive nothing")
    if len(text) > MAX_BODY_BYTES:
        raise BadMessage(f"text is {len(text)} bytes, over the {MAX_BODY_BYTES} byte limit")
    if "\x00" in reply.text:
        raise BadMessage("text contains NUL characters")
    if len(reply.approved_actions) > MAX_ACTIONS:
        raise BadMessage(f"{len(reply.approved_actions)} approved actions; at most {MAX_ACTIONS}")
    for action in reply.approved_actions:
        if not action.case_id or not _ID.fullmatch(action.case_id):
            raise BadMessage("an approved action needs the case_id its escalation named")
        if action.action not in APPROVABLE_ACTIONS:
            raise BadMessage(f"approved action {action.action!r} of case {action.case_id} is not one a case can "
                             f"ask for; known: {', '.join(sorted(APPROVABLE_ACTIONS))}")
    if reply.reply_id and (not _ID.fullmatch(reply.reply_id) or reply.reply_id == reply.ticket_id):
        raise BadMessage(f"reply_id {reply.reply_id[:40]!r} is not an id of its own (and must not be the ticket's)")
    if not reply.reply_id:
        reply.reply_id = reply_id_for(reply)
    if not reply.sent_at:
        reply.sent_at = now_rfc3339()
    return reply
