"""Reads the retail seed document (db.json, optionally gzip-compressed) from disk."""

import gzip
import hashlib
import json
import pathlib
from dataclasses import dataclass

from ..domain.seed import SeedData, parse_seed


@dataclass(frozen=True, slots=True)
class SeedFile:
    path: pathlib.Path
    sha256: str
    data: SeedData


def load_seed(path: pathlib.Path) -> SeedFile:
    """The parsed and checked seed; raises OSError, or BadSeed naming the path and the bad record."""
    raw = path.read_bytes()
    text = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    try:
        data = parse_seed(json.loads(text))
    except ValueError as exc:
        raise type(exc)(f"{path}: {exc}") from exc
    return SeedFile(path=path, sha256=hashlib.sha256(raw).hexdigest(), data=data)
