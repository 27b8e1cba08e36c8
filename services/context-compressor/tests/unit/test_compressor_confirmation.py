"""A short yes or no later in a conversation is read as an answer to a proposal and routed past the analyst."""

import pytest
from context_compressor.adapters.store import SqliteConversationStore
from context_compressor.adapters.tokenizer import BpeTokenizer
from context_compressor.domain.confirmation import NO, YES, read_reply
from context_compressor.handlers import CompressorHandler
from supportmesh.v1.envelope_pb2 import Envelope
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh.v1.ticket_pb2 import Ticket

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("text", ["Yes, please go ahead.", "yes", "Confirm", "OK, do it!", "Sí, adelante",
                                  "Ja, bitte.", "Oui, allez-y", "Je confirme.", "Go ahead please"])
def test_affirmations_in_four_languages(text):
    assert read_reply(text) == YES


@pytest.mark.parametrize("text", ["No.", "No, don't do it", "Nein, bitte nicht", "Non merci", "never mind"])
def test_refusals(text):
    assert read_reply(text) == NO


@pytest.mark.parametrize("text", ["Yes, but do not cancel the lamp", "Where is my order #W2378156?", "",
                                  "Yes I want to return the lamp and the kettle and also change the address "
                                  "of my other order to my new home"])
def test_hedged_or_long_turns_are_no_answer(text):
    assert read_reply(text) == ""


def _env(ticket_id: str, body: str, slip: list[str]) -> Envelope:
    env = Envelope(ticket=Ticket(ticket_id=ticket_id, conversation_id="C-9", body=body),
                   received_unix_ms=1_700_000_000_000)
    env.routing_slip.extend(slip)
    return env


async def test_a_yes_later_in_the_conversation_goes_through_the_analyst(tmp_path):
    store = SqliteConversationStore(tmp_path / "c.db")
    handler = CompressorHandler(store, BpeTokenizer(), budget=512)
    first = await handler(_env("T-1", "Yes", ["retriever", "response-generator"]), HopRecord())
    # The opening turn answers nothing: no reading, the slip is untouched.
    assert "confirmation" not in first.envelope.context.facts
    assert list(first.envelope.routing_slip) == ["retriever", "response-generator"]
    hop = HopRecord()
    later = await handler(_env("T-2", "Yes, please go ahead.", ["retriever", "response-generator"]), hop)
    assert later.envelope.context.facts["confirmation"] == "yes"
    assert list(later.envelope.routing_slip) == ["retriever", "technical-analyst", "response-generator"]
    assert hop.labels["compressor.routed_to"] == "technical-analyst"
    # Already on the slip: not added twice.
    slip = ["retriever", "technical-analyst", "response-generator"]
    again = await handler(_env("T-3", "no", slip), HopRecord())
    assert again.envelope.context.facts["confirmation"] == "no"
    assert list(again.envelope.routing_slip) == slip
    store.close()
