"""Fault flags (parsing, flagd documents, draws) and the stage runner's fault and degradation paths, without Kafka."""

import json
import random
import time

import pytest
from aiokafka import ConsumerRecord
from supportmesh.v1.envelope_pb2 import Envelope
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh.v1.ticket_pb2 import Ticket
from supportmesh_core import chaos, topics
from supportmesh_core.kafka import StageRunner
from supportmesh_core.settings import ServiceSettings
from supportmesh_core.stage import Forward

pytestmark = pytest.mark.unit


def test_a_cli_spec_becomes_faults_with_an_expiry():
    faults = chaos.parse_spec(["latency=2s", "jitter=150ms", "pct=40", "error=5", "for=60s"], now_ms=1_000)
    assert (faults.latency_ms, faults.jitter_ms, faults.pct, faults.error_pct) == (2000, 150, 40.0, 5.0)
    assert faults.expires_unix_ms == 61_000
    assert faults.expired(now_ms=61_000) and not faults.expired(now_ms=60_999)
    assert chaos.parse_spec(["hang", "lag=1.5s"]).hang and chaos.parse_spec(["lag=1.5s"]).lag_ms == 1500
    assert chaos.parse_spec(["unavailable=100"]).unavailable_pct == 100


@pytest.mark.parametrize("spec, message", [
    (["latancy=2s"], "unknown fault"), (["latency=two"], "not a duration"), (["pct=140", "latency=1s"], "between"),
    (["latency"], "key=value"), (["pct=50"], "no fault given"), (["error=-1"], "between"),
])
def test_bad_specs_are_refused_with_the_reason(spec, message):
    with pytest.raises(chaos.BadFlags, match=message):
        chaos.parse_spec(spec)


def test_the_flagd_document_round_trips_and_honours_disabled_flags():
    faults = chaos.Faults(latency_ms=2000, pct=50, hang=True, unavailable_pct=100, expires_unix_ms=42)
    doc = faults.to_document("commerce")
    assert doc["flags"]["latencyMs"] == {"state": "ENABLED", "variants": {"on": 2000, "off": 0},
                                         "defaultVariant": "on"}
    assert doc["flags"]["errorPct"]["state"] == "DISABLED"
    assert chaos.Faults.from_document(json.loads(json.dumps(doc))) == faults
    doc["flags"]["latencyMs"]["state"] = "DISABLED"
    assert chaos.Faults.from_document(doc).latency_ms == 0
    with pytest.raises(chaos.BadFlags, match="unknown flag"):
        chaos.Faults.from_document({"flags": {"slowness": {"variants": {"on": 1}}}})
    with pytest.raises(chaos.BadFlags, match="must be a number"):
        chaos.Faults.from_document({"flags": {"latencyMs": {"variants": {"on": "2s"}}}})


def test_draws_follow_the_share_and_jitter_and_expire():
    flags = chaos.FaultFlags("retriever", None, rng=random.Random(7))
    assert flags.draw() is None
    flags.set(chaos.Faults(latency_ms=1000, jitter_ms=100, pct=30))
    draws = [flags.draw() for _ in range(2000)]
    hits = [d for d in draws if d is not None]
    assert 0.25 < len(hits) / len(draws) < 0.35
    assert all(900 <= d.delay_ms <= 1100 for d in hits)
    flags.set(chaos.Faults(latency_ms=1000, expires_unix_ms=int(time.time() * 1000) - 1))
    assert flags.draw() is None and flags.current() is None


def test_a_bad_document_on_the_topic_clears_instead_of_crashing():
    assert chaos._decode(b"{not json", "retriever") is None
    assert chaos._decode(None, "retriever") is None
    assert chaos._decode(chaos.encode("x", chaos.Faults(lag_ms=5)), "x") == chaos.Faults(lag_ms=5)


def settings(name="retriever", **env):
    return ServiceSettings(OTEL_SERVICE_NAME=name, STAGE_HANDLER_ATTEMPTS=2, **env)


def record(env: Envelope, value: bytes | None = None) -> ConsumerRecord:
    value = env.SerializeToString() if value is None else value
    return ConsumerRecord(topic="stage.x", partition=0, offset=0, timestamp=0, timestamp_type=0, key=b"C-1",
                          value=value, checksum=None, serialized_key_size=3, serialized_value_size=len(value),
                          headers=[])


def envelope(budget_left_ms: int = 5000) -> Envelope:
    now = int(time.time() * 1000)
    env = Envelope(ticket=Ticket(ticket_id="T-1", conversation_id="C-1", body="hi"), received_unix_ms=now,
                   deadline_unix_ms=now + budget_left_ms)
    env.routing_slip.extend(["technical-analyst", "response-generator"])
    return env


def outputs(out):
    hop = next(HopRecord.FromString(o.value) for o in reversed(out) if o.topic == topics.HOPS)
    return [o.topic for o in out if o.topic not in (topics.HOPS, topics.FORWARDED)], hop, out


async def ok(env, hop):
    return Forward(env)


async def test_injected_latency_is_slept_and_shows_on_the_hop():
    runner = StageRunner(settings(), ok, input_topic="stage.retriever")
    runner.faults.set(chaos.Faults(latency_ms=150))
    started = time.monotonic()
    dests, hop, _ = outputs(await runner.handle_record(record(envelope())))
    assert time.monotonic() - started >= 0.15
    assert dests == ["stage.technical-analyst"]
    assert hop.fault["latency_ms"] == "150" and hop.fault["spec"] == "latency=150ms"


async def test_injected_errors_fail_every_attempt_and_escalate_stage_failed():
    calls = []

    async def handler(env, hop):
        calls.append(1)
        return Forward(env)

    runner = StageRunner(settings(), handler, input_topic="stage.retriever")
    runner.faults.set(chaos.Faults(error_pct=100))
    dests, hop, out = outputs(await runner.handle_record(record(envelope())))
    assert dests == [topics.ESCALATIONS] and not calls
    assert json.loads(out[0].value)["reason"] == "stage_failed"
    assert hop.fault["error"] == "injected" and "InjectedError" in hop.error_message


async def test_a_hang_is_cut_by_the_attempt_deadline():
    runner = StageRunner(settings(STAGE_TIMEOUT_FLOOR_MS=100), ok, input_topic="stage.retriever")
    runner.faults.set(chaos.Faults(hang=True))
    started = time.monotonic()
    dests, hop, _ = outputs(await runner.handle_record(record(envelope(budget_left_ms=50))))
    assert dests == [topics.ESCALATIONS] and time.monotonic() - started < 2
    assert hop.fault["hang"] == "true" and "TimeoutError" in hop.error_message


async def test_an_optional_stage_is_skipped_when_little_budget_is_left():
    async def handler(env, hop):
        raise AssertionError("an optional stage with no budget left must not run")

    runner = StageRunner(settings("context-compressor"), handler, input_topic="stage.context-compressor")
    dests, hop, out = outputs(await runner.handle_record(record(envelope(budget_left_ms=200))))
    assert dests == ["stage.technical-analyst"]
    assert hop.labels["degraded"] == "low_budget"
    assert list(Envelope.FromString(out[0].value).degradations) == ["context-compressor: skipped (low_budget)"]


async def test_a_required_stage_runs_even_when_late():
    runner = StageRunner(settings("retriever"), ok, input_topic="stage.retriever")
    dests, hop, _ = outputs(await runner.handle_record(record(envelope(budget_left_ms=-3000))))
    assert dests == ["stage.technical-analyst"] and "degraded" not in hop.labels


async def test_after_n_failed_tickets_the_stage_escalates_degraded_without_trying():
    calls = []

    async def broken(env, hop):
        calls.append(1)
        raise RuntimeError("down")

    runner = StageRunner(settings(STAGE_FAILURE_THRESHOLD=2, STAGE_BREAKER_COOLDOWN_S=60), broken,
                         input_topic="stage.retriever")
    reasons = []
    for _ in range(4):
        _, _, out = outputs(await runner.handle_record(record(envelope())))
        reasons.append(json.loads(out[0].value)["reason"])
        runner.ledger.discard("T-1")   # the same ticket id is reused; the ledger would suppress repeats
    assert reasons == ["stage_failed", "stage_failed", "degraded", "degraded"]
    assert len(calls) == 4   # two tickets × two attempts, then none


async def test_a_near_megabyte_message_is_dead_lettered_with_its_original_truncated():
    from supportmesh_core.stage import DLQ_MAX_ORIGINAL_BYTES

    runner = StageRunner(settings(), ok, input_topic="stage.retriever")
    huge = b"\xff" + b"A" * 900_000
    out = await runner.handle_record(record(envelope(), huge))
    dlq = json.loads(next(o.value for o in out if o.topic == topics.DLQ))
    assert "truncated" in dlq["error"] and dlq["source"]["offset"] == 0
    assert len(dlq["original_base64"]) <= DLQ_MAX_ORIGINAL_BYTES * 4 // 3 + 4
