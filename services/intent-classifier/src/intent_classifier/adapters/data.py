"""Reads the bundled training data: Bitext utterances, knowledge-base articles and our own example files."""

import csv
import gzip
import hashlib
import io
import json
import pathlib
from importlib import resources
from importlib.resources.abc import Traversable

from ..domain.examples import Example

# out_of_scope_broad.txt: out-of-domain lines across many more domains and styles, incl. requests meant for other
# companies; read as out_of_scope like out_of_scope.txt, weighted BROAD_WEIGHT (domain/training.py).
OWN_DATA_FILES = ("out_of_scope.txt", "out_of_scope_broad.txt", "out_of_scope_broad2.txt", "out_of_scope_broad3.txt",
                  "technical_support.txt",
                  "retail_tickets.txt")
# Ticket-shaped requests by independent authors, one file each (`intent | text`, all 29 intents): a model
# trained on one writer's tickets fits that writer; each further voice widens what it has seen.
AUTHORS_DIR = "authors"


def read_bitext(path: pathlib.Path) -> list[Example]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or not {"instruction", "intent", "category"} <= rows[0].keys():
        raise ValueError(f"{path} does not look like the Bitext CSV (instruction, intent, category columns)")
    return [
        Example(r["instruction"].strip(), r["intent"].strip(), r["category"].strip())
        for r in rows
        if r["instruction"].strip()
    ]


def read_kb_titles(path: pathlib.Path) -> list[tuple[str, str]]:
    """(title, description) of every knowledge-base article, in file order."""
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                doc = json.loads(line)
                if doc.get("title"):
                    out.append((doc["title"], doc.get("description") or ""))
    return out


def _data_file(name: str) -> Traversable:
    return resources.files("intent_classifier").joinpath("data", *name.split("/"))


def read_own_lines(name: str) -> list[str]:
    """Non-comment lines of one of the example files shipped inside the package."""
    text = _data_file(name).read_text(encoding="utf-8")
    return [ln.strip() for ln in io.StringIO(text) if ln.strip() and not ln.lstrip().startswith("#")]


def read_own_pairs(name: str) -> list[tuple[str, str]]:
    """(intent, text) pairs from a package example file written as `intent | text` lines."""
    pairs = []
    for number, line in enumerate(read_own_lines(name), 1):
        intent, sep, text = line.partition("|")
        if not sep or not intent.strip() or not text.strip():
            raise ValueError(f"{name}: entry {number} is not 'intent | text': {line!r}")
        pairs.append((intent.strip(), text.strip()))
    return pairs


def author_files() -> list[str]:
    """The independent authors' ticket files, in name order (`authors/<name>.txt`)."""
    folder = _data_file(AUTHORS_DIR)
    return sorted(f"{AUTHORS_DIR}/{f.name}" for f in folder.iterdir() if f.name.endswith(".txt"))


def read_author_pairs() -> list[tuple[str, str]]:
    """(intent, text) pairs of every author file."""
    return [pair for name in author_files() for pair in read_own_pairs(name)]


def data_hash(paths: list[pathlib.Path]) -> str:
    """SHA-256 over the training inputs (external files and the package's own example files)."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    for name in (*OWN_DATA_FILES, *author_files()):
        digest.update(_data_file(name).read_bytes())
    return digest.hexdigest()


def read_product_names(path: pathlib.Path) -> list[str]:
    """The catalogue's product names (e.g. "Office Chair") from the retail database, sorted."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        products = json.load(fh).get("products") or {}
    names = sorted({p["name"].strip() for p in products.values() if p.get("name", "").strip()})
    if not names:
        raise ValueError(f"{path} has no product names")
    return names
