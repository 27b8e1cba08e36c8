"""The store's product names written in Spanish, French, German, Italian or Portuguese, read as the catalogue's."""

import functools
import importlib.resources
import re
import unicodedata

import yaml


def _fold(text: str) -> str:
    """Lower case without accents, one character for one, so a match's offsets are the original text's."""
    return "".join(unicodedata.normalize("NFKD", c)[0].lower() if c.isalpha() else c.lower() for c in text)


def _key(form: str) -> str:
    return re.sub(r"[\s-]+", " ", _fold(form)).strip()


@functools.cache
def _names() -> tuple[re.Pattern, dict[str, str]]:
    raw = yaml.safe_load(importlib.resources.files("supportmesh_core").joinpath("data/product_names.yaml")
                         .read_text(encoding="utf-8"))
    english = {}
    for name, forms in raw.items():
        for form in forms:
            key = _key(str(form))
            if english.setdefault(key, name) != name:
                raise ValueError(f"product_names.yaml: {form!r} names both {english[key]} and {name}")
    alternatives = "|".join(re.escape(k).replace(r"\ ", r"[\s-]+") for k in sorted(english, key=len, reverse=True))
    # A plural ending is allowed after the form's last word: "cascos de bicicleta" is not, "mochilas" is.
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?:e?s|e?n|e)?(?![\w-])"), english


@functools.lru_cache(maxsize=512)
def in_english(text: str) -> str:
    """The text with each foreign product name replaced by the catalogue's English name ("devolver el casco de
    bicicleta" → "devolver el Cycling Helmet"); English text comes back as it is."""
    pattern, english = _names()
    folded = _fold(text)
    out, last = [], 0
    for m in pattern.finditer(folded):
        seen = _key(m.group(0))
        # The form itself, or the form with the plural ending the pattern allowed.
        key = next(k for k in (seen, seen[:-1], seen[:-2]) if k in english)
        if english[key].lower() == seen:
            continue
        out += [text[last:m.start()], english[key]]
        last = m.end()
    return "".join(out) + text[last:]
