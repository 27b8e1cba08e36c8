"""The terminal stage: turns the envelope into the customer's reply, or into a handoff to a human."""

from supportmesh.v1.envelope_pb2 import Envelope
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh.v1.outcomes_pb2 import Escalation, Reply, Response
from supportmesh_core.stage import Escalate, Respond, remaining_seconds

from .adapters.model import ModelWriter
from .domain.compose import Handoff, cite, compose
from .domain.grounding import article_citations

LOCAL_ENGINE = "local"


class GeneratorHandler:
    """Calls the pure composer and wraps its result in the outcome the runner publishes.

    With a model configured, the composer's grounded reply is the draft the model rewrites; the rewrite is
    sent only when it passes the facts check, else the draft is sent and the hop record says why.
    """

    def __init__(self, min_confidence: float, max_steps: int, writer: ModelWriter | None = None,
                 model_budget_share: float = 0.8) -> None:
        self._min_confidence = min_confidence
        self._max_steps = max_steps
        self._writer = writer if writer is not None and writer.configured else None
        self._model_share = model_budget_share

    async def __call__(self, env: Envelope, hop: HopRecord) -> Respond | Escalate:
        c = env.classification
        hop.intent, hop.confidence, hop.engine = c.intent, c.confidence, LOCAL_ENGINE
        result = compose(env, self._min_confidence, self._max_steps)
        if isinstance(result, Handoff):
            hop.labels["outcome"] = "escalate"
            return Escalate(env, Escalation(reason=result.reason, summary=result.summary,
                                            customer_message=result.customer_message,
                                            actions=env.analysis.actions))
        text, citations, engine = result.text, result.citations, LOCAL_ENGINE
        if self._writer is not None:
            written = await self._writer.write(env, result, remaining_seconds(env) * self._model_share)
            if written.engine != LOCAL_ENGINE:
                text, engine = f"{result.greeting}\n\n{written.body}", written.engine
                citations = cite(env, text, article_citations(result.citations))
            if written.fallback_reason:
                hop.labels["model.fallback_reason"] = written.fallback_reason
            if written.engine == LOCAL_ENGINE and written.fallback_detail:
                hop.labels["model.fallback_detail"] = written.fallback_detail[:256]
        hop.engine = engine
        hop.labels["outcome"] = "respond"
        hop.labels["citations"] = ",".join(citations)[:256]
        return Respond(env, Response(reply=Reply(text=text, citations=citations),
                                     actions=env.analysis.actions, engine=engine))
