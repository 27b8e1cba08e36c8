"""`classify(text)`: intent, category, confidence, sentiment, flags, priority and entities of one ticket."""

from collections.abc import Iterable
from dataclasses import asdict, dataclass

from .entities import Entity, extract_entities
from .intent_model import IntentModel, IntentScore
from .order_request import ORDER_REQUEST, is_order_request
from .priority import priority
from .sentiment import flags, sentiment


@dataclass(frozen=True)
class Classification:
    intent: str
    category: str
    confidence: float  # calibrated probability of `intent`
    alternatives: list[IntentScore]  # the three most probable intents, best first (includes `intent`)
    sentiment: float  # -1 .. 1
    flags: list[str]  # the money and safety markers, "angry", and `order_request` (the customer asks for a write)
    priority: str
    entities: list[Entity]


class Classifier:
    def __init__(self, model: IntentModel, products: Iterable[str] = ()) -> None:
        self.model = model
        self.products = tuple(sorted(set(products)))  # catalogue names, reported as `product` entities

    def classify(self, text: str) -> Classification:
        ranked = self.model.rank(text, top=3)
        best = ranked[0]
        polarity = sentiment(text)
        markers = flags(text)
        if is_order_request(text, self.products):
            markers.append(ORDER_REQUEST)
        return Classification(
            intent=best.intent,
            category=self.model.categories[best.intent],
            confidence=best.score,
            alternatives=ranked,
            sentiment=polarity,
            flags=markers,
            priority=priority(best.intent, polarity, markers),
            entities=extract_entities(text, self.products),
        )


def to_dict(c: Classification) -> dict:
    """The classification as plain JSON-ready data (what `supportmesh classify` prints)."""
    out = asdict(c)
    out["confidence"] = round(c.confidence, 4)
    out["alternatives"] = [{"intent": a.intent, "score": round(a.score, 4)} for a in c.alternatives]
    return out
