"""Reading the knowledge base and the store policy from the repository's data files."""

import gzip
import json
import pathlib

from ..domain.articles import KbDoc, kb_doc, policy_docs


def read_kb(articles_path: pathlib.Path, policy_path: pathlib.Path) -> list[KbDoc]:
    """Every KB article (jsonl, optionally gzipped) followed by the policy's sections."""
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
    docs.extend(policy_docs(policy_path.read_text(encoding="utf-8")))
    return docs
