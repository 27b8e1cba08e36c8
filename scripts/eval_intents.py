"""Measures the intent classifier on its evaluation sets and prints one table (or JSON with --json).

Sets (services/intent-classifier/eval, see the README there): the Bitext held-out split (27 intents), the
out-of-domain utterances (share classified out_of_scope; three sets from unseen domains, the last two per domain),
the entity set, and four sets of multi-sentence tickets (29 intents) by four authors: tickets_holdout3.csv is the
held-out one (never looked at while changing the model); tickets_holdout.csv and tickets_holdout2.csv were each
held out once and then used for development, like tickets.csv, so they are reported without a target. Targets:
accuracy >= 0.993 and macro-F1 >= 0.99 on Bitext, >= 0.95 out_of_scope on the four out-of-domain sets
(out_of_domain_holdout.csv, out_of_domain_holdout2.csv and out_of_domain_holdout3.csv: domains never written about
in training), >= 0.94 on
the held-out tickets, entity precision and recall >= 0.97 per type and overall. Exit code 1 when a target is
missed.
"""

import argparse
import json
import pathlib
import sys
import time

from supportmesh_cli.classify import load_classifier
from supportmesh_cli.evaluate import evaluate, read_labelled
from supportmesh_intent.metrics import entity_scores

EVAL_DIR = pathlib.Path(__file__).resolve().parents[1] / "services" / "intent-classifier" / "eval"
MIN_CONFIDENCE = 0.6
HELD_OUT_TICKETS = "tickets_holdout3"
DEV_TICKETS = ("tickets", "tickets_holdout", "tickets_holdout2")   # held out once each, then used for development
# Out-of-domain text from 16 domains listed before any training negative was written and kept out of them;
# written last, by a separate author (eval/README.md): the measure of "out of scope from anywhere".
OOD_HOLDOUT = "out_of_domain_holdout"
# The same again from 16 further domains, listed and written by another author on 2026-12-03 after the model's
# negatives were last changed; its `domain` column gives the per-domain figures.
OOD_HOLDOUT2 = "out_of_domain_holdout2"
# And from 16 more, listed first by a third separate author on 2026-12-04, who read only the negatives and the
# earlier sets to pick domains none of them covers; written after the model last changed, run once for the figure.
OOD_HOLDOUT3 = "out_of_domain_holdout3"
PER_DOMAIN = (OOD_HOLDOUT2, OOD_HOLDOUT3)
LABELLED_SETS = ("bitext_holdout", "out_of_domain", OOD_HOLDOUT, *PER_DOMAIN, HELD_OUT_TICKETS, *DEV_TICKETS)


def run(model_dir: str) -> dict:
    classifier = load_classifier(model_dir)
    out: dict = {}
    for name in LABELLED_SETS:
        texts, labels = read_labelled(EVAL_DIR / f"{name}.csv", "text", "intent")
        out[name] = evaluate(classifier, texts, labels, MIN_CONFIDENCE)
    for name in PER_DOMAIN:
        texts, domains = read_labelled(EVAL_DIR / f"{name}.csv", "text", "domain")
        caught = [classifier.classify(t).intent == "out_of_scope" for t in texts]
        out[name]["per_domain"] = {d: round(sum(c for c, e in zip(caught, domains, strict=True) if e == d)
                                            / domains.count(d), 4) for d in sorted(set(domains))}
    rows = [json.loads(line) for line in (EVAL_DIR / "entities.jsonl").read_text(encoding="utf-8").splitlines()]
    gold = [[(e["type"], e["value"]) for e in r["entities"]] for r in rows]
    found = [[(e.type, e.value) for e in classifier.classify(r["text"]).entities] for r in rows]
    out["entities"] = entity_scores(gold, found)
    texts, _ = read_labelled(EVAL_DIR / "tickets.csv", "text", "intent")
    for text in texts[:50]:
        classifier.classify(text)
    started = time.perf_counter()
    for text in texts:
        classifier.classify(text)
    out["classify_ms_per_ticket"] = round((time.perf_counter() - started) * 1000 / len(texts), 3)
    return out


def targets(r: dict) -> list[tuple[str, float, float, bool]]:
    """(what, measured, target, met) for every target of the classifier."""
    ent = r["entities"]
    rows = [
        ("Bitext held-out accuracy (27 intents)", r["bitext_holdout"]["accuracy"], 0.993),
        ("Bitext held-out macro-F1", r["bitext_holdout"]["macro_f1"], 0.99),
        ("out-of-domain classified out_of_scope", r["out_of_domain"]["accuracy"], 0.95),
        ("out-of-domain, unseen domains, out_of_scope", r[OOD_HOLDOUT]["accuracy"], 0.95),
        ("out-of-domain, 16 more unseen domains", r[OOD_HOLDOUT2]["accuracy"], 0.95),
        ("out-of-domain, a third 16 unseen domains", r[OOD_HOLDOUT3]["accuracy"], 0.95),
        ("held-out multi-sentence tickets accuracy (29)", r[HELD_OUT_TICKETS]["accuracy"], 0.94),
        ("entity precision (overall)", ent["overall"]["precision"], 0.97),
        ("entity recall (overall)", ent["overall"]["recall"], 0.97),
    ]
    for kind, row in ent["per_type"].items():
        rows.append((f"entity precision / recall: {kind}", min(row["precision"], row["recall"]), 0.97))
    return [(what, value, target, value >= target) for what, value, target in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--model-dir", default="", help="default: $SUPPORTMESH_MODEL_DIR or artifacts/")
    args = parser.parse_args()
    result = run(args.model_dir)
    checks = targets(result)
    result["targets"] = [{"what": w, "value": v, "target": t, "met": m} for w, v, t, m in checks]
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{'intent classifier':<48} {'measured':>9} {'target':>7}  met")
        for what, value, target, met in checks:
            print(f"{what:<48} {value:>9.4f} {target:>7.3f}  {'yes' if met else 'NO'}")
        for name in DEV_TICKETS:
            dev = result[name]
            print(f"{'development: ' + name + ' accuracy':<48} {dev['accuracy']:>9.4f} {'-':>7}  "
                  f"(macro-F1 {dev['macro_f1']:.4f})")
        for name in LABELLED_SETS:
            s = result[name]
            print(f"{name}: n={s['examples']} ECE {s['ece']:.4f}, below {MIN_CONFIDENCE}: "
                  f"{s['below_min_confidence']:.2%}, accuracy of the rest {s['accuracy_above_min_confidence']}")
        for name in PER_DOMAIN:
            print(f"{name} per domain: " + ", ".join(
                f"{d} {v:.0%}" for d, v in sorted(result[name]["per_domain"].items(), key=lambda kv: kv[1])))
        for name in (HELD_OUT_TICKETS, *DEV_TICKETS):
            worst = sorted(result[name]["per_intent"].items(), key=lambda kv: kv[1]["f1"])[:5]
            print(f"{name}, worst intents (F1): " + ", ".join(f"{k} {v['f1']:.2f}" for k, v in worst))
        print(f"classify (model + sentiment + flags + entities): {result['classify_ms_per_ticket']} ms per ticket")
    sys.exit(0 if all(m for *_, m in checks) else 1)


if __name__ == "__main__":
    main()
