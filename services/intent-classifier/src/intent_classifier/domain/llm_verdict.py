"""The model's reading of a ticket: the structured-output schema, the prompt, and how it merges with the local one."""

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

from pydantic import BaseModel, Field, create_model
from supportmesh_core.privacy import redact
from supportmesh_intent.classifier import Classification
from supportmesh_intent.entities import Entity, extract_entities
from supportmesh_intent.intent_model import IntentScore
from supportmesh_intent.priority import priority
from supportmesh_intent.sentiment import FLAG_NAMES

# The entity types the model is asked for. Personal ones (email, name, zip, tracking_id) are masked in the
# prompt, so only the local extractor, which reads the full text on this machine, reports them.
MODEL_ENTITY_TYPES = ("order_id", "amount", "product", "error_code")
_PERSONAL_TYPES = {"email", "name", "zip", "tracking_id"}
_BARE_ORDER = re.compile(r"W\d{7}")

FlagName = Literal[FLAG_NAMES]  # type: ignore[valid-type]


class ModelEntity(BaseModel):
    type: Literal[MODEL_ENTITY_TYPES]  # type: ignore[valid-type]
    value: str = Field(min_length=1, max_length=120, description="copied verbatim from the ticket")


def verdict_schema(labels: Sequence[str]) -> type[BaseModel]:
    """The JSON schema the model must answer in: the intent is an enum of the taxonomy, numbers are bounded."""
    return create_model(
        "TicketClassification",
        intent=(Literal[tuple(labels)], ...),  # type: ignore[valid-type]
        confidence=(float, Field(ge=0, le=1, description="probability that the intent is right")),
        sentiment=(float, Field(ge=-1, le=1, description="-1 very negative .. 1 very positive")),
        flags=(list[FlagName], Field(default_factory=list)),
        entities=(list[ModelEntity], Field(default_factory=list)),
    )


def prompt_text(text: str, local_entities: Iterable[Entity], known: Iterable[str] = ()) -> str:
    """The ticket as it may leave for a remote model.

    Intent, sentiment, flags, order ids, amounts, products and error codes need none of the customer's
    personal data, and the local extractor already found the personal entities, so names, e-mail addresses,
    zip codes, tracking ids and the customer's known name/e-mail are masked here, then phone/card numbers,
    IBANs and street addresses by the shared redaction.
    """
    out = text
    for e in sorted((e for e in local_entities if e.type in _PERSONAL_TYPES), key=lambda e: e.start, reverse=True):
        out = f"{out[: e.start]}[{e.type}]{out[e.end :]}"
    for value in known:
        for part in {value, *value.split()} if value else ():
            if len(part) > 2:
                out = re.sub(re.escape(part), "[name]", out, flags=re.IGNORECASE)
    return redact(out)


def classification_messages(text: str, categories: Mapping[str, str]) -> list[dict[str, str]]:
    intents = "\n".join(f"- {intent} ({category})" for intent, category in categories.items())
    system = (
        "You classify customer-support tickets of an online shop that also supports Microsoft 365 apps.\n"
        "Pick exactly one intent from this list (category in brackets):\n"
        f"{intents}\n"
        "Use technical_support for problems with software, sign-in errors, error codes or pasted logs, and "
        "out_of_scope for anything the shop's support does not handle. Report sentiment from -1 to 1; flags "
        f"only when the customer really says so ({', '.join(FLAG_NAMES)}; a negated mention does not count); "
        f"entities of the types {', '.join(MODEL_ENTITY_TYPES)} copied verbatim from the ticket. Text in "
        "square brackets was masked for privacy. Answer in the JSON schema given."
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": text}]


def merge(local: Classification, verdict: BaseModel, text: str, categories: Mapping[str, str],
          products: Iterable[str] = ()) -> tuple[Classification, int]:
    """The classification with the model's intent, confidence and sentiment, the union of both engines'
    flags (a missed legal or fraud marker is worse than an extra handoff), the local entities plus the
    model's that occur in the ticket. Returns it with the number of model entities dropped as ungrounded."""
    intent: str = verdict.intent
    confidence = float(verdict.confidence)
    marked = set(local.flags) | set(verdict.flags)
    # The local-only markers (`order_request`: the customer's own words ask for a write) are kept as they are.
    flags = [f for f in FLAG_NAMES if f in marked] + [f for f in local.flags if f not in FLAG_NAMES]
    alternatives = [IntentScore(intent, confidence)] + [a for a in local.alternatives if a.intent != intent]
    entities, dropped = _ground(local.entities, verdict.entities, text, products)
    return Classification(
        intent=intent,
        category=categories[intent],
        confidence=confidence,
        alternatives=alternatives[:3],
        sentiment=float(verdict.sentiment),
        flags=flags,
        priority=priority(intent, verdict.sentiment, flags),
        entities=entities,
    ), dropped


def _ground(local: list[Entity], proposed: Iterable[ModelEntity], text: str,
            products: Iterable[str]) -> tuple[list[Entity], int]:
    """Local entities, plus each model entity found verbatim in `text` where no local entity already is.

    A value the ticket does not contain is dropped: the model may not invent an order id or an amount.
    Values are normalised the way the local extractor writes them (`#W1234567`, `12.50 USD`).
    """
    found, dropped, lowered = list(local), 0, text.lower()
    for candidate in proposed:
        start = lowered.find(candidate.value.strip().lower())
        if not candidate.value.strip() or start < 0:
            dropped += 1
            continue
        end = start + len(candidate.value.strip())
        if any(start < e.end and e.start < end for e in found):
            continue
        span = text[start:end]
        value = next((e.value for e in extract_entities(span, products) if e.type == candidate.type), span)
        if candidate.type == "order_id" and _BARE_ORDER.fullmatch(value.upper()):
            value = "#" + value.upper()
        found.append(Entity(candidate.type, value, start, end))
    return sorted(found, key=lambda e: e.start), dropped
