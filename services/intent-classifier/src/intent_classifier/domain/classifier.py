"""`classify(text)`: intent, category, confidence, sentiment, flags, priority and entities of one ticket."""

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from .entities import Entity, extract_entities
from .model import IntentModel, IntentScore
from .order_request import ORDER_REQUEST, request_sentences
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
    # With `order_request`: the most probable intent of each sentence that asks for a write. A long ticket mixing
    # a request with questions and background spreads its probability; the request sentence alone is plain.
    requests: list[IntentScore] = field(default_factory=list)


class Classifier:
    def __init__(self, model: IntentModel, products: Iterable[str] = ()) -> None:
        self.model = model
        self.products = tuple(sorted(set(products)))  # catalogue names, reported as `product` entities

    def classify(self, text: str) -> Classification:
        ranked = self.model.rank(text, top=3)
        best = ranked[0]
        polarity = sentiment(text)
        markers = flags(text)
        asked = request_sentences(text, self.products)
        if asked:
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
            requests=[self.model.rank(sentence, top=1)[0] for sentence in asked],
        )


def to_dict(c: Classification) -> dict:
    """The classification as plain JSON-ready data (what `supportmesh classify` prints)."""
    out = asdict(c)
    out["confidence"] = round(c.confidence, 4)
    out["alternatives"] = [{"intent": a.intent, "score": round(a.score, 4)} for a in c.alternatives]
    out["requests"] = [{"intent": a.intent, "score": round(a.score, 4)} for a in c.requests]
    return out
