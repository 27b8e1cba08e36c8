"""The classifier stage: decode an inbound ticket, classify it, then forward it on its slip or escalate."""

import time
from collections.abc import Callable

from aiokafka import ConsumerRecord
from supportmesh.v1.envelope_pb2 import Classification as ClassificationPb
from supportmesh.v1.envelope_pb2 import Entity as EntityPb
from supportmesh.v1.envelope_pb2 import Envelope, IntentScore
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh.v1.outcomes_pb2 import Escalation
from supportmesh.v1.ticket_pb2 import Ticket
from supportmesh_core.codec import decode_ticket
from supportmesh_core.kafka import Escalate, Forward

from .domain import handoff
from .domain.classifier import Classification, Classifier
from .domain.redact import redact
from .domain.workflows import ESCALATE, Workflows

ENGINE = "local"


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
    def __init__(self, classifier: Classifier, workflows: Workflows, min_confidence: float) -> None:
        self.classifier = classifier
        self.workflows = workflows
        self.min_confidence = min_confidence

    async def __call__(self, env: Envelope, hop: HopRecord) -> Forward | Escalate:
        ticket = env.ticket
        text = ticket_text(ticket)
        c = self.classifier.classify(text)
        route = self.workflows.route(c, self.min_confidence)
        env.classification.CopyFrom(_to_proto(c, route.workflow))
        hop.intent, hop.confidence, hop.engine = c.intent, c.confidence, ENGINE
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
            return Escalate(
                env,
                Escalation(
                    reason=route.reason,
                    summary=handoff.summary(customer, ticket.subject, ticket.body, c, route.reason),
                    customer_message=handoff.customer_message(customer, route.reason),
                ),
            )
        del env.routing_slip[:]
        env.routing_slip.extend(route.stages)
        return Forward(env)


def _to_proto(c: Classification, workflow: str) -> ClassificationPb:
    return ClassificationPb(
        intent=c.intent,
        category=c.category,
        confidence=c.confidence,
        sentiment=c.sentiment,
        flags=c.flags,
        priority=c.priority,
        workflow=workflow,
        engine=ENGINE,
        entities=[EntityPb(type=e.type, value=e.value, start=e.start, end=e.end) for e in c.entities],
        alternatives=[IntentScore(intent=a.intent, score=a.score) for a in c.alternatives],
    )
