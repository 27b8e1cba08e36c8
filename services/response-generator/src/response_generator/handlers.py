"""The terminal stage: turns the envelope into the customer's reply, or into a handoff to a human."""

from supportmesh.v1.envelope_pb2 import Envelope
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh.v1.outcomes_pb2 import Escalation, Reply, Response
from supportmesh_core.kafka import Escalate, Respond

from .domain.compose import Handoff, compose

ENGINE = "local"


class GeneratorHandler:
    """Calls the pure composer and wraps its result in the outcome the runner publishes."""

    def __init__(self, min_confidence: float, max_steps: int) -> None:
        self._min_confidence = min_confidence
        self._max_steps = max_steps

    async def __call__(self, env: Envelope, hop: HopRecord) -> Respond | Escalate:
        c = env.classification
        hop.intent, hop.confidence, hop.engine = c.intent, c.confidence, ENGINE
        result = compose(env, self._min_confidence, self._max_steps)
        if isinstance(result, Handoff):
            hop.labels["outcome"] = "escalate"
            return Escalate(env, Escalation(reason=result.reason, summary=result.summary,
                                            customer_message=result.customer_message,
                                            actions=env.analysis.actions))
        hop.labels["outcome"] = "respond"
        hop.labels["citations"] = ",".join(result.citations)[:256]
        return Respond(env, Response(reply=Reply(text=result.text, citations=result.citations),
                                     actions=env.analysis.actions, engine=ENGINE))
