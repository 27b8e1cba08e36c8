"""The model artifact on disk: the fitted pipeline and temperature (joblib pickle), its metadata (labels,
categories, the catalogue's product names for entity extraction, versions) and hold-out metrics."""

import csv
import io
import json
import os
import pathlib
import platform
import tempfile
from collections.abc import Iterable
from typing import Protocol

import joblib
import numpy
import sklearn
from supportmesh_core.settings import REPO_ROOT

from .intent_model import IntentModel

# 3: the pickled pipeline's text preprocessor moved to supportmesh_intent.text; a format-2 pickle names the old module.
FORMAT_VERSION = 3
MODEL_FILE = "model.pkl"  # the name the Makefile checks for
METADATA_FILE = "metadata.json"
METRICS_FILE = "metrics.json"
HOLDOUT_FILE = "bitext_holdout.csv"  # the Bitext utterances held out of training, for `supportmesh eval`
MODEL_DIR_VARIABLE = "SUPPORTMESH_MODEL_DIR"  # also read by the intent-classifier's settings, with the same default


class Labelled(Protocol):
    """A held-out utterance (the trainer's examples)."""

    text: str
    intent: str


def default_model_dir() -> pathlib.Path:
    """Where `make train` saves the model: $SUPPORTMESH_MODEL_DIR, else artifacts/intent-classifier."""
    return pathlib.Path(os.environ.get(MODEL_DIR_VARIABLE) or REPO_ROOT / "artifacts" / "intent-classifier")


class StaleArtifact(Exception):
    """The artifact is missing or was built by other code or data; it has to be trained again."""


def versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "joblib": joblib.__version__,
    }


def _write_atomically(path: pathlib.Path, data: bytes) -> None:
    # Replicas starting together may train at once; readers must never see a half-written file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; services may run as another user than `make train`
        os.replace(tmp, path)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise


def holdout_csv(held_out: Iterable[Labelled]) -> bytes:
    """The held-out utterances as a `text,intent` CSV."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["text", "intent"])
    writer.writerows((e.text, e.intent) for e in held_out)
    return buffer.getvalue().encode()


def save(
    model_dir: pathlib.Path, model: IntentModel, metadata: dict, metrics: dict, held_out: Iterable[Labelled]
) -> None:
    """Write the model, the held-out split, the metrics, then the metadata that marks the artifact complete."""
    model_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=model_dir, prefix=f".{MODEL_FILE}.")
    os.close(fd)
    try:
        joblib.dump(
            {"pipeline": model.pipeline, "categories": model.categories, "temperature": model.temperature},
            tmp,
            compress=3,
        )
        os.chmod(tmp, 0o644)
        os.replace(tmp, model_dir / MODEL_FILE)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise
    meta = {
        "format_version": FORMAT_VERSION,
        "labels": model.labels,
        "categories": model.categories,
        "versions": versions(),
        **metadata,
    }
    _write_atomically(model_dir / HOLDOUT_FILE, holdout_csv(held_out))
    _write_atomically(model_dir / METRICS_FILE, json.dumps(metrics, indent=2).encode())
    _write_atomically(model_dir / METADATA_FILE, json.dumps(meta, indent=2).encode())


def read_metadata(model_dir: pathlib.Path) -> dict:
    path = model_dir / METADATA_FILE
    if not path.exists() or not (model_dir / MODEL_FILE).exists():
        raise StaleArtifact(f"no model in {model_dir}")
    return json.loads(path.read_text())


def load(model_dir: pathlib.Path, expected_data_hash: str | None = None) -> tuple[IntentModel, dict]:
    """The saved model and its metadata; StaleArtifact when it must be retrained first."""
    meta = read_metadata(model_dir)
    if meta.get("format_version") != FORMAT_VERSION:
        raise StaleArtifact(f"artifact format {meta.get('format_version')} != {FORMAT_VERSION}")
    built_with = meta.get("versions", {}).get("scikit-learn")
    if built_with != sklearn.__version__:
        raise StaleArtifact(f"model built with scikit-learn {built_with}, running {sklearn.__version__}")
    if expected_data_hash and meta.get("data_sha256") != expected_data_hash:
        raise StaleArtifact("training data changed since the model was built")
    saved = joblib.load(model_dir / MODEL_FILE)
    model = IntentModel(saved["pipeline"], saved["categories"], saved["temperature"])
    if model.labels != meta["labels"]:
        raise StaleArtifact("model labels do not match its metadata")
    return model, meta
