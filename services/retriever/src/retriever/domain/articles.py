"""Turning the raw knowledge base and the store policy into the documents the KB index holds."""

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from .text import error_codes, strip_markdown

POLICY_AREA = "store-policy"
# learn.microsoft.com publishes OfficeDocs-Support under this prefix; the URL is derived from the
# article's repository path, not taken from the data, so a moved article may redirect.
LEARN_BASE = "https://learn.microsoft.com/en-us/troubleshoot/"
POLICY_URL = "data/retail/policy.md"

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


def policy_docs(markdown: str) -> list[KbDoc]:
    """The store policy split at its `##` and `###` headings, one document per section.

    The text before the first `##` becomes its own section under the document's `#` title. A `###`
    section's title carries its parent's ("Modify pending order: Modify payment") so it reads alone.
    """
    title_match = re.search(r"^#\s+(.+)$", markdown, re.M)
    doc_title = title_match.group(1).strip() if title_match else "Store policy"
    headings = list(_SECTION.finditer(markdown))
    first = headings[0].start() if headings else len(markdown)
    intro = markdown[title_match.end() if title_match else 0:first]
    sections = [(doc_title, intro)]
    parent = ""
    for i, m in enumerate(headings):
        level, heading = len(m.group(1)), m.group(2).strip()
        if level == 2:
            parent = heading
        stop = headings[i + 1].start() if i + 1 < len(headings) else len(markdown)
        title = heading if level == 2 or not parent else f"{parent}: {heading}"
        sections.append((title, markdown[m.end():stop]))
    docs = []
    for title, text in sections:
        body = strip_markdown(text)
        if not body:
            continue
        slug = slugify(title)
        docs.append(KbDoc(
            id=f"policy:{slug}", title=title, description=body.split("\n\n", 1)[0][:500],
            product_area=POLICY_AREA, applies_to=["retail store"], body=body,
            url=f"{POLICY_URL}#{slug}", resolution=body, error_codes=[],
        ))
    return docs


def content_hash(docs: Iterable[KbDoc], mapping: dict) -> str:
    """A version of the index contents: changes when any document or the mapping changes."""
    digest = hashlib.sha256(json.dumps(mapping, sort_keys=True).encode())
    for doc in docs:
        digest.update(json.dumps(doc.source(), sort_keys=True).encode())
    return digest.hexdigest()[:16]
