"""Redaction of personal data from customer text before it goes into hop records and logs."""

import re
from collections.abc import Iterable

from supportmesh_intent.entities import Entity

_PERSONAL = {"email", "name", "zip", "tracking_id"}
_LONG_DIGITS = re.compile(r"(?<![#\w])\d[\d -]{5,}\d(?!\w)")  # phone and card numbers
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def redact(text: str, entities: Iterable[Entity], known: Iterable[str] = (), limit: int = 300) -> str:
    """`text` with personal entities, the customer's known name/e-mail and long digit runs masked."""
    out = text
    for e in sorted((e for e in entities if e.type in _PERSONAL), key=lambda e: e.start, reverse=True):
        out = f"{out[: e.start]}[{e.type}]{out[e.end :]}"
    for value in known:
        for part in {value, *value.split()} if value else ():
            if len(part) > 2:
                out = re.sub(re.escape(part), "[name]", out, flags=re.IGNORECASE)
    out = _EMAIL.sub("[email]", out)
    out = _LONG_DIGITS.sub("[number]", out)
    flat = " ".join(out.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
