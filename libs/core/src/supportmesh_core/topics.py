"""Topic names: the user-facing ones are fixed by the design; internal ones are one per stage."""

INBOUND = "tickets.inbound"
RESPONSES = "tickets.responses"
ESCALATIONS = "tickets.escalations"
DLQ = "tickets.dlq"
# A human agent's reply to a ticket (JSON or protobuf AgentReply, keyed by conversation id), from the agent desk.
AGENT_REPLIES = "tickets.agent-replies"
HOPS = "telemetry.hops"
# "Ticket T was passed on by stage S": a marker per forward, keyed by the stage, that every replica of S reads
# (supportmesh_core.ledger), so a copy of T re-read after a rebalance or a crash is not handled twice.
FORWARDED = "stage.forwarded"

STAGES = ("intent-classifier", "context-compressor", "retriever", "technical-analyst", "response-generator")


def stage_topic(stage: str) -> str:
    """The topic a stage consumes; the classifier is the exception and reads tickets.inbound."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; known: {', '.join(STAGES)}")
    return INBOUND if stage == "intent-classifier" else f"stage.{stage}"


def all_topics() -> list[str]:
    """Every topic the mesh uses, for creating them up front."""
    return [INBOUND, RESPONSES, ESCALATIONS, DLQ, HOPS, FORWARDED, AGENT_REPLIES,
            *(stage_topic(s) for s in STAGES[1:])]
