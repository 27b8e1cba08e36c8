"""`supportmesh eval intents`: score the intent classifier on a labelled CSV file."""

import csv
import json
import pathlib
from typing import TYPE_CHECKING, TextIO

from supportmesh_intent.metrics import score

from .classify import load_classifier

if TYPE_CHECKING:
    from supportmesh_intent.classifier import Classifier


class BadEvalData(Exception):
    """The evaluation file cannot be scored (missing columns, no rows, labels outside the taxonomy)."""


def read_labelled(path: pathlib.Path, text_col: str, label_col: str) -> tuple[list[str], list[str]]:
    """(texts, labels) from a CSV file with a header row."""
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in (text_col, label_col) if c not in (reader.fieldnames or [])]
            if missing:
                raise BadEvalData(
                    f"{path}: no column {', '.join(missing)} (columns: {', '.join(reader.fieldnames or [])})"
                )
            rows = [(r[text_col] or "", (r[label_col] or "").strip()) for r in reader]
    except OSError as exc:
        raise BadEvalData(f"cannot read {path}: {exc.strerror}") from None
    rows = [(t, label) for t, label in rows if t.strip()]
    if not rows:
        raise BadEvalData(f"{path}: no rows with text")
    return [t for t, _ in rows], [label for _, label in rows]


def check_labels(labels: list[str], taxonomy: list[str]) -> None:
    """Labels the classifier cannot predict would score as silent zeros; refuse them instead."""
    unknown = sorted(set(labels) - set(taxonomy))
    if unknown:
        raise BadEvalData(
            f"labels outside the taxonomy: {', '.join(repr(u) for u in unknown)} "
            f"(the classifier knows: {', '.join(taxonomy)})"
        )


def evaluate(classifier: "Classifier", texts: list[str], labels: list[str], min_confidence: float) -> dict:
    check_labels(labels, classifier.model.labels)
    best = [classifier.model.rank(t, top=1)[0] for t in texts]
    return score(labels, [b.intent for b in best], [b.score for b in best], min_confidence=min_confidence)


def render(result: dict, title: str) -> str:
    """A readable table: the headline figures, per-intent rows (worst first) and the worst confusions."""
    lines = [
        f"{title}: {result['examples']} examples",
        f"  accuracy {result['accuracy']:.4f}   macro-F1 {result['macro_f1']:.4f}"
        + (f"   ECE {result['ece']:.4f}" if "ece" in result else ""),
    ]
    if result.get("accuracy_above_min_confidence") is not None:
        lines.append(
            f"  below confidence {result['min_confidence']}: {result['below_min_confidence']:.2%} "
            f"(accuracy of the rest {result['accuracy_above_min_confidence']:.4f})"
        )
    lines.append(f"  {'intent':<26} {'precision':>9} {'recall':>7} {'F1':>6} {'n':>5}")
    for intent, row in sorted(result["per_intent"].items(), key=lambda kv: (kv[1]["f1"], kv[0])):
        lines.append(
            f"  {intent:<26} {row['precision']:>9.3f} {row['recall']:>7.3f} {row['f1']:>6.3f} {row['support']:>5}"
        )
    if result["confusions"]:
        lines.append("  worst confusions (true → predicted):")
        lines += [f"    {c['intent']} → {c['predicted']}: {c['count']}" for c in result["confusions"]]
    return "\n".join(lines)


def eval_intents(
    data: str, text_col: str, label_col: str, as_json: bool, model_dir: str, min_confidence: float, out: TextIO
) -> dict:
    texts, labels = read_labelled(pathlib.Path(data), text_col, label_col)
    result = evaluate(load_classifier(model_dir), texts, labels, min_confidence)
    result["data"] = data
    print(json.dumps(result) if as_json else render(result, data), file=out)
    return result
