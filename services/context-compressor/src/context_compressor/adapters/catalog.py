"""The store's product names, read from the retail database the commerce service is seeded from."""

import gzip
import json
import pathlib


def product_names(path: pathlib.Path) -> tuple[str, ...]:
    """Every product name in `path` (db.json, gzipped or not), sorted; a missing file is an error at start-up."""
    if not path.is_file():
        raise ValueError(f"product catalogue not found: {path} (set COMPRESSOR_CATALOG_PATH)")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        db = json.load(f)
    try:
        return tuple(sorted({p["name"] for p in db["products"].values()}))
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{path} has no products[...].name: {exc}") from None
