"""Markdown stripping and error-code extraction shared by indexing and querying."""

import re

# Error codes support customers paste: Windows HRESULTs, Entra ID sign-in codes, SMTP enhanced status codes.
_ERROR_CODE = re.compile(r"\b(0x[0-9a-f]{8}|AADSTS\d{5,}|[45]\.\d\.\d{1,3})\b", re.I)
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_ALERT = re.compile(r"^\s*>\s*\[!\w+\]\s*$", re.M)
_QUOTE = re.compile(r"^\s*>\s?", re.M)
_HTML = re.compile(r"<[^>]+>")
_STAR_BULLET = re.compile(r"^(\s*)\*\s+", re.M)
_EMPHASIS = re.compile(r"\*\*|__|\*|`|(?<!\w)_|_(?!\w)")
_HEADING = re.compile(r"^#{1,6}\s*", re.M)
_ENTITY = re.compile(r"&(nbsp|amp|lt|gt|quot|#39);")
_ENTITIES = {"nbsp": " ", "amp": "&", "lt": "<", "gt": ">", "quot": '"', "#39": "'"}
_BLANKS = re.compile(r"\n{3,}")
_SPACES = re.compile(r"[ \t]{2,}")


def normalize_code(code: str) -> str:
    """One spelling per code so keyword matching is exact: hex lower-case, AADSTS upper-case."""
    code = code.strip()
    if code.lower().startswith("0x"):
        return code.lower()
    if code.upper().startswith("AADSTS"):
        return code.upper()
    return code


def error_codes(text: str) -> list[str]:
    """Distinct error codes in `text`, in order of first appearance."""
    seen: dict[str, None] = {}
    for match in _ERROR_CODE.finditer(text):
        seen.setdefault(normalize_code(match.group(1)), None)
    return list(seen)


def strip_markdown(markdown: str) -> str:
    """Plain text of a markdown article: link text kept, link targets, alerts and markup dropped.

    Line breaks and list markers survive, so ordered steps can still be parsed from the result.
    """
    text = _ALERT.sub("", markdown)
    text = _LINK.sub(r"\1", text)
    text = _REF_LINK.sub(r"\1", text)
    text = _QUOTE.sub("", text)
    text = _HTML.sub("", text)
    text = _STAR_BULLET.sub(r"\1- ", text)
    text = _EMPHASIS.sub("", text)
    text = _HEADING.sub("", text)
    text = _ENTITY.sub(lambda m: _ENTITIES[m.group(1)], text)
    text = _SPACES.sub(" ", text)
    return _BLANKS.sub("\n\n", text).strip()
