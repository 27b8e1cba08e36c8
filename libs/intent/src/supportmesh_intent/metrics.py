"""Evaluation figures for a labelled set: accuracy, macro-F1, per-intent P/R/F1, confusions and calibration."""

from collections import Counter
from collections.abc import Sequence


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def expected_calibration_error(confidence: Sequence[float], correct: Sequence[bool], bins: int = 10) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by how many fall in each."""
    if not confidence:
        return 0.0
    totals: dict[int, list[float]] = {}
    for conf, ok in zip(confidence, correct, strict=True):
        b = min(int(conf * bins), bins - 1)
        row = totals.setdefault(b, [0, 0.0, 0.0])
        row[0] += 1
        row[1] += conf
        row[2] += 1.0 if ok else 0.0
    n = len(confidence)
    return sum(abs(acc - conf) for count, conf, acc in totals.values()) / n if n else 0.0


def score(
    truth: Sequence[str],
    predicted: Sequence[str],
    confidence: Sequence[float] | None = None,
    min_confidence: float = 0.6,
    worst: int = 10,
) -> dict:
    """Figures for predictions against gold labels.

    Per-intent rows and macro-F1 cover the intents in the gold labels: an intent the set never contains has
    no recall to measure, and predicting it for another intent's text already costs that intent's recall.
    """
    if len(truth) != len(predicted):
        raise ValueError(f"{len(truth)} labels but {len(predicted)} predictions")
    if not truth:
        raise ValueError("no examples to score")
    pairs = Counter(zip(truth, predicted, strict=True))
    gold = Counter(truth)
    guessed = Counter(predicted)
    per_intent = {}
    for label in sorted(gold):
        tp = pairs[(label, label)]
        precision = tp / guessed[label] if guessed[label] else 0.0
        recall = tp / gold[label]
        per_intent[label] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(_f1(precision, recall), 4),
            "support": gold[label],
        }
    correct = [t == p for t, p in zip(truth, predicted, strict=True)]
    confusions = sorted(
        ((t, p, n) for (t, p), n in pairs.items() if t != p), key=lambda row: (-row[2], row[0], row[1])
    )
    out = {
        "examples": len(truth),
        "accuracy": round(sum(correct) / len(truth), 4),
        "macro_f1": round(sum(row["f1"] for row in per_intent.values()) / len(per_intent), 4),
        "per_intent": per_intent,
        "confusions": [{"intent": t, "predicted": p, "count": n} for t, p, n in confusions[:worst]],
    }
    if confidence is not None:
        confident = [ok for ok, c in zip(correct, confidence, strict=True) if c >= min_confidence]
        out["ece"] = round(expected_calibration_error(list(confidence), correct), 4)
        out["mean_confidence"] = round(sum(confidence) / len(confidence), 4)
        out["min_confidence"] = min_confidence
        out["below_min_confidence"] = round(1 - len(confident) / len(truth), 4)
        out["accuracy_above_min_confidence"] = (
            round(sum(confident) / len(confident), 4) if confident else None
        )
    return out


def entity_scores(gold: Sequence[Sequence[tuple[str, str]]], found: Sequence[Sequence[tuple[str, str]]]) -> dict:
    """Precision and recall of (type, value) pairs per text, per entity type and overall (micro)."""
    if len(gold) != len(found):
        raise ValueError(f"{len(gold)} gold texts but {len(found)} extracted")
    tp: Counter = Counter()
    fp: Counter = Counter()
    fn: Counter = Counter()
    for want, got in zip(gold, found, strict=True):
        want_c, got_c = Counter(want), Counter(got)
        for (kind, _), n in (want_c & got_c).items():
            tp[kind] += n
        for (kind, _), n in (got_c - want_c).items():
            fp[kind] += n
        for (kind, _), n in (want_c - got_c).items():
            fn[kind] += n

    def row(t: int, f_p: int, f_n: int) -> dict:
        precision = t / (t + f_p) if t + f_p else 1.0
        recall = t / (t + f_n) if t + f_n else 1.0
        return {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(_f1(precision, recall), 4),
            "gold": t + f_n,
            "found": t + f_p,
        }

    kinds = sorted(set(tp) | set(fp) | set(fn))
    return {
        "texts": len(gold),
        "overall": row(sum(tp.values()), sum(fp.values()), sum(fn.values())),
        "per_type": {k: row(tp[k], fp[k], fn[k]) for k in kinds},
    }
