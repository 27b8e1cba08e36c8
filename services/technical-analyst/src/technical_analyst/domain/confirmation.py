"""A proposal waiting for the customer's yes or no, and what their answer does to it.

The store policy asks for the customer's explicit confirmation before a write. A proposal holds the exact
writes (domain/planned_writes.py) and the verified customer they are for; the next turn of the conversation that the
context-compressor reads as "yes" executes exactly those writes, "no" drops them. A proposal expires; a newer
proposal in the same conversation replaces it. Answering is idempotent per answering ticket: the same "yes"
delivered again executes again with the same idempotency keys (commerce replays, nothing is done twice),
while a second, different "yes" finds the proposal already answered.
"""

import dataclasses
import json
from dataclasses import dataclass

from .planned_writes import PlannedWrite

PENDING, CONFIRMED, DECLINED = "pending", "confirmed", "declined"
YES, NO = "yes", "no"
# What an answer does.
EXECUTE, DECLINE, EXPIRED, ALREADY_ANSWERED, NOTHING = "execute", "decline", "expired", "already_answered", "nothing"


@dataclass(frozen=True)
class PendingProposal:
    conversation_id: str
    ticket_id: str            # the proposing ticket; writes carry it, so every delivery is the same request
    customer_id: str          # verified when proposing; the answer itself carries no identity
    customer_name: str
    writes: tuple[PlannedWrite, ...]
    created_ms: int
    expires_ms: int
    state: str = PENDING
    answered_by: str = ""     # the ticket whose yes or no answered it

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "PendingProposal":
        data = json.loads(text)
        writes = tuple(PlannedWrite(**{**w, "item_ids": tuple(w["item_ids"]), "new_item_ids": tuple(w["new_item_ids"]),
                                       "address": tuple(w.get("address", ()))}) for w in data.pop("writes"))
        return cls(writes=writes, **data)


def answer(proposal: PendingProposal | None, reply: str, ticket_id: str, now_ms: int) -> str:
    """What the customer's `reply` (yes / no) in ticket `ticket_id` does to the conversation's proposal."""
    if proposal is None or reply not in (YES, NO):
        return NOTHING
    if proposal.state != PENDING:
        if proposal.answered_by == ticket_id:
            return EXECUTE if proposal.state == CONFIRMED else DECLINE
        return ALREADY_ANSWERED
    if now_ms > proposal.expires_ms:
        return EXPIRED
    return EXECUTE if reply == YES else DECLINE
