"""Builds labelled examples: first-person problem statements from knowledge-base articles, and the merge."""

import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

TECHNICAL = "technical_support"
OUT_OF_SCOPE = "out_of_scope"
EXTRA_CATEGORIES = {TECHNICAL: "TECHNICAL", OUT_OF_SCOPE: "OTHER"}

# Product names keep their capital when a title is turned into the middle of a sentence.
_PROPER = {
    "Outlook",
    "Exchange",
    "Teams",
    "Word",
    "Excel",
    "PowerPoint",
    "Office",
    "Windows",
    "Azure",
    "Skype",
    "Intune",
    "Access",
    "Project",
    "Visio",
    "Publisher",
    "Planner",
    "Yammer",
    "Dynamics",
    "Bookings",
    "Forms",
    "Lync",
    "Stream",
    "Microsoft",
    "OneDrive",
    "SharePoint",
    "OneNote",
    "Entra",
    "Viva",
    "Copilot",
}
_CANT = re.compile(r"^(?:can't|cannot|can not|unable to|couldn't|could not)\s+", re.IGNORECASE)
_HOW_TO = re.compile(r"^(?:troubleshoot(?:ing)?|fix(?:ing)?|resolve|resolving|how to)\s+", re.IGNORECASE)
_SYMPTOM = re.compile(
    r"\b(?:error|errors|fail|fails|failed|failure|crash|crashes|doesn't|don't|isn't|aren't|won't|not|stops?|"
    r"hangs?|issues?|problems?|ndr|exception|missing|slow|delay|incorrect|unexpected|denied|blocked)\b",
    re.IGNORECASE,
)
_DESC_LEAD = re.compile(
    r"^(?:this article )?(?:fixes|describes|resolves|discusses|explains|addresses|"
    r"provides a (?:fix|resolution) for)\s+(?:an?|the)\s+(issue|problem|error|scenario|behavior)\s+",
    re.IGNORECASE,
)
_PRONOUNS = (
    (re.compile(r"\byou're\b", re.IGNORECASE), "I'm"),
    (re.compile(r"\byourself\b", re.IGNORECASE), "myself"),
    (re.compile(r"\byours\b", re.IGNORECASE), "mine"),
    (re.compile(r"\byour\b", re.IGNORECASE), "my"),
    (
        re.compile(
            r"\b(from|to|for|with|lets|allows|tells|asks|prompts|prevents|requires|gives)\s+you\b",
            re.IGNORECASE,
        ),
        r"\1 me",
    ),
    (re.compile(r"\byou\b", re.IGNORECASE), "I"),
)

_CANT_TEMPLATES = (
    "I can't {rest}",
    "Hi, I can't {rest}. Can you help?",
    "For some reason I cannot {rest}",
    "I'm unable to {rest}, what should I do?",
    "We can't {rest} since this morning",
    "help, i cant {rest}",
)
_SYMPTOM_TEMPLATES = (
    "I'm having a problem: {title}",
    "{title}. How do I fix this?",
    "We have an issue: {title}",
    "Since the last update: {title}",
    "{title} - please help",
    "getting this problem on my side: {title}",
    "Is there a fix for this? {title}",
)
_HOW_TO_TEMPLATES = (
    "I need help with {rest}",
    "I have {rest} and don't know how to fix it",
    "Can you help me sort out {rest}?",
    "we are dealing with {rest}",
)
_TASK_VERBS = {
    "add",
    "assign",
    "change",
    "configure",
    "convert",
    "create",
    "delete",
    "deploy",
    "disable",
    "enable",
    "export",
    "import",
    "install",
    "manage",
    "migrate",
    "move",
    "reconnect",
    "recover",
    "remove",
    "reset",
    "restore",
    "set",
    "share",
    "turn",
    "update",
    "upgrade",
    "use",
    "view",
}
_TASK_TEMPLATES = (
    "How do I {task}? It isn't working for me",
    "I'm trying to {task} but it doesn't work",
    "I keep failing to {task}",
)
_GENERIC_TEMPLATES = (
    "I have a problem with {title}",
    "{title} is not working for me",
    "Need technical help: {title}",
    "Something is wrong with {title} on my computer",
)
_DESC_TEMPLATES = (
    "I have {noun} {rest}",
    "Hello, I think I hit {noun} {rest}",
    "There's {noun} {rest}",
)


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    category: str


def _mid_sentence(phrase: str) -> str:
    """Lower-case the first word unless it is a product name or an acronym."""
    first, _, rest = phrase.partition(" ")
    if first in _PROPER or not first[:1].isupper() or not first[1:].islower():
        return phrase
    return f"{first.lower()} {rest}".rstrip()


def _first_person(text: str) -> str:
    for pattern, repl in _PRONOUNS:
        text = pattern.sub(repl, text)
    return text


def problem_statement(title: str, description: str, rng: random.Random) -> str:
    """A customer's first-person description of the problem an article's title or description names."""
    title = title.strip().rstrip(".")
    desc = description.strip().rstrip(".")
    lead = _DESC_LEAD.match(desc)
    if lead and rng.random() < 0.35:
        rest = _first_person(desc[lead.end() :])
        noun = lead.group(1).lower()
        noun = f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"
        return rng.choice(_DESC_TEMPLATES).format(noun=noun, rest=rest)
    if cant := _CANT.match(title):
        return rng.choice(_CANT_TEMPLATES).format(rest=_mid_sentence(title[cant.end() :]))
    if how := _HOW_TO.match(title):
        return rng.choice(_HOW_TO_TEMPLATES).format(rest=_mid_sentence(title[how.end() :]))
    if _SYMPTOM.search(title):
        template = rng.choice(_SYMPTOM_TEMPLATES)
        return template.format(title=title if template.startswith("{") else _mid_sentence(title))
    phrase = _mid_sentence(title)
    if phrase.split(" ", 1)[0] in _TASK_VERBS:
        return rng.choice(_TASK_TEMPLATES).format(task=phrase)
    return rng.choice(_GENERIC_TEMPLATES).format(title=phrase)


def technical_examples(articles: Sequence[tuple[str, str]], count: int, seed: int) -> list[Example]:
    """`count` problem statements from distinct articles (so no article leaks across the hold-out split)."""
    rng = random.Random(seed)
    chosen = rng.sample(list(articles), min(count, len(articles)))
    out = []
    for title, description in chosen:
        text = problem_statement(title, description, rng)
        if rng.random() < 0.25:
            text = text.lower()  # customers often type without capitals, as in the Bitext utterances
        out.append(Example(text, TECHNICAL, EXTRA_CATEGORIES[TECHNICAL]))
    return out


def own_examples(lines: Iterable[str], intent: str) -> list[Example]:
    return [Example(line, intent, EXTRA_CATEGORIES[intent]) for line in lines]


def deduplicated(examples: Iterable[Example]) -> list[Example]:
    """Drops repeated texts (case-insensitive), keeping the first label seen, so no text is in both splits."""
    seen: set[str] = set()
    out = []
    for ex in examples:
        key = " ".join(ex.text.lower().split())
        if key not in seen:
            seen.add(key)
            out.append(ex)
    return out
