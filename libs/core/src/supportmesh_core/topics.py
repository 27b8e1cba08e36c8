"""Topic names: the user-facing ones are fixed by the design; internal ones are one per stage."""

INBOUND = "tickets.inbound"
RESPONSES = "tickets.responses"
ESCALATIONS = "tickets.escalations"
DLQ = "tickets.dlq"
HOPS = "telemetry.hops"

STAGES = ("intent-classifier", "context-compressor", "retriever", "technical-analyst", "response-generator")


def stage_topic(stage: str) -> str:
    """The topic a stage consumes; the classifier is the exception and reads tickets.inbound."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; known: {', '.join(STAGES)}")
    return INBOUND if stage == "intent-classifier" else f"stage.{stage}"


def all_topics() -> list[str]:
    """Every topic the mesh uses, for creating them up front."""
    return [INBOUND, RESPONSES, ESCALATIONS, DLQ, HOPS, *(stage_topic(s) for s in STAGES[1:])]
