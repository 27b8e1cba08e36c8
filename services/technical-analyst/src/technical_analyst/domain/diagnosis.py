"""Technical diagnosis: the error codes of a ticket matched to the best retrieved article and its steps."""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from supportmesh.v1.envelope_pb2 import Article

# Error codes as Microsoft 365 products print them: HRESULTs, Entra sign-in codes, SMTP status codes,
# and whatever follows an explicit "error code".
_CODE_PATTERNS = [
    re.compile(r"\b0x[0-9A-Fa-f]{4,8}\b"),
    re.compile(r"\bAADSTS\d{4,7}\b"),
    re.compile(r"\b[45]\.\d{1,3}\.\d{1,3}\b"),
    re.compile(r"\berror\s+code[:\s#]+([A-Za-z0-9][\w.-]{2,})", re.IGNORECASE),
]


@dataclass(frozen=True)
class Diagnosis:
    """What the symptoms point to, and the ordered steps to fix it, with the article they come from."""

    text: str
    steps: list[str]
    article_id: str
    error_codes: list[str]


def error_codes(entity_codes: Sequence[str], log_lines: Sequence[str]) -> list[str]:
    """The codes the classifier found plus those in the pasted logs, first mention first, no repeats."""
    found: list[str] = [c.strip() for c in entity_codes if c.strip()]
    for line in log_lines:
        for pattern in _CODE_PATTERNS:
            for match in pattern.finditer(line):
                found.append(match.group(match.lastindex or 0))
    seen: set[str] = set()
    unique = []
    for code in found:
        if code.lower() not in seen:
            seen.add(code.lower())
            unique.append(code)
    return unique


def diagnose(codes: Sequence[str], articles: Sequence[Article]) -> Diagnosis | None:
    """The diagnosis grounded in the retrieved articles; None when there is no article to ground it on."""
    if not articles:
        return None
    top = articles[0]
    # The steps come from the best article that has any, so the reply can cite where they came from.
    source = next((a for a in articles if a.steps), top)
    if codes:
        noun, verb = ("codes", "match") if len(codes) > 1 else ("code", "matches")
        text = f"The error {noun} {', '.join(codes)} {verb} the known issue \"{top.title}\"."
    else:
        text = f"The symptoms described match the known issue \"{top.title}\"."
    if source is not top:
        text += f" The steps come from \"{source.title}\"."
    return Diagnosis(text=text, steps=list(source.steps), article_id=source.id, error_codes=list(codes))
