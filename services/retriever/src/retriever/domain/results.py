"""Search hits shaped into the articles downstream stages cite."""

from dataclasses import dataclass

from .steps import parse_steps, snippet


@dataclass(frozen=True)
class ArticleHit:
    id: str
    title: str
    url: str
    score: float
    snippet: str
    steps: list[str]


def articles_from_hits(hits: list[dict]) -> list[ArticleHit]:
    """One ArticleHit per search hit, best first, with its snippet and resolution steps."""
    return [
        ArticleHit(id=h["id"], title=h.get("title", ""), url=h.get("url", ""),
                   score=float(h.get("_score") or 0.0),
                   snippet=snippet(h.get("description", ""), h.get("resolution", "")),
                   steps=parse_steps(h.get("resolution", "")))
        for h in hits
    ]
