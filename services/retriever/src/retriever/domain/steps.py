"""Ordered steps and snippets from an article's resolution text."""

import re

_NUMBERED = re.compile(r"^(\s*)\d{1,2}[.)]\s+(.+)$")
_BULLET = re.compile(r"^(\s*)[-*+]\s+(.+)$")
MAX_STEPS = 8
MAX_STEP_CHARS = 300
SNIPPET_CHARS = 300


def _items(lines: list[str], pattern: re.Pattern) -> list[tuple[int, str]]:
    return [(len(m.group(1).expandtabs()), m.group(2).strip()) for m in map(pattern.match, lines) if m]


def parse_steps(resolution: str, limit: int = MAX_STEPS) -> list[str]:
    """The resolution's steps: its outermost numbered list items, else its outermost bullet lines.

    Nested items are left out so each step is one instruction at the level the article numbers them.
    """
    lines = resolution.splitlines()
    items = _items(lines, _NUMBERED) or _items(lines, _BULLET)
    if not items:
        return []
    outer = min(indent for indent, _ in items)
    steps = [_clip(text, MAX_STEP_CHARS) for indent, text in items if indent == outer]
    return steps[:limit]


def snippet(description: str, resolution: str, limit: int = SNIPPET_CHARS) -> str:
    """About `limit` characters of the description, or of the resolution when there is none."""
    text = " ".join((description or resolution).split())
    return _clip(text, limit)


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"
