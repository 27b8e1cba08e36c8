"""A human agent's reply re-enters its conversation: checked against the conversations kept here, recorded as the
agent's turn, then passed to the technical-analyst, which makes what it approved and answers the customer.

The agent-replies topic is this service's second input (its own consumer group, `<service>.agent-replies`): the
conversation's state lives here, so this is where a reply for a ticket or conversation nobody knows is refused.
"""

import asyncio
import time
from typing import Protocol

from aiokafka import ConsumerRecord
from supportmesh.v1.envelope_pb2 import Envelope
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh.v1.ticket_pb2 import Ticket
from supportmesh_core.codec import BadMessage
from supportmesh_core.handback import decode_agent_reply
from supportmesh_core.stage import Forward

from .domain.model import Turn
from .handlers import ticket_turn

ANALYST = "technical-analyst"
AGENT_INTENT = "agent_reply"   # the classification an agent's reply carries on its way (hops, the answer)


class KnownTurns(Protocol):
    def ticket_turn(self, ticket_id: str) -> tuple[str, str] | None: ...
    def append_turn(self, conversation_id: str, turn: Turn) -> bool: ...


def _header(rec: ConsumerRecord, name: str) -> str | None:
    return next((v.decode(errors="replace") for k, v in rec.headers or () if k.lower() == name), None)


class AgentReplyDecoder:
    """Turns a tickets.agent-replies record into the envelope the stages pass on, or says why it cannot be.

    Refused with the reason (the runner dead-letters it with its source topic and offset): anything
    `decode_agent_reply` refuses, a ticket no conversation here has, a ticket of another conversation, and a
    "ticket" that is itself an agent's reply.
    """

    def __init__(self, turns: KnownTurns, budget_ms: int, clock=time.time) -> None:
        self._turns = turns
        self._budget_ms = budget_ms
        self._clock = clock

    def __call__(self, rec: ConsumerRecord) -> Envelope:
        reply = decode_agent_reply(rec.value, _header(rec, "content-type"), rec.key)
        known = self._turns.ticket_turn(reply.ticket_id)
        if known is None:
            raise BadMessage(f"unknown ticket {reply.ticket_id}: no conversation has a turn of it (the reply was "
                             "not recorded or sent)")
        conversation, role = known
        if conversation != reply.conversation_id:
            raise BadMessage(f"ticket {reply.ticket_id} belongs to another conversation than "
                             f"{reply.conversation_id} (the reply was not recorded or sent)")
        if role != "customer":
            raise BadMessage(f"{reply.ticket_id} is not a customer's ticket (it is a turn of the {role})")
        now_ms = int(self._clock() * 1000)
        env = Envelope(
            ticket=Ticket(ticket_id=reply.reply_id, conversation_id=reply.conversation_id, channel="agent-desk",
                          body=reply.text, received_at=reply.sent_at,
                          metadata={"author_role": "agent", "agent_id": reply.agent_id,
                                    "in_reply_to": reply.ticket_id}),
            # A fresh budget: a reply read again after a restart is still recorded and sent, never skipped as late.
            routing_slip=[ANALYST], received_unix_ms=now_ms, deadline_unix_ms=now_ms + self._budget_ms)
        env.agent_reply.CopyFrom(reply)
        env.classification.intent = AGENT_INTENT
        return env


class HandbackHandler:
    """Records the agent's reply as the agent's turn of its conversation (once: a redelivery finds it stored)."""

    def __init__(self, turns: KnownTurns, products: tuple[str, ...] = ()) -> None:
        self._turns = turns
        self._products = products

    async def __call__(self, env: Envelope, hop: HopRecord) -> Forward:
        reply = env.agent_reply
        turn = ticket_turn(env, self._products)
        added = await asyncio.to_thread(self._turns.append_turn, reply.conversation_id, turn)
        hop.intent, hop.engine = AGENT_INTENT, "local"
        hop.labels.update({"handback.in_reply_to": reply.ticket_id, "handback.agent": reply.agent_id,
                           "handback.approved": ",".join(f"{a.case_id}:{a.action}" for a in reply.approved_actions),
                           "compressor.redelivered": str(not added).lower()})
        return Forward(env)
