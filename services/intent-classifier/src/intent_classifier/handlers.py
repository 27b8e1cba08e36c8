"""The classifier stage: decode a ticket, hold it back over a limit or classify it, then forward or escalate it."""

import time
from collections.abc import Callable

from aiokafka import ConsumerRecord
from supportmesh.v1.envelope_pb2 import Classification as ClassificationPb
from supportmesh.v1.envelope_pb2 import Entity as EntityPb
from supportmesh.v1.envelope_pb2 import Envelope, IntentScore
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh.v1.outcomes_pb2 import Reply, Response
from supportmesh.v1.ticket_pb2 import Ticket
from supportmesh_core.codec import decode_ticket
from supportmesh_core.handoff import escalation
from supportmesh_core.stage import Escalate, Forward, Respond, Verdict, remaining_seconds
from supportmesh_intent.classifier import Classification, Classifier

from .adapters.llm_refiner import ModelClassifier
from .domain import handoff
from .domain.limits import CHANNEL, Limits, identity_key
from .domain.redact import redact
from .domain.workflows import ESCALATE, Workflows

LOCAL_ENGINE = "local"


class TicketDecoder:
    """Turns a tickets.inbound record into a new Envelope, or raises BadMessage (the runner DLQs it)."""

    def __init__(self, ticket_budget_ms: int, clock: Callable[[], float] = time.time) -> None:
        self.budget_ms = ticket_budget_ms
        self.clock = clock

    def __call__(self, record: ConsumerRecord) -> Envelope:
        content_type = next(
            (v.decode("latin-1") for k, v in (record.headers or ()) if k.lower() == "content-type"), None
        )
        ticket = decode_ticket(record.value, content_type)
        now_ms = int(self.clock() * 1000)
        return Envelope(ticket=ticket, received_unix_ms=now_ms, deadline_unix_ms=now_ms + self.budget_ms)


def ticket_text(ticket: Ticket) -> str:
    """What is classified: the subject and the body (entity offsets index this string)."""
    return f"{ticket.subject.strip()}\n{ticket.body}" if ticket.subject.strip() else ticket.body


class ClassifierHandler:
    """Classifies locally (always: it is fast and finds the personal entities the model never sees), then,
    with a model configured, lets the model refine intent, confidence, sentiment, flags and entities."""

    def __init__(self, classifier: Classifier, workflows: Workflows, min_confidence: float,
                 model: ModelClassifier | None = None, model_budget_share: float = 0.25) -> None:
        self.classifier = classifier
        self.workflows = workflows
        self.min_confidence = min_confidence
        self.model = model if model is not None and model.configured else None
        self.model_budget_share = model_budget_share

    async def __call__(self, env: Envelope, hop: HopRecord) -> Forward | Escalate:
        ticket = env.ticket
        text = ticket_text(ticket)
        c = self.classifier.classify(text)
        engine = LOCAL_ENGINE
        if self.model is not None:
            # The classifier is the first of five stages: it may spend only a share of the ticket's budget.
            refined = await self.model.refine(
                text, c, (ticket.customer.name, ticket.customer.email),
                remaining_seconds(env) * self.model_budget_share, ticket.ticket_id, ticket.conversation_id)
            c, engine = refined.classification, refined.engine
            if refined.fallback_reason:
                hop.labels["model.fallback_reason"] = refined.fallback_reason
            if refined.entities_dropped:
                hop.labels["model.entities_dropped"] = str(refined.entities_dropped)
        route = self.workflows.route(c, self.min_confidence)
        env.classification.CopyFrom(_to_proto(c, route.workflow, engine))
        if route.family:
            env.classification.family, env.classification.family_score = route.family, route.family_score
            hop.labels["family"] = f"{route.family}:{route.family_score:.2f}"
        if route.marker:
            hop.labels["request_marker"] = route.marker
        hop.intent, hop.confidence, hop.engine = c.intent, c.confidence, engine
        hop.labels.update(
            {
                "category": c.category,
                "priority": c.priority,
                "workflow": route.workflow,
                "flags": ",".join(c.flags),
            }
        )
        hop.message = redact(text, c.entities, (ticket.customer.name, ticket.customer.email))
        if route.workflow == ESCALATE:
            customer = handoff.Customer(
                ticket.customer.name, ticket.customer.email, ticket.customer.customer_id
            )
            told = handoff.customer_message(customer, route.reason)
            return Escalate(env, escalation(env, route.reason, handoff.why(route.reason, env.classification), told,
                                            stage=handoff.INTAKE))
        del env.routing_slip[:]
        env.routing_slip.extend(route.stages)
        return Forward(env)


def _to_proto(c: Classification, workflow: str, engine: str) -> ClassificationPb:
    return ClassificationPb(
        intent=c.intent,
        category=c.category,
        confidence=c.confidence,
        sentiment=c.sentiment,
        flags=c.flags,
        priority=c.priority,
        workflow=workflow,
        engine=engine,
        entities=[EntityPb(type=e.type, value=e.value, start=e.start, end=e.end) for e in c.entities],
        alternatives=[IntentScore(intent=a.intent, score=a.score) for a in c.alternatives],
    )


HOLDING_REPLY = ("Thank you, we have your messages and are on it. You have sent us several in a short time, so we "
                 "will answer them together in this conversation: there is no need to send them again.")
ESCALATED_REPLY = ("Thank you, we have your messages and are on it. A member of our support team will read them "
                   "together and reply in this conversation.")


class IntakeLimits:
    """The classifier's admission (supportmesh_core.stage.Admission): the domain's token buckets, asked for each
    ticket as it is read from tickets.inbound.

    Over the customer's or the channel's limit a ticket is not classified and reaches no later stage: the first
    one of a flood is escalated (`rate_limited`), so a person hears of the flood once, with what it holds; the
    rest get a holding reply on tickets.responses. Over the intake-wide limit a ticket waits its turn.
    """

    def __init__(self, limits: Limits, lane_size: int, lane_concurrency: int, lane_rate_per_s: float = 0.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.lane_size = lane_size
        self.lane_concurrency = lane_concurrency
        self.lane_rate_per_s = lane_rate_per_s
        self.clock = clock

    def admit(self, env: Envelope) -> Verdict:
        t = env.ticket
        key = identity_key(t.customer.email, t.customer.name, t.customer.zip, t.conversation_id)
        decision = self.limits.decide(key, t.channel, self.clock())
        return Verdict(held=decision.held, first=decision.first, wait_s=decision.wait_s)

    def held_back(self, env: Envelope, verdict: Verdict, hop: HopRecord) -> Respond | Escalate:
        env.degradations.append(f"intent-classifier: held back ({verdict.held} limit)")
        if verdict.first:
            return Escalate(env, escalation(env, "rate_limited", self._why(env, verdict.held), ESCALATED_REPLY,
                                            stage=handoff.INTAKE))
        return Respond(env, Response(reply=Reply(text=HOLDING_REPLY)))

    def _why(self, env: Envelope, held: str) -> str:
        if held == CHANNEL:
            rate, who = self.limits.channels.rate, f"the {env.ticket.channel or 'unknown'} channel"
        else:
            rate, who = self.limits.customers.rate, "this customer"
        return (f"held back at intake ({held} limit): {who} sent more than {rate.burst:g} tickets at once or more "
                f"than {rate.per_s * 60:g} a minute. Until they slow down, later tickets get a holding reply and are "
                "not classified or looked into; their hop records carry held_back.")
