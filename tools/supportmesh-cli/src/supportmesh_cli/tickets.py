"""Builds the inbound ticket a person describes on the command line, validated as the mesh will read it."""

import uuid

from supportmesh.v1.ticket_pb2 import Customer, Ticket
from supportmesh_core.codec import JSON_TYPE, BadMessage, decode_ticket, now_rfc3339, to_json_bytes


def new_ticket_id() -> str:
    return "T-" + uuid.uuid4().hex[:12]


def build_ticket(body: str, *, subject: str = "", email: str = "", name: str = "", zip_code: str = "",
                 ticket_id: str = "", conversation_id: str = "", channel: str = "cli", locale: str = "",
                 metadata: dict[str, str] | None = None) -> Ticket:
    """The ticket with its ids and time filled in; raises BadMessage for what the mesh would dead-letter."""
    ticket_id = ticket_id or new_ticket_id()
    ticket = Ticket(
        ticket_id=ticket_id, conversation_id=conversation_id or ticket_id, channel=channel,
        customer=Customer(email=email, name=name, zip=zip_code), subject=subject, body=body,
        locale=locale, received_at=now_rfc3339(), metadata={"source": "supportmesh-cli", **(metadata or {})},
    )
    # The same decoder the intent-classifier uses: a ticket it would refuse is refused here, with its reason.
    decode_ticket(to_json_bytes(ticket), JSON_TYPE)
    return ticket


def parse_metadata(pairs: list[str]) -> dict[str, str]:
    """`key=value` pairs from repeated --meta options."""
    metadata = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise BadMessage(f"--meta wants key=value, got {pair!r}")
        metadata[key.strip()] = value
    return metadata
