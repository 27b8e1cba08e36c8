"""Training set assembly, the seeded hold-out split and the hold-out metrics."""

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support
from sklearn.model_selection import train_test_split

from .examples import OUT_OF_SCOPE, TECHNICAL, Example, deduplicated, own_examples, technical_examples
from .model import IntentModel


def assemble(
    bitext: Sequence[Example],
    own_tickets: Sequence[tuple[str, str]],
    kb_articles: Sequence[tuple[str, str]],
    own_technical: Sequence[str],
    own_out_of_scope: Sequence[str],
    kb_examples: int,
    seed: int,
) -> list[Example]:
    """Bitext utterances, our ticket-style examples of the same intents, and the technical_support and
    out_of_scope examples, without repeated texts."""
    categories = {e.intent: e.category for e in bitext}
    unknown = sorted({intent for intent, _ in own_tickets} - categories.keys())
    if unknown:
        raise ValueError(f"ticket examples use intents Bitext does not have: {', '.join(unknown)}")
    return deduplicated(
        [
            *bitext,
            *(Example(text, intent, categories[intent]) for intent, text in own_tickets),
            *technical_examples(kb_articles, kb_examples, seed),
            *own_examples(own_technical, TECHNICAL),
            *own_examples(own_out_of_scope, OUT_OF_SCOPE),
        ]
    )


def split(
    examples: Sequence[Example], holdout_fraction: float, seed: int
) -> tuple[list[Example], list[Example]]:
    """A stratified (train, hold-out) split, the same for the same seed and data."""
    train, holdout = train_test_split(
        list(examples), test_size=holdout_fraction, random_state=seed, stratify=[e.intent for e in examples]
    )
    return train, holdout


def evaluate(model: IntentModel, holdout: Sequence[Example], min_confidence: float) -> dict:
    """Accuracy, macro-F1, per-intent F1, out_of_scope recall and how many tickets fall under the floor."""
    truth = [e.intent for e in holdout]
    ranked = [model.rank(e.text, top=1)[0] for e in holdout]
    predicted = [r.intent for r in ranked]
    confidence = np.array([r.score for r in ranked])
    labels = sorted(set(truth) | set(predicted))
    _, recall, f1, support = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    per_intent = {
        label: {"f1": round(float(f), 4), "recall": round(float(r), 4), "support": int(s)}
        for label, f, r, s in zip(labels, f1, recall, support, strict=True)
    }
    confident = confidence >= min_confidence
    correct = np.array(predicted) == np.array(truth)
    return {
        "holdout_size": len(holdout),
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(float(f1_score(truth, predicted, average="macro", zero_division=0)), 4),
        "out_of_scope_recall": per_intent.get(OUT_OF_SCOPE, {}).get("recall", 0.0),
        "below_min_confidence": round(float(1 - confident.mean()), 4),
        "accuracy_above_min_confidence": round(float(correct[confident].mean()), 4)
        if confident.any()
        else 0.0,
        "min_confidence": min_confidence,
        "per_intent": per_intent,
        "worst_intents": sorted(per_intent, key=lambda k: per_intent[k]["f1"])[:3],
    }
