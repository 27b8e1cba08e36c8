"""The `train` command: build the data set, fit, evaluate on the hold-out, time inference and save."""

import pickle
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import structlog
from supportmesh_intent import artifacts
from supportmesh_intent.classifier import Classifier
from supportmesh_intent.intent_model import DEFAULT_C, IntentModel, build_pipeline

from .adapters.data import (
    data_hash,
    read_author_pairs,
    read_bitext,
    read_kb_titles,
    read_own_lines,
    read_own_pairs,
    read_product_names,
)
from .config import Settings
from .domain.examples import EXTRA_CATEGORIES, technical_examples
from .domain.training import (
    BROAD_WEIGHT,
    KB_WEIGHT,
    OWN_WEIGHT,
    assemble,
    calibrate,
    evaluate,
    split_bitext,
    training_rows,
)

log = structlog.get_logger()


def train(settings: Settings, echo: Callable[[str], None] = print) -> tuple[IntentModel, dict]:
    """Split Bitext first, train on the training part and our own examples, calibrate the confidence by
    cross-validation on the training rows, report held-out figures and save; returns (model, metrics)."""
    inputs = [settings.bitext_path, settings.kb_path, settings.catalogue_path]
    for path in inputs:
        if not path.exists():
            raise FileNotFoundError(f"training data {path} not found (set CLASSIFIER_TRAINING_DATA_DIR)")
    bitext_train, held_out = split_bitext(
        read_bitext(settings.bitext_path), settings.holdout_fraction, settings.seed
    )
    kb = technical_examples(read_kb_titles(settings.kb_path), settings.kb_examples, settings.seed)
    broad = [line for name in ("out_of_scope_broad.txt", "out_of_scope_broad2.txt", "out_of_scope_broad3.txt")
             for line in read_own_lines(name)]   # all BROAD_WEIGHT
    examples = assemble(
        bitext_train,
        [*read_own_pairs("retail_tickets.txt"), *read_author_pairs()],
        kb,
        read_own_lines("technical_support.txt"),
        [*read_own_lines("out_of_scope.txt"), *broad],
    )
    texts, intents, weights, groups = training_rows(
        examples, {e.text for e in bitext_train}, settings.seed, frozenset(e.text for e in kb), frozenset(broad)
    )
    counts = Counter(e.intent for e in examples)
    echo(
        f"examples: {len(examples)} ({len(counts)} intents; technical_support {counts['technical_support']}, "
        f"out_of_scope {counts['out_of_scope']}) + one ticket-shaped copy each; Bitext held out: "
        f"{len(held_out)} (seed {settings.seed})"
    )

    started = time.perf_counter()
    temperature = calibrate(texts, intents, weights, groups, settings.seed)
    pipeline = build_pipeline(settings.seed).fit(texts, intents, model__sample_weight=weights)
    train_seconds = time.perf_counter() - started
    categories = {e.intent: e.category for e in bitext_train} | EXTRA_CATEGORIES
    model = IntentModel(pipeline, categories, temperature)

    metrics = evaluate(model, held_out, settings.min_confidence)
    metrics["temperature"] = temperature
    metrics["train_seconds"] = round(train_seconds, 2)
    products = read_product_names(settings.catalogue_path)
    metrics["latency_ms"] = _latency(model, products, [e.text for e in held_out])
    metadata = {
        "data_sha256": data_hash(inputs),
        "seed": settings.seed,
        "c": DEFAULT_C,
        "own_weight": OWN_WEIGHT,
        "kb_weight": KB_WEIGHT,
        "broad_weight": BROAD_WEIGHT,
        "temperature": temperature,
        "holdout_fraction": settings.holdout_fraction,
        "kb_examples": settings.kb_examples,
        "train_size": len(texts),
        "holdout_size": len(held_out),
        "products": products,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    metrics["loaded_model_mib"] = _loaded_size_mib(model)
    artifacts.save(settings.model_dir, model, metadata, metrics, held_out)
    _report(metrics, settings, echo)
    return model, metrics


def _latency(model: IntentModel, products: list[str], texts: list[str]) -> dict:
    """Per-ticket time of the model alone and of the whole `classify` (model, entities, sentiment)."""
    classifier = Classifier(model, products)
    ticket = (
        "Where is my order? Hi, order #W2378156 was due yesterday and the tracking page has not changed "
        "for three days. I need it for the weekend, can you tell me when it will arrive? Thanks, Yusuf"
    )
    out = {}
    for name, fn, sample in (
        ("model", model.probabilities, texts),
        ("classify", classifier.classify, texts),
        ("classify_ticket_sized", classifier.classify, [ticket] * 200),
    ):
        for text in sample[:50]:
            fn(text)  # warm caches so the figures describe a running service
        timings = []
        for text in sample:
            t0 = time.perf_counter()
            fn(text)
            timings.append(time.perf_counter() - t0)
        ms = np.array(timings) * 1000
        out[name] = {
            "mean": round(float(ms.mean()), 3),
            "p50": round(float(np.percentile(ms, 50)), 3),
            "p99": round(float(np.percentile(ms, 99)), 3),
        }
    return out


def _loaded_size_mib(model: IntentModel) -> float:
    """Heap held by the model once unpickled and compiled for scoring (what a service pays to keep it)."""
    blob = pickle.dumps(model.pipeline)
    tracemalloc.start()
    try:
        loaded = IntentModel(pickle.loads(blob), model.categories, model.temperature)
        current, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del loaded
    return round(current / 2**20, 1)


def _report(m: dict, settings: Settings, echo: Callable[[str], None]) -> None:
    echo(f"trained in {m['train_seconds']} s (temperature {m['temperature']}); model saved to {settings.model_dir}")
    echo(f"Bitext held-out ({m['examples']} utterances, 27 intents, never used for training or tuning):")
    echo(f"  accuracy {m['accuracy']:.4f}   macro-F1 {m['macro_f1']:.4f}   ECE {m['ece']:.4f}")
    echo(
        f"  below min confidence {m['min_confidence']}: {m['below_min_confidence']:.2%} "
        f"(accuracy of the rest {m['accuracy_above_min_confidence']:.4f})"
    )
    worst = sorted(m["per_intent"].items(), key=lambda kv: (kv[1]["f1"], kv[0]))[:5]
    echo("  worst intents: " + ", ".join(f"{k} {v['f1']:.3f}" for k, v in worst))
    lat = m["latency_ms"]
    echo(
        f"inference per ticket: model {lat['model']['mean']:.3f} ms (p99 {lat['model']['p99']:.3f}); "
        f"full classify {lat['classify']['mean']:.3f} ms (p99 {lat['classify']['p99']:.3f}); "
        f"ticket-sized text {lat['classify_ticket_sized']['mean']:.3f} ms"
    )
    echo(f"loaded model memory: {m['loaded_model_mib']} MiB")
    echo("the other evaluation sets: python scripts/eval_intents.py (or make eval)")


def ensure_model(settings: Settings) -> tuple[IntentModel, dict]:
    """Load the saved model, training it first when missing or stale (other data or library versions)."""
    inputs = [settings.bitext_path, settings.kb_path, settings.catalogue_path]
    expected = data_hash(inputs) if all(p.exists() for p in inputs) else None
    try:
        return artifacts.load(settings.model_dir, expected)
    except artifacts.StaleArtifact as exc:
        log.warning("training the intent model", reason=str(exc), model_dir=str(settings.model_dir))
    model, _ = train(settings, echo=lambda line: log.info("train", detail=line))
    return artifacts.load(settings.model_dir)
