"""Ordered steps and snippets from an article's resolution text."""

import re

_NUMBERED = re.compile(r"^(\s*)(\d{1,2})[.)]\s+(.+)$")
_BULLET = re.compile(r"^(\s*)[-*+]\s+(.+)$")
# Long enough for a whole procedure of the articles (most have 5 to 12 steps; the fix is often among the last).
MAX_STEPS = 12
MAX_STEP_CHARS = 300
SNIPPET_CHARS = 300


def parse_steps(resolution: str, limit: int = MAX_STEPS) -> list[str]:
    """The resolution's first procedure: its outermost numbered items up to a list that starts again at 1 (the
    next procedure, e.g. a registry alternative), else its outermost bullet lines.

    Nested items are left out so each step is one instruction at the level the article numbers them, except
    under a step that ends with a colon ("Open Control Panel, and then do one of the following:"): those are
    the step's own words and are kept in it.
    """
    lines = resolution.splitlines()
    numbered = [m for m in map(_NUMBERED.match, lines) if m]
    if numbered:
        outer = min(len(m.group(1).expandtabs()) for m in numbered)
        steps: list[list[str]] = []
        for line in lines:
            m = _NUMBERED.match(line)
            if m and len(m.group(1).expandtabs()) == outer:
                if m.group(2) == "1" and steps:
                    break
                steps.append([m.group(3).strip()])
                continue
            nested = m or _BULLET.match(line)
            if nested and steps and steps[-1][0].endswith(":"):
                steps[-1].append(nested.groups()[-1].strip())
        return [_clip(" ".join(step), MAX_STEP_CHARS) for step in steps][:limit]
    bullets = [(len(m.group(1).expandtabs()), m.group(2).strip()) for m in map(_BULLET.match, lines) if m]
    if not bullets:
        return _paragraphs(resolution)
    outer = min(indent for indent, _ in bullets)
    return [_clip(text, MAX_STEP_CHARS) for indent, text in bullets if indent == outer][:limit]


_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MARKUP = re.compile(r"\*\*|__|`|<br\s*/?>|:::[^:]*:::")
MAX_PROSE_STEPS = 3


def _paragraphs(resolution: str) -> list[str]:
    """A resolution written as prose ("To resolve this issue, select the Review tab … Unshare Workbook"): its
    first paragraphs, each one step, links and markup reduced to their words (headings and notes left out)."""
    out = []
    for block in re.split(r"\n\s*\n", resolution):
        text = " ".join(_MARKUP.sub("", _LINK.sub(r"\1", block)).split())
        if not text or text.startswith(("#", ">", "|")) or text.lower().startswith(("note", "for more information")):
            continue
        out.append(_clip(text, MAX_STEP_CHARS))
        if len(out) == MAX_PROSE_STEPS:
            break
    return out


def snippet(description: str, resolution: str, limit: int = SNIPPET_CHARS) -> str:
    """About `limit` characters of the description, or of the resolution when there is none."""
    text = " ".join((description or resolution).split())
    return _clip(text, limit)


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"
