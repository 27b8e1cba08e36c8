"""The intake's limits: token buckets (refill, burst, eviction), the identity key, and what a held ticket gets."""

import json

import pytest
from aiokafka import ConsumerRecord
from intent_classifier.app import intake_limits
from intent_classifier.config import Settings
from intent_classifier.domain.limits import CHANNEL, CUSTOMER, Buckets, Limits, Rate, identity_key
from intent_classifier.handlers import HOLDING_REPLY, IntakeLimits, TicketDecoder
from supportmesh.v1.envelope_pb2 import Envelope
from supportmesh.v1.ticket_pb2 import Customer, Ticket
from supportmesh_core import topics
from supportmesh_core.kafka import StageRunner
from supportmesh_core.stage import Escalate, Respond

pytestmark = pytest.mark.unit

WIDE = Rate(1000, 1000)


def limits(customer: Rate | None = None, channel=WIDE, intake=WIDE, **kw) -> Limits:
    return Limits(customer or Rate(1, 3), channel, intake, **kw)


def test_a_bucket_allows_its_burst_then_one_per_refill():
    lim = limits(Rate(per_s=0.5, burst=3))
    assert [lim.decide("email:a", "email", 100.0).held for _ in range(4)] == ["", "", "", CUSTOMER]
    assert lim.decide("email:a", "email", 101.0).held == CUSTOMER     # half a token back: not enough
    assert lim.decide("email:a", "email", 102.0).held == ""           # a whole one
    assert lim.decide("email:a", "email", 102.0).held == CUSTOMER
    # Refill stops at the burst: a long quiet spell gives back 3, not 500.
    assert [lim.decide("email:a", "email", 1102.0).held for _ in range(4)] == ["", "", "", CUSTOMER]


def test_one_customers_flood_leaves_the_others_and_the_shared_buckets_untouched():
    lim = limits(Rate(1, 2), channel=Rate(1, 5), intake=Rate(1, 5))
    held = [lim.decide("email:flood", "email", 0.0).held for _ in range(100)]
    assert held.count("") == 2
    # The 98 refused took nothing from the channel or the intake: the others still get through at once.
    got = [lim.decide(f"email:o{i}", "email", 0.0) for i in range(3)]
    assert all(d.held == "" and d.wait_s == 0.0 for d in got)


def test_only_the_first_refusal_of_a_flood_is_marked_first_until_the_bucket_is_full_again():
    lim = limits(Rate(1, 2))
    got = [lim.decide("email:a", "web", 0.0) for _ in range(5)]
    assert [(d.held, d.first) for d in got] == [("", False), ("", False), (CUSTOMER, True), (CUSTOMER, False),
                                                (CUSTOMER, False)]
    assert lim.decide("email:a", "web", 1.0).held == ""               # one token back, the flood is not over
    assert lim.decide("email:a", "web", 1.0).first is False
    assert lim.decide("email:a", "web", 10.0).held == ""              # full again: a new flood is news again
    lim.decide("email:a", "web", 10.0)
    assert lim.decide("email:a", "web", 10.0).first is True


def test_the_channel_limit_holds_back_a_flood_of_many_identities():
    lim = limits(Rate(1, 5), channel=Rate(1, 3))
    got = [lim.decide(f"conversation:C-{i}", "web", 0.0).held for i in range(5)]
    assert got == ["", "", "", CHANNEL, CHANNEL]
    assert lim.decide("email:b", "email", 0.0).held == ""             # another channel is not held back


def test_the_intake_limit_makes_tickets_wait_in_turn_instead_of_refusing_them():
    lim = limits(Rate(100, 100), intake=Rate(per_s=10, burst=2))
    waits = [lim.decide(f"email:{i}", "email", 50.0).wait_s for i in range(5)]
    assert waits == pytest.approx([0.0, 0.0, 0.1, 0.2, 0.3])
    assert all(lim.decide("email:z", "email", 60.0).held == "" for _ in range(3))


def test_exempt_identities_skip_their_customer_limit_but_not_the_shared_ones():
    lim = limits(Rate(1, 1), channel=Rate(1, 3), exempt=frozenset({"Load.Test@Example.com", "Ann Lee|19122"}))
    assert [lim.decide("email:load.test@example.com", "email", 0.0).held for _ in range(4)] == ["", "", "",
                                                                                              CHANNEL]
    assert lim.decide("name:ann lee|19122", "chat", 0.0).held == ""
    assert lim.decide("name:ann lee|19122", "chat", 0.0).held == ""


def test_an_exempt_channel_skips_both_refusing_limits_but_still_waits_its_turn():
    lim = limits(Rate(1, 1), channel=Rate(1, 1), intake=Rate(per_s=10, burst=1), exempt=frozenset({"channel:bench"}))
    got = [lim.decide("email:same@example.com", "bench", 0.0) for _ in range(3)]
    assert [d.held for d in got] == ["", "", ""]
    assert [d.wait_s for d in got] == pytest.approx([0.0, 0.1, 0.2])
    assert lim.decide("email:same@example.com", "email", 0.0).held == ""   # its bucket was not touched
    assert lim.decide("email:same@example.com", "email", 0.0).held == CUSTOMER


def test_full_buckets_are_forgotten_and_the_cap_bounds_memory():
    buckets = Buckets(Rate(per_s=1, burst=2), max_keys=3)
    buckets.get("a", 0.0).tokens -= 1
    buckets.get("b", 0.0).tokens -= 2
    assert len(buckets) == 2
    buckets.get("c", 1.5)   # a is full again at 1.0 and equals a new bucket: gone; b (full at 2.0) stays
    assert len(buckets) == 2 and buckets.get("b", 1.5).tokens == pytest.approx(1.5)
    for key in "defgh":
        buckets.get(key, 1.5).tokens -= 1
    assert len(buckets) == 3   # past the cap the least recently used goes, full or not


def test_the_identity_key_is_the_email_else_name_and_zip_else_the_conversation():
    assert identity_key(" Yusuf.Rossi@Example.COM ", "Yusuf", "19122", "C-1") == "email:yusuf.rossi@example.com"
    assert identity_key("", "  Yusuf   ROSSI ", "19122", "C-1") == "name:yusuf rossi|19122"
    assert identity_key("", "Yusuf Rossi", "", "C-1") == "conversation:C-1"   # a name alone names no one
    assert identity_key("", "", "", "C-7") == "conversation:C-7"


def test_a_bad_rate_is_refused():
    with pytest.raises(ValueError):
        Rate(0, 5)
    with pytest.raises(ValueError):
        Rate(1, 0.5)


def _ticket(tid: str, email: str = "flood@example.com") -> Envelope:
    return Envelope(ticket=Ticket(ticket_id=tid, conversation_id=f"C-{tid}", channel="email", subject="Hello",
                                  body="Where is my order?", customer=Customer(name="Flo Flood", email=email)))


def test_a_flood_escalates_once_and_the_rest_get_the_holding_reply():
    clock = [0.0]
    admission = IntakeLimits(limits(Rate(1 / 60, 2)), lane_size=10, lane_concurrency=2, clock=lambda: clock[0])
    verdicts = [admission.admit(_ticket(f"T-{i}")) for i in range(5)]
    assert [v.held for v in verdicts] == ["", "", CUSTOMER, CUSTOMER, CUSTOMER]
    first = admission.held_back(_ticket("T-2"), verdicts[2], None)
    later = admission.held_back(_ticket("T-3"), verdicts[3], None)
    assert isinstance(first, Escalate) and first.escalation.reason == "rate_limited"
    assert "Flo Flood <flood@example.com>" in first.escalation.summary
    assert "more than 2 tickets" in first.escalation.summary
    assert isinstance(later, Respond) and later.response.reply.text == HOLDING_REPLY
    assert list(later.envelope.degradations) == ["intent-classifier: held back (customer limit)"]
    assert admission.admit(_ticket("T-9", "someone.else@example.com")).held == ""


def _inbound(ticket: dict, offset: int) -> ConsumerRecord:
    value = json.dumps(ticket).encode()
    return ConsumerRecord(topic=topics.INBOUND, partition=0, offset=offset, timestamp=0, timestamp_type=0,
                          key=ticket["conversation_id"].encode(), value=value, checksum=None,
                          serialized_key_size=1, serialized_value_size=len(value),
                          headers=[("content-type", b"application/json")])


async def test_the_classifier_stage_answers_a_held_ticket_without_classifying_it():
    async def handler(env, hop):
        raise AssertionError("a held-back ticket must not be classified")

    settings = Settings(INTAKE_CUSTOMER_BURST=1, INTAKE_CUSTOMER_RATE_PER_MIN=1)
    runner = StageRunner(settings, handler, input_topic=topics.INBOUND, decoder=TicketDecoder(5000),
                         admission=intake_limits(settings))
    ticket = {"ticket_id": "T-1", "conversation_id": "C-1", "body": "hello", "customer": {"email": "a@b.c"}}
    runner.triage(_inbound(ticket, 0))   # the burst of one
    ticket2 = {**ticket, "ticket_id": "T-2"}
    env, verdict = runner.triage(_inbound(ticket2, 1))
    out = await runner.handle_record(_inbound(ticket2, 1), env, verdict)
    assert [o.topic for o in out] == [topics.ESCALATIONS, topics.HOPS]
    assert json.loads(out[0].value)["reason"] == "rate_limited"


def test_the_settings_switch_the_limits_off_and_refuse_bad_values():
    assert intake_limits(Settings(INTAKE_LIMITS_ENABLED=False)) is None
    assert intake_limits(Settings()).limits.customers.rate == Rate(12 / 60, 5)
    with pytest.raises(ValueError):
        Settings(INTAKE_CUSTOMER_BURST=0)
    with pytest.raises(ValueError):
        Settings(INTAKE_RATE_PER_S=-1)
