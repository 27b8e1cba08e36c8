"""Training set assembly, the seeded Bitext split, sample weights, temperature calibration and the metrics."""

from collections.abc import Sequence

import numpy as np
from sklearn.model_selection import GroupKFold, train_test_split
from supportmesh_intent.intent_model import IntentModel, build_pipeline
from supportmesh_intent.metrics import score

from .augment import augmented
from .examples import EXTRA_CATEGORIES, OUT_OF_SCOPE, TECHNICAL, Example, deduplicated, own_examples

# Weight of our ticket-shaped examples (retail_tickets.txt and the eight authors' files) relative to a Bitext
# line. With the authors' files, chosen on the development ticket sets (tickets.csv, tickets_holdout.csv,
# tickets_holdout2.csv; mean of augmentation seeds 42, 1, 2) and out-of-domain: 2x gives 0.974 / 0.957 / 0.935
# and 0.979 out-of-domain, 3x 0.977 / 0.942 / 0.928 and 0.967, 4x 0.979 / 0.956 / 0.935 and 0.975 (see README).
OWN_WEIGHT = 2.0
# Problem statements made from knowledge-base titles weigh like a Bitext line: they are long, fluent prose
# (unlike any other class's training text), and at 3x their function words ("and", "with", "in") made
# technical_support the sink for any long ticket, e.g. a store sign-up failure or a personal question. At 1x,
# averaged over three augmentation seeds: tickets.csv 0.942 -> 0.947, tickets_holdout.csv 0.912 -> 0.916,
# out-of-domain 0.983 -> 0.993 (see README).
KB_WEIGHT = 1.0
# out_of_scope_broad.txt and out_of_scope_broad2.txt (about 1,200 out-of-domain lines each, over 40+ and 48 other
# domains, about 10 % of them not English) weigh less than a Bitext line. With C = 50 the fit is close to
# hard-margin, so the weight mostly moves how far the boundary leans into in-scope text that shares words with a
# negative (a bank's "refund", a foreign greeting).
# Chosen on tickets.csv, tickets_holdout.csv, tickets_holdout2.csv (mean of augmentation seeds 42, 1, 2),
# 3-fold cross-validation on the training rows (in-scope rows of ours taken for out_of_scope out of fold) and
# leave-sections-out recall over the broad file itself: without the file 0.974 / 0.957 / 0.934 and 28 rows;
# 0.5 gives 0.975 / 0.958 / 0.932 and 76; 0.2 gives 0.974 / 0.961 / 0.937 and 69; 0.1 gives 0.974 / 0.959 /
# 0.939 but leave-sections-out recall 0.922 against 0.930 at 0.2 (see README). Round 6 (the second file and author
# I's in-scope tickets) compared 0.1 and 0.2 on the same development sets (seed 42): 0.986 / 0.970 / 0.945 and
# 0.991 / 0.970 / 0.948, so 0.2 stayed.
BROAD_WEIGHT = 0.2
CALIBRATION_FOLDS = 3


def split_bitext(bitext: Sequence[Example], fraction: float, seed: int) -> tuple[list[Example], list[Example]]:
    """Bitext without repeated texts, split stratified by intent into (train, held-out) before anything else,
    so the held-out part is never seen by training or by any choice made on the training part."""
    unique = deduplicated(bitext)
    train, held_out = train_test_split(
        unique, test_size=fraction, random_state=seed, stratify=[e.intent for e in unique]
    )
    return list(train), list(held_out)


def assemble(
    bitext_train: Sequence[Example],
    own_tickets: Sequence[tuple[str, str]],
    kb_examples: Sequence[Example],
    own_technical: Sequence[str],
    own_out_of_scope: Sequence[str],
) -> list[Example]:
    """Bitext training utterances, our ticket-style examples (any of the 29 intents), and the technical_support
    and out_of_scope examples, without repeated texts."""
    categories = {e.intent: e.category for e in bitext_train} | EXTRA_CATEGORIES
    unknown = sorted({intent for intent, _ in own_tickets} - categories.keys())
    if unknown:
        raise ValueError(f"ticket examples use intents outside the taxonomy: {', '.join(unknown)}")
    return deduplicated(
        [
            *bitext_train,
            *(Example(text, intent, categories[intent]) for intent, text in own_tickets),
            *kb_examples,
            *own_examples(own_technical, TECHNICAL),
            *own_examples(own_out_of_scope, OUT_OF_SCOPE),
        ]
    )


def training_rows(
    examples: Sequence[Example],
    bitext_texts: set[str],
    seed: int,
    kb_texts: frozenset[str] = frozenset(),
    broad_texts: frozenset[str] = frozenset(),
) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """(texts, intents, sample weights, groups): each example plus its ticket-shaped copy (same group, so
    cross-validation never splits an example from its copy); knowledge-base problem statements weigh
    KB_WEIGHT, the broad out-of-domain lines BROAD_WEIGHT, our other examples OWN_WEIGHT."""
    rows = [*examples, *augmented(examples, seed)]

    def weight(text: str) -> float:
        if text in bitext_texts:
            return 1.0
        if text in kb_texts:
            return KB_WEIGHT
        return BROAD_WEIGHT if text in broad_texts else OWN_WEIGHT

    weights = np.array([weight(e.text) for e in examples] * 2)
    groups = np.tile(np.arange(len(examples)), 2)
    return [e.text for e in rows], [e.intent for e in rows], weights, groups


def fit_temperature(logits: np.ndarray, truth: np.ndarray) -> float:
    """The temperature T minimising the log-loss of softmax(logits / T) (a one-parameter search)."""

    def nll(t: float) -> float:
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(-log_p[np.arange(len(truth)), truth].mean())

    grid = np.exp(np.linspace(np.log(0.05), np.log(20), 121))
    best = min(grid, key=nll)
    fine = best * np.exp(np.linspace(-0.06, 0.06, 25))
    return round(float(min(fine, key=nll)), 4)


def calibrate(texts: list[str], intents: list[str], weights: np.ndarray, groups: np.ndarray, seed: int) -> float:
    """Temperature from out-of-fold logits of a grouped cross-validation on the training rows only."""
    labels = sorted(set(intents))
    y = np.array([labels.index(i) for i in intents])
    logits = np.zeros((len(texts), len(labels)), dtype=np.float64)
    for train_idx, test_idx in GroupKFold(CALIBRATION_FOLDS).split(texts, y, groups):
        pipe = build_pipeline(seed).fit(
            [texts[i] for i in train_idx], y[train_idx], model__sample_weight=weights[train_idx]
        )
        fold_logits = pipe.decision_function([texts[i] for i in test_idx])
        # A fold may miss a rare class; its logit stays at the fold's minimum so it is never preferred.
        full = np.full((len(test_idx), len(labels)), fold_logits.min())
        full[:, pipe.classes_] = fold_logits
        logits[test_idx] = full
    return fit_temperature(logits, y)


def evaluate(model: IntentModel, held_out: Sequence[Example], min_confidence: float) -> dict:
    """score() of the model's best intents on held-out examples."""
    ranked = [model.rank(e.text, top=1)[0] for e in held_out]
    return score(
        [e.intent for e in held_out],
        [r.intent for r in ranked],
        [r.score for r in ranked],
        min_confidence=min_confidence,
    )
