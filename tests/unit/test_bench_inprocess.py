"""The in-process ceiling: a ticket carried along its routing slip by the stages' own code, and its figures."""

import asyncio
import pathlib
import sys

import pytest
from intent_classifier.handlers import TicketDecoder
from supportmesh.v1.outcomes_pb2 import Escalation, Response
from supportmesh_core import topics
from supportmesh_core.settings import ServiceSettings
from supportmesh_core.stage import Escalate, Forward, Respond, Stage, decode_envelope

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "scripts"))

from bench import ceiling_ratio, in_process_summary  # noqa: E402
from bench_inprocess import Outcome, drive, run_pool  # noqa: E402

pytestmark = pytest.mark.unit

TICKET = {"ticket_id": "T-1", "conversation_id": "C-1", "channel": "bench", "subject": "order status",
          "body": "Where is my order #W1234567?", "customer": {"email": "a@b.c", "name": "A B", "zip": "12345"}}


def stages(slip: list[str], *, escalate_at: str = "", respond_at: str = "response-generator"):
    """A Stage per mesh stage, each over a fake handler that records the order it ran in."""
    ran: list[str] = []

    def handler(name: str):
        async def handle(env, hop):
            ran.append(name)
            if name == topics.STAGES[0]:
                del env.routing_slip[:]
                env.routing_slip.extend(slip)
            if name == escalate_at:
                return Escalate(env, Escalation(reason="needs_human", summary="s"))
            if name == respond_at:
                return Respond(env, Response(engine="fake"))
            return Forward(env)
        return handle

    built = {}
    for name in topics.STAGES:
        settings = ServiceSettings(OTEL_SERVICE_NAME=name, CHAOS_ENABLED=False, STAGE_HANDLER_ATTEMPTS=1)
        decoder = TicketDecoder(settings.ticket_budget_ms) if name == topics.STAGES[0] else decode_envelope
        built[name] = Stage(settings, handler(name), decoder=decoder)
    return built, ran


def test_a_ticket_visits_the_stages_of_its_slip_in_order_and_ends_with_the_response():
    built, ran = stages(["context-compressor", "retriever", "response-generator"])
    outcome = asyncio.run(drive(built, TICKET))
    assert ran == ["intent-classifier", "context-compressor", "retriever", "response-generator"]
    assert (outcome.kind, outcome.stage, outcome.reason) == ("responses", "response-generator", "")
    assert outcome.hops == 4   # one hop record per stage, counted and dropped


def test_an_escalation_ends_the_ticket_where_it_is_raised():
    built, ran = stages(["context-compressor", "retriever", "technical-analyst", "response-generator"],
                        escalate_at="retriever")
    outcome = asyncio.run(drive(built, TICKET))
    assert ran == ["intent-classifier", "context-compressor", "retriever"]
    assert (outcome.kind, outcome.stage, outcome.reason) == ("escalations", "retriever", "needs_human")


def test_a_forward_with_an_empty_slip_escalates_a_routing_error_as_the_mesh_does():
    built, ran = stages([])
    outcome = asyncio.run(drive(built, TICKET))
    assert ran == ["intent-classifier"]
    assert (outcome.kind, outcome.stage, outcome.reason) == ("escalations", "intent-classifier", "routing_error")


def test_an_unreadable_ticket_is_lost_to_the_dead_letter_queue():
    built, ran = stages(["response-generator"])
    outcome = asyncio.run(drive(built, {"conversation_id": "C-2", "body": 42}))
    assert ran == []
    assert (outcome.kind, outcome.reason) == ("lost", "dead_letter")


def test_the_pool_runs_every_ticket_once():
    built, ran = stages(["response-generator"])
    tickets = [{**TICKET, "ticket_id": f"T-{i}", "conversation_id": f"C-{i}"} for i in range(7)]
    latencies, outcomes, elapsed = asyncio.run(run_pool(built, tickets, concurrency=3))
    assert len(latencies) == 7 and elapsed > 0
    assert [o.kind for o in outcomes] == ["responses"] * 7
    assert ran.count("response-generator") == 7


def test_the_summary_counts_outcomes_by_reason_and_divides_by_the_elapsed_time():
    outcomes = [Outcome("responses", hops=4)] * 6 + [Outcome("escalations", "low_confidence", hops=1)] * 3 + [
        Outcome("escalations", "refund_above_limit", hops=5), Outcome("lost", "dead_letter", hops=1)]
    row = in_process_summary("in-process", [float(v) for v in range(1, 12)], outcomes, 2.0, 200)
    assert (row["tickets"], row["outcomes"], row["responses"], row["escalations"]) == (11, 10, 6, 4)
    assert row["lost_or_late"] == 1 and row["lost_reasons"] == {"dead_letter": 1}
    assert row["escalation_reasons"] == {"low_confidence": 3, "refund_above_limit": 1}
    assert row["throughput_per_s"] == 5.0   # lost tickets are not throughput
    assert (row["p50_ms"], row["p95_ms"], row["max_ms"]) == (6.0, 11.0, 11.0)
    assert row["hop_records_per_ticket"] == 3.0   # (6 * 4 + 3 + 5 + 1) / 11


def test_the_ratio_is_the_mesh_over_the_ceiling_for_throughput_and_cpu():
    r = ceiling_ratio({"throughput_per_s": 144.0}, {"throughput_per_s": 400.0},
                      {"kafka": 10.0, "retriever": 6.0}, {"in-process": 4.0, "elasticsearch": 4.0})
    assert (r["throughput_ratio"], r["cpu_ratio"]) == (0.36, 2.0)
    assert (r["mesh_cpu_ms_per_ticket"], r["in_process_cpu_ms_per_ticket"]) == (16.0, 8.0)
    assert ceiling_ratio({"throughput_per_s": 1.0}, {"throughput_per_s": 0.0}, {}, {})["throughput_ratio"] is None
