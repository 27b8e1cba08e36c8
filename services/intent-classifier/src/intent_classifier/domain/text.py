"""Text normalisation applied before vectorising, so ids, codes and amounts generalise as tokens."""

import re

# Order matters: the more specific shapes are replaced before the generic digit runs.
_REPLACEMENTS = (
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), " emailaddr "),
    (
        re.compile(r"\b0x[0-9a-f]{4,8}\b|\baadsts\d{4,}\b|\b[a-z]{2,10}-\d{2,6}\b|\b\d{1,2}-\d{3,4}\b"),
        " errorcode ",
    ),
    (re.compile(r"#?\bw\d{7}\b"), " idnum "),
    (
        re.compile(r"[$€£]\s?\d[\d,]*(?:\.\d+)?|\b\d[\d,]*(?:\.\d+)?\s?(?:usd|eur|gbp|dollars?|euros?)\b"),
        " amount ",
    ),
    (re.compile(r"#?\b\d{6,}\b"), " idnum "),
)
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Lower-case text with e-mails, error codes, ids and amounts replaced by placeholder words."""
    text = text.lower()
    for pattern, placeholder in _REPLACEMENTS:
        text = pattern.sub(placeholder, text)
    return _SPACES.sub(" ", text).strip()
