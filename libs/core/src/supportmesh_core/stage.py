"""A stage's work on one message, apart from Kafka: decode, dedupe, run the handler with retries and
degradation, and route the result along the routing slip to the next stage, an outcome or the DLQ.

`StageRunner` (supportmesh_core.kafka) feeds it records and publishes what it returns.
"""

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Protocol

import structlog
from aiokafka import ConsumerRecord
from google.protobuf.message import DecodeError
from opentelemetry import trace
from supportmesh.v1.envelope_pb2 import Envelope
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh.v1.outcomes_pb2 import DlqRecord, DlqSource, Escalation, Response

from . import handoff, metrics, topics
from .breaker import CircuitBreaker
from .chaos import Draw, FaultFlags, InjectedError, mark_fault
from .codec import BadMessage, b64, encode_output, now_rfc3339
from .hops import finish_hop, start_hop
from .ledger import TicketLedger
from .settings import ServiceSettings
from .telemetry import extract_headers, inject_headers, parent_span_id

log = structlog.get_logger()

# The most of a dead-lettered message kept in its DLQ record (base64 grows it by a third).
DLQ_MAX_ORIGINAL_BYTES = 256 * 1024
# What the customer is told when the stage itself, not its work, hands the ticket over.
PASSED_ON = "We have passed your request to a member of our support team, who will reply shortly."

_call_hops: ContextVar[list[HopRecord] | None] = ContextVar("supportmesh_call_hops", default=None)


class StageHopSink:
    """A hop sink for the calls a stage makes while handling a message (gRPC, models).

    Their hop records join the message's own output, so they are published with the batch and
    committed with it, in the handled message's trace, without a second producer.
    """

    async def emit(self, hop: HopRecord) -> None:
        bucket = _call_hops.get()
        if bucket is not None:
            bucket.append(hop)
        else:
            log.debug("hop emitted outside a handled message; dropped", action=hop.action)



@dataclass
class Forward:
    """Pass the envelope to the next stage on its routing slip."""

    envelope: Envelope


@dataclass
class Respond:
    """Answer the customer: the ticket is done."""

    envelope: Envelope
    response: Response


@dataclass
class Escalate:
    """Hand the ticket to a human: the ticket is done."""

    envelope: Envelope
    escalation: Escalation


Result = Forward | Respond | Escalate
Handler = Callable[[Envelope, HopRecord], Awaitable[Result]]
Decoder = Callable[[ConsumerRecord], Envelope]


@dataclass(frozen=True)
class Verdict:
    """An admission's word on one message: `held` names the limit that holds it back ('' = handle it), `first`
    says it is the first that limit held back since it was last clear, `wait_s` how long it waits before it is
    handled."""

    held: str = ""
    first: bool = False
    wait_s: float = 0.0


class Admission(Protocol):
    """Limits at a stage's intake, asked as each message is read, before it takes a handling slot.

    A held-back message never reaches the handler: `held_back` gives its (cheap) outcome, and the runner handles
    such messages in a lane of their own (at most `lane_size` waiting, `lane_concurrency` at once, `lane_rate_per_s`
    a second), so a flood of them does not hold up the messages read with or after them, nor take the CPU their
    later stages need.
    """

    lane_size: int
    lane_concurrency: int
    lane_rate_per_s: float

    def admit(self, env: Envelope) -> Verdict: ...

    def held_back(self, env: Envelope, verdict: Verdict, hop: HopRecord) -> Result: ...


@dataclass
class Outgoing:
    topic: str
    value: bytes
    key: bytes | None
    headers: list[tuple[str, bytes]] = field(default_factory=list)
    ticket_id: str = ""   # set on forwards and outcomes, so a failed send can release the ledger entry
    # A forward marker: sent only once everything else of the message is acknowledged, because a marker must
    # never exist without its forward (the ticket would be dropped as passed on, and lost).
    after_the_rest: bool = False


def decode_envelope(record: ConsumerRecord) -> Envelope:
    env = Envelope()
    try:
        env.ParseFromString(record.value or b"")
    except (DecodeError, RecursionError) as exc:
        raise BadMessage(f"not an Envelope: {exc}") from None
    if not env.ticket.ticket_id:
        raise BadMessage("envelope has no ticket")
    return env


def remaining_seconds(env: Envelope, floor: float = 0.05) -> float:
    """What is left of the ticket's latency budget, never less than `floor`: the timeout for calls."""
    return max(floor, (env.deadline_unix_ms - time.time() * 1000) / 1000)


class Stage:
    """One stage's handling of a message: everything it produces, ready to publish, and never an exception."""

    def __init__(self, settings: ServiceSettings, handler: Handler, *, decoder: Decoder = decode_envelope,
                 admission: Admission | None = None) -> None:
        self.settings = settings
        self.service = settings.service_name
        self.handler = handler
        self.decoder = decoder
        self.admission = admission
        self.ledger = TicketLedger(settings.dedupe_window_hours, self.service)
        self._tracer = trace.get_tracer(self.service)
        # Chaos flags are checked here, at the handler edge, and nowhere in the stage's own code.
        self.faults = FaultFlags(self.service, settings.kafka_bootstrap_servers if settings.chaos_enabled else None,
                                 security=settings)
        self.stage_breaker = CircuitBreaker(settings.stage_failure_threshold, settings.stage_breaker_cooldown_s)

    def triage(self, rec: ConsumerRecord) -> tuple[Envelope | None, Verdict | None]:
        """The decoded message and the admission's verdict on it, as it is read (None: not decodable, no admission,
        or a ticket already handled, whose repeat must not use up anyone's limit). Never raises."""
        if self.admission is None:
            return None, None
        try:
            env = self.decoder(rec)
        except BadMessage:
            return None, None   # handle_record decodes it again and dead-letters it
        if env.ticket.ticket_id in self.ledger:
            return env, None
        verdict = self.admission.admit(env)
        if verdict.held:
            metrics.HELD_BACK.labels(self.service, verdict.held).inc()
        return env, verdict

    async def handle_record(self, rec: ConsumerRecord, env: Envelope | None = None,
                            verdict: Verdict | None = None) -> list[Outgoing]:
        """Everything one input message produces, hop record last. Never raises.

        `env` and `verdict` are what `triage` made of the record when the runner asked it first.
        """
        ctx = extract_headers(rec.headers)
        with self._tracer.start_as_current_span(f"{self.service} process", context=ctx,
                                                kind=trace.SpanKind.CONSUMER) as span:
            hop = start_hop(self.service, self.service, span, parent_span_id(ctx), "consumer")
            hop.kafka_topic, hop.kafka_partition, hop.kafka_offset = rec.topic, rec.partition, rec.offset
            try:
                env = env if env is not None else self.decoder(rec)
            except BadMessage as exc:
                span.set_attribute("supportmesh.dlq", True)
                hop.destination = topics.DLQ
                hop.action = "dead_letter"
                return [self._dead_letter(rec, str(exc), hop.trace_id), self._hop_out(finish_hop(hop, str(exc)))]
            hop.ticket_id, hop.conversation_id = env.ticket.ticket_id, env.ticket.conversation_id
            if env.ticket.ticket_id in self.ledger:
                # A redelivery (after a crash or a rebalance upstream) of a ticket handled here or answered
                # further on: a second pass could take another path (a late copy has lost its budget) and
                # answer the ticket a second time from a stage that does not know of the first answer.
                hop.labels["duplicate_suppressed"] = "true"
                log.info("duplicate ticket dropped", ticket=env.ticket.ticket_id)
                return [self._hop_out(finish_hop(hop, ""))]
            if not env.trace_id:
                env.trace_id = hop.trace_id
            structlog.contextvars.bind_contextvars(ticket_id=env.ticket.ticket_id)
            if verdict is not None and verdict.held and self.admission is not None:
                # Held back at the intake: its outcome without the handler (and without faults, which belong to
                # the handler's edge), as cheap as the stage can make it.
                span.set_attribute("supportmesh.held_back", verdict.held)
                hop.labels["held_back"] = verdict.held
                try:
                    out = self._route(self.admission.held_back(env, verdict, hop), hop)
                finally:
                    structlog.contextvars.unbind_contextvars("ticket_id")
                out.append(self._hop_out(finish_hop(hop, "")))
                metrics.observe_hop(hop)
                return out
            drawn = self.faults.draw()
            if drawn is not None:
                mark_fault(span, hop, drawn.attributes(self.faults.current()))
            call_hops: list[HopRecord] = []
            token = _call_hops.set(call_hops)
            try:
                result, error = await self._run_handler(env, hop, drawn)
                if result.envelope.degradations:
                    hop.labels["degradations"] = "; ".join(result.envelope.degradations)
                out = self._route(result, hop)
            finally:
                _call_hops.reset(token)
                structlog.contextvars.unbind_contextvars("ticket_id")
            for call in call_hops:
                call.ticket_id, call.conversation_id = hop.ticket_id, hop.conversation_id
                out.append(self._hop_out(call))
            out.append(self._hop_out(finish_hop(hop, error)))
            metrics.observe_hop(hop)
            return out

    async def _run_handler(self, env: Envelope, hop: HopRecord, drawn: Draw | None = None) -> tuple[Result, str]:
        """The handler with retries, a deadline per attempt, and the degradation paths (DESIGN §2, Resilience)."""
        if drawn is not None and drawn.delay_ms:
            # An injected slow service: the time counts against the ticket's budget like real slowness.
            await asyncio.sleep(drawn.delay_ms / 1000)
        optional = self.settings.is_optional_stage()
        if (optional and env.deadline_unix_ms
                and env.deadline_unix_ms - time.time() * 1000 < self.settings.degrade_below_ms):
            return self._skip(env, hop, "low_budget"), ""
        if not self.stage_breaker.allow():
            if optional:
                return self._skip(env, hop, "stage_failing"), ""
            error = f"{self.service} failed {self.settings.stage_failure_threshold}+ tickets in a row; not tried"
            hop.escalation_reason = "degraded"
            return Escalate(env, handoff.escalation(env, "degraded", error, PASSED_ON, stage=self.service)), error
        attempts = self.settings.handler_attempts
        error = ""
        for attempt in range(1, attempts + 1):
            work = Envelope()
            work.CopyFrom(env)  # each attempt starts from the message as received
            hop.retries = attempt - 1
            try:
                async with asyncio.timeout(self._attempt_timeout(env)):
                    if drawn is not None:
                        await self.faults.during_attempt(drawn)
                    result = await self.handler(work, hop)
                self.stage_breaker.record_success()
                return result, ""
            except Exception as exc:  # noqa: BLE001 - a failing stage escalates instead of blocking the topic
                if isinstance(exc, InjectedError):
                    hop.fault["error"] = "injected"
                    span = trace.get_current_span()
                    span.set_attribute("fault.error", "injected")
                error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                log.warning("stage handler failed", attempt=attempt, error=error)
                if attempt < attempts:
                    await asyncio.sleep(min(1.0, 0.05 * 2 ** attempt) * (0.5 + random.random()))
        self.stage_breaker.record_failure()
        hop.escalation_reason = "stage_failed"
        escalation = handoff.escalation(env, "stage_failed", f"{self.service} failed {attempts} times ({error})",
                                        PASSED_ON, stage=self.service)
        return Escalate(env, escalation), error

    def _attempt_timeout(self, env: Envelope) -> float:
        """What is left of the ticket's budget, but at least the floor: a late ticket is still handled."""
        floor = self.settings.stage_timeout_floor_ms / 1000
        if not env.deadline_unix_ms:
            return max(floor, self.settings.ticket_budget_ms / 1000)
        return max(floor, remaining_seconds(env))

    def _skip(self, env: Envelope, hop: HopRecord, why: str) -> Forward:
        """Degradation: pass the ticket on without this (optional) stage's work, and say so."""
        env.degradations.append(f"{self.service}: skipped ({why})")
        hop.labels["degraded"] = why
        log.info("optional stage skipped", reason=why)
        return Forward(env)

    def _route(self, result: Result, hop: HopRecord) -> list[Outgoing]:
        env = result.envelope
        key = env.ticket.conversation_id.encode()
        headers = inject_headers() + [("ticket-id", env.ticket.ticket_id.encode())]
        if isinstance(result, Forward):
            if self.service not in env.visited:
                env.visited.append(self.service)
            if not env.routing_slip:
                return self._route(Escalate(env, handoff.escalation(
                    env, "routing_error", f"{self.service} had no next stage on the routing slip",
                    "We have passed your request to our support team.", stage=self.service)), hop)
            nxt = env.routing_slip.pop(0)
            hop.destination = topics.stage_topic(nxt)
            self.ledger.add(env.ticket.ticket_id)
            return [Outgoing(hop.destination, env.SerializeToString(), key,
                             headers + [("content-type", b"application/x-protobuf")], env.ticket.ticket_id),
                    Outgoing(topics.FORWARDED, b"", self.service.encode(),
                             [("ticket-id", env.ticket.ticket_id.encode())], after_the_rest=True)]
        ticket_id = env.ticket.ticket_id
        if ticket_id in self.ledger:
            hop.labels["duplicate_suppressed"] = "true"
            log.info("duplicate outcome suppressed", ticket=ticket_id)
            return []
        self.ledger.add(ticket_id)
        latency_ms = int(time.time() * 1000 - env.received_unix_ms) if env.received_unix_ms else 0
        c = env.classification
        if isinstance(result, Respond):
            msg, topic = result.response, topics.RESPONSES
            msg.answered_at = msg.answered_at or now_rfc3339()
            msg.intent, msg.category, msg.priority = c.intent, c.category, c.priority
            msg.sentiment, msg.confidence = c.sentiment, c.confidence
            msg.degradations.extend(d for d in env.degradations if d not in msg.degradations)
        else:
            msg, topic = result.escalation, topics.ESCALATIONS
            msg.escalated_at = msg.escalated_at or now_rfc3339()
            msg.escalated_by = msg.escalated_by or self.service
            msg.intent, msg.category, msg.priority = c.intent, c.category, c.priority or "medium"
            msg.sentiment, msg.confidence = c.sentiment, c.confidence
            hop.escalation_reason = msg.reason
        msg.ticket_id, msg.conversation_id, msg.trace_id = ticket_id, env.ticket.conversation_id, hop.trace_id
        msg.latency_ms = min(max(0, latency_ms), 2**31 - 1)
        metrics.observe_outcome(self.service, topic, msg.latency_ms, c.sentiment)
        hop.destination = topic
        value, ctype = encode_output(msg, self.settings.output_format)
        return [Outgoing(topic, value, key, headers + [("content-type", ctype.encode())], ticket_id)]

    def _dead_letter(self, rec: ConsumerRecord, error: str, trace_id: str) -> Outgoing:
        log.warning("dead-lettered", topic=rec.topic, partition=rec.partition, offset=rec.offset, error=error)
        original = rec.value or b""
        if len(original) > DLQ_MAX_ORIGINAL_BYTES:
            # Base64 of a near-1 MB message would not fit in a Kafka record: the publish would fail and the
            # batch be redelivered forever. The source offset still points at the whole message.
            error += f" (original truncated to {DLQ_MAX_ORIGINAL_BYTES} of {len(original)} bytes)"
            original = original[:DLQ_MAX_ORIGINAL_BYTES]
        record = DlqRecord(
            error=error, source=DlqSource(topic=rec.topic, partition=rec.partition, offset=rec.offset,
                                          key=(rec.key or b"").decode(errors="replace")),
            original_base64=b64(original), received_at=now_rfc3339(), service=self.service, trace_id=trace_id)
        value, ctype = encode_output(record, self.settings.output_format)
        return Outgoing(topics.DLQ, value, rec.key, inject_headers() + [("content-type", ctype.encode())])

    @staticmethod
    def _hop_out(hop: HopRecord) -> Outgoing:
        return Outgoing(topics.HOPS, hop.SerializeToString(), hop.trace_id.encode())
