"""`supportmesh classify`: run the trained intent classifier on one text and print its JSON."""

import json
import pathlib
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from supportmesh_intent.classifier import Classifier


class ModelUnavailable(Exception):
    """No usable trained model where the classifier keeps it."""


def load_classifier(model_dir: str = "") -> "Classifier":
    """The classifier saved by `make train` (SUPPORTMESH_MODEL_DIR or `model_dir`), with its product list."""
    # Imported here: scikit-learn takes a second to load, which `publish` and `tail` should not pay.
    from supportmesh_intent import artifacts
    from supportmesh_intent.classifier import Classifier

    path = pathlib.Path(model_dir) if model_dir else artifacts.default_model_dir()
    try:
        model, meta = artifacts.load(path)
    except artifacts.StaleArtifact as exc:
        raise ModelUnavailable(f"{exc}; run `make train` first") from None
    return Classifier(model, meta.get("products", ()))


def classify(text: str, model_dir: str, out: TextIO) -> None:
    from supportmesh_intent.classifier import to_dict

    result = load_classifier(model_dir).classify(text)
    print(json.dumps(to_dict(result), ensure_ascii=False, indent=2), file=out)
