"""Key facts by regex: the ids, contacts, amounts, codes, products and actions a conversation mentions."""

import functools
import re
from collections.abc import Iterable

FACT_KINDS = ("names", "emails", "zip", "order_ids", "tracking_ids", "products", "amounts", "error_codes", "exceptions",
              "actions_taken")

_PATTERNS = {
    "order_ids": re.compile(r"#?\b(W\d{7})\b", re.I),
    "emails": re.compile(r"\b([\w.+-]+@[\w-]+(?:\.[\w-]+)+)\b"),
    "zip": re.compile(r"\b(?:zip|postal|postcode)(?:\s*code)?\s*(?:is|:|#)?\s*(\d{5})(?:-\d{4})?\b", re.I),
    "amounts": re.compile(r"(?<![\w.])([$€£]\s?\d[\d,]*(?:\.\d{2})?"
                          r"|\d[\d,]*(?:\.\d{2})?\s?(?:USD|EUR|GBP|dollars)\b)", re.I),
    # The store's carriers use 12-digit tracking numbers; a word before it keeps phone numbers out.
    "tracking_ids": re.compile(r"\b(?:tracking|track|shipment|parcel)\b[^\d\n]{0,25}(\d{10,22})\b", re.I),
    "error_codes": re.compile(r"\b(0x[0-9a-f]{8}|AADSTS\d{5,}|[45]\.\d\.\d{1,3}|HTTP\s?[45]\d\d)\b", re.I),
    # Exception and error class names of stack traces: java.net.SocketTimeoutException, PermissionError.
    "exceptions": re.compile(r"(?<![\w.])((?:[A-Za-z]\w*\.)*[A-Z][a-z]\w*(?:Exception|Error))\b"),
    "names": re.compile(r"\b(?:my name is|this is|i am|i'm)\s+([A-Z][a-z]+(?:\s+[A-Z][a-z]+){1,2})\b"),
    "actions_taken": re.compile(
        r"\b(?:i|we)(?:'ve| have)?\s+(?:already\s+)?((?:tried|restarted|reinstalled|rebooted|cleared|reset|"
        r"updated|removed|deleted|recreated|re-created|repaired|contacted|checked|disabled|enabled|cancell?ed|"
        r"returned|changed|called|emailed)\b(?:(?!\s+(?:and|but|then|so)\b)[^.;!?\n]){0,60})", re.I),
}
# Entity types of the classifier, mapped onto fact kinds.
_ENTITY_KINDS = {"order_id": "order_ids", "email": "emails", "name": "names", "zip": "zip",
                 "amount": "amounts", "tracking_id": "tracking_ids", "error_code": "error_codes",
                 "product": "products"}


def _normalize(kind: str, value: str) -> str:
    value = " ".join(value.split()).strip(" ,")
    if kind == "order_ids":
        return "#" + value.lstrip("#").upper()
    if kind == "emails":
        return value.lower()
    if kind == "error_codes":
        return value.lower() if value.lower().startswith("0x") else value.upper()
    return value


def extract_facts(text: str, entities: list[tuple[str, str]] = (),
                  products: Iterable[str] = ()) -> dict[str, list[str]]:
    """Facts in `text` plus the classifier's entities, each kind's values distinct and in order of mention.

    `products` is the store's catalogue of product names: a mention in any case ("the t-shirt") is
    recorded under the catalogue's spelling ("T-Shirt").
    """
    found: dict[str, list[str]] = {}
    for kind, value in ((_ENTITY_KINDS.get(t), v) for t, v in entities):
        if kind and value.strip():
            _add(found, kind, _normalize(kind, value))
    for kind, pattern in _PATTERNS.items():
        for match in pattern.finditer(text):
            _add(found, kind, _normalize(kind, match.group(1)))
    catalogue = tuple(products)
    if catalogue:
        spelling = {name.lower(): name for name in catalogue}
        for match in _catalogue_pattern(catalogue).finditer(text):
            _add(found, "products", spelling[match.group(1).lower()])
    return found


@functools.lru_cache(maxsize=4)
def _catalogue_pattern(names: tuple[str, ...]) -> re.Pattern:
    # Longest first, so "Smart Watch" is not read as "Watch"; an optional plural "s" after the name.
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])({alternatives})(?:e?s)?(?![\w-])", re.I)


def merge_facts(*fact_sets: dict[str, list[str]]) -> dict[str, list[str]]:
    """Union of fact sets, earlier mentions first."""
    merged: dict[str, list[str]] = {}
    for facts in fact_sets:
        for kind, values in facts.items():
            for value in values:
                _add(merged, kind, value)
    return merged


def joined(facts: dict[str, list[str]]) -> dict[str, str]:
    """The facts map as the envelope carries it: kind → comma-joined values, known kinds first."""
    order = [k for k in FACT_KINDS if k in facts] + sorted(k for k in facts if k not in FACT_KINDS)
    return {k: ", ".join(facts[k]) for k in order if facts[k]}


def _add(facts: dict[str, list[str]], kind: str, value: str) -> None:
    if value and value not in facts.setdefault(kind, []):
        facts[kind].append(value)
