"""Reading the Microsoft 365 articles and the store's help pages from the repository's data files."""

import gzip
import json
import pathlib

from supportmesh_core import resolution

from ..domain.articles import KbDoc, help_docs, kb_doc


def read_kb(articles_path: pathlib.Path, help_path: pathlib.Path = resolution.HELP_PATH) -> list[KbDoc]:
    """Every KB article (jsonl, optionally gzipped) followed by the store's help pages."""
    opener = gzip.open if articles_path.suffix == ".gz" else open
    docs = []
    with opener(articles_path, "rt", encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                docs.append(kb_doc(json.loads(line)))
            except (json.JSONDecodeError, ValueError) as exc:
                raise ValueError(f"{articles_path}:{number}: {exc}") from None
    docs.extend(help_docs(resolution.load(help_path=help_path).help.values()))
    return docs
