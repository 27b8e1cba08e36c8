"""Turning the Microsoft 365 articles and the store's help pages into the documents the KB index holds."""

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from supportmesh_core.resolution import HelpPage

from .text import error_codes, strip_markdown

HELP_AREA = "store-help"
# learn.microsoft.com publishes OfficeDocs-Support under this prefix; the URL is derived from the
# article's repository path, not taken from the data, so a moved article may redirect.
LEARN_BASE = "https://learn.microsoft.com/en-us/troubleshoot/"

_SECTION = re.compile(r"^(#{2,3})\s+(.+?)\s*#*\s*$", re.M)
_RESOLUTION_HEADING = re.compile(
    r"^(resolution|solution|workaround|to resolve|troubleshooting steps|how to fix|fix\b)", re.I)


@dataclass(frozen=True)
class KbDoc:
    """One document of the KB index; field names are the index mapping's."""

    id: str
    title: str
    description: str
    product_area: str
    applies_to: list[str]
    body: str
    url: str
    resolution: str
    error_codes: list[str] = field(default_factory=list)

    def source(self) -> dict:
        return asdict(self)


def resolution_section(markdown: str) -> str:
    """The markdown of every Resolution / Solution / Workaround section, in article order.

    A section runs to the next heading of the same or a higher level, so its sub-headings
    (e.g. "### Method 1") stay inside it.
    """
    headings = [(m.start(), m.end(), len(m.group(1)), m.group(2)) for m in _SECTION.finditer(markdown)]
    parts = []
    for i, (_, end, level, text) in enumerate(headings):
        if not _RESOLUTION_HEADING.match(text):
            continue
        stop = next((h[0] for h in headings[i + 1:] if h[2] <= level), len(markdown))
        parts.append(markdown[end:stop].strip())
    return "\n\n".join(p for p in parts if p)


def kb_doc(raw: dict) -> KbDoc:
    """The index document for one record of office_support_articles.jsonl."""
    try:
        article_id, markdown = raw["id"], raw["body_markdown"]
    except KeyError as exc:
        raise ValueError(f"KB record lacks field {exc.args[0]!r}") from None
    path = raw.get("path") or article_id
    return KbDoc(
        id=article_id,
        title=raw.get("title") or article_id,
        description=raw.get("description") or "",
        product_area=raw.get("product_area") or "",
        applies_to=list(raw.get("applies_to") or []),
        body=strip_markdown(markdown),
        url=LEARN_BASE + re.sub(r"\.md$", "", path),
        resolution=strip_markdown(resolution_section(markdown)),
        error_codes=error_codes(markdown),
    )


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def help_docs(pages: Iterable[HelpPage]) -> list[KbDoc]:
    """The store's help pages, one document each: the customer-facing side of the store's knowledge.

    The agent policy (data/retail/policy.md) is not indexed: it is written for agents, decides through the
    policy code, and must never be quoted to a customer.
    """
    return [KbDoc(id=p.id, title=p.title, description=p.text, product_area=HELP_AREA,
                  applies_to=["retail store"], body=p.text, url="", resolution=p.text, error_codes=[])
            for p in pages]


def content_hash(docs: Iterable[KbDoc], mapping: dict) -> str:
    """A version of the index contents: changes when any document or the mapping changes."""
    digest = hashlib.sha256(json.dumps(mapping, sort_keys=True).encode())
    for doc in docs:
        digest.update(json.dumps(doc.source(), sort_keys=True).encode())
    return digest.hexdigest()[:16]
