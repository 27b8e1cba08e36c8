"""The resolution contract per intent (contracts/resolution.yaml) and the store's help pages, loaded and validated."""

import functools
import gzip
import json
import pathlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import yaml

from .settings import REPO_ROOT

CONTRACTS_PATH = pathlib.Path(__file__).with_name("contracts") / "resolution.yaml"
HELP_PATH = REPO_ROOT / "data" / "store" / "help.yaml"
GUIDELINES_PATH = REPO_ROOT / "data" / "retail" / "abcd_guidelines.json.gz"
ELEMENTS = frozenset({"identity", "order_status", "refund_status", "payments", "cancellation_terms",
                      "payment_methods", "default_address", "policy_decision", "help_page", "article_steps",
                      "decline"})
KNOWLEDGE = frozenset({"store", "microsoft365", "none"})
PRIORITIES = ("low", "medium", "high", "urgent")
ALWAYS = "always"
# The classification's `family` when the classifier, unsure between two intents that only ask, routed the ticket
# to be answered for both (intent-classifier workflows.yaml `two_readings`); the generator joins the two replies.
TWO_READINGS = "two_readings"
# The `family` of a write request the classifier routed by its verbs while unsure of the intent: the analyst
# proposes only unconditional requests for it, and the generator answers it only with the analyst's decision.
UNSURE_REQUEST = "unsure_request"


class ContractError(ValueError):
    """The contract or help file is wrong; a service refuses to start with it."""


@dataclass(frozen=True)
class Contract:
    """What a reply to one intent must do."""

    intent: str
    must: str
    elements: tuple[str, ...]
    knowledge: str
    help: tuple[str, ...] = ()
    never: tuple[str, ...] = ()
    escalate: Mapping[str, str] = field(default_factory=dict)   # reason → when ("always" hands every ticket over)
    guideline: str = ""   # "Flow / Subflow" of the agent guidelines a human agent follows for this intent

    @property
    def always_escalates(self) -> str:
        """The reason every ticket of this intent is handed over with, or ''."""
        return next((reason for reason, when in self.escalate.items() if when == ALWAYS), "")


@dataclass(frozen=True)
class SafetyRule:
    """A money or safety marker: handed over at once, with a case in commerce where `case`."""

    reason: str
    priority: str
    case: bool
    told: str   # what the customer is told
    guideline: str = ""


@dataclass(frozen=True)
class HelpPage:
    id: str
    title: str
    text: str


@dataclass(frozen=True)
class Contracts:
    intents: Mapping[str, Contract]
    safety: Mapping[str, SafetyRule]    # in the file's order, which is the order markers are checked in
    never: tuple[str, ...]
    help: Mapping[str, HelpPage]
    guidelines: Mapping[str, tuple[str, ...]] = field(default_factory=dict)   # "Flow / Subflow" → agent actions

    def for_intent(self, intent: str) -> Contract | None:
        return self.intents.get(intent)

    def pages(self, intent: str) -> list[HelpPage]:
        """The help pages the intent's reply quotes, in the contract's order."""
        contract = self.intents.get(intent)
        return [self.help[p] for p in contract.help] if contract else []

    def safety_rule(self, flags: list[str] | tuple[str, ...]) -> SafetyRule | None:
        """The first safety rule (in the file's order) that one of `flags` triggers."""
        return next((rule for reason, rule in self.safety.items() if reason in flags), None)

    def guideline_line(self, intent: str, reason: str = "") -> str:
        """For the human agent's handoff: the guideline to follow and its actions, or ''. For a safety
        rule's `reason` only that rule's guideline counts."""
        rule, contract = self.safety.get(reason), self.intents.get(intent)
        # A safety handoff is about the marker, not the request the ticket also made.
        name = rule.guideline if rule else (contract.guideline if contract else "")
        if not name:
            return ""
        return f"Agent guideline ({name}): " + "; ".join(self.guidelines.get(name, ()))


def parse_help(data: object) -> dict[str, HelpPage]:
    pages = data.get("pages") if isinstance(data, Mapping) else None
    if not isinstance(pages, list) or not pages:
        raise ContractError("help file must have a non-empty 'pages' list")
    result: dict[str, HelpPage] = {}
    for i, raw in enumerate(pages):
        if not isinstance(raw, Mapping) or not all(isinstance(raw.get(k), str) and raw[k].strip()
                                                   for k in ("id", "title", "text")):
            raise ContractError(f"help page {i} needs non-empty 'id', 'title' and 'text'")
        if not raw["id"].startswith("help:") or raw["id"] in result:
            raise ContractError(f"help page id {raw['id']!r} must start with 'help:' and be unique")
        result[raw["id"]] = HelpPage(raw["id"], raw["title"].strip(), " ".join(raw["text"].split()))
    return result


def parse_guidelines(data: object) -> dict[str, tuple[str, ...]]:
    """ABCD's flows as "Flow / Subflow" → the agent's actions in order (their button names)."""
    if not isinstance(data, Mapping):
        raise ContractError("guidelines file must map flows to their subflows")
    found = {}
    for flow, body in data.items():
        for subflow, steps in (body.get("subflows") or {}).items():
            found[f"{flow} / {subflow}"] = tuple(a["button"] for a in steps.get("actions", [])
                                                 if a.get("button") and a["button"] != "N/A")
    return found


def parse_contracts(data: object, help_pages: Mapping[str, HelpPage],
                    guidelines: Mapping[str, tuple[str, ...]] | None = None) -> Contracts:
    """Validate the parsed contract file against the element vocabulary, the help pages and the guidelines."""
    guidelines = guidelines or {}

    def guideline(where: str, raw: Mapping) -> str:
        name = str(raw.get("guideline") or "")
        if name and guidelines and name not in guidelines:
            raise ContractError(f"{where}.guideline {name!r} is not a flow / subflow of the agent guidelines")
        return name

    if not isinstance(data, Mapping) or not isinstance(data.get("intents"), Mapping):
        raise ContractError("contract file must be a mapping with 'global' and 'intents'")
    glob = data.get("global") or {}
    safety = {}
    for reason, raw in (glob.get("safety") or {}).items():
        told = str(raw.get("told", "")).strip() if isinstance(raw, Mapping) else ""
        if not told or raw.get("priority") not in PRIORITIES:
            raise ContractError(f"safety.{reason} needs a priority ({', '.join(PRIORITIES)}) and 'told'")
        safety[str(reason)] = SafetyRule(str(reason), raw["priority"], bool(raw.get("case")),
                                         " ".join(told.split()), guideline(f"safety.{reason}", raw))
    intents = {}
    for intent, raw in data["intents"].items():
        where = f"intents.{intent}"
        if not isinstance(raw, Mapping) or not str(raw.get("must", "")).strip():
            raise ContractError(f"{where} needs 'must': what its reply must do")
        elements = tuple(raw.get("elements") or ())
        if unknown := sorted(set(elements) - ELEMENTS):
            raise ContractError(f"{where}: unknown elements {unknown}; known: {', '.join(sorted(ELEMENTS))}")
        knowledge = raw.get("knowledge")
        if knowledge not in KNOWLEDGE:
            raise ContractError(f"{where}.knowledge must be one of {', '.join(sorted(KNOWLEDGE))}")
        pages = tuple(raw.get("help") or ())
        if missing := [p for p in pages if p not in help_pages]:
            raise ContractError(f"{where}: help pages {missing} are not in the help file")
        if ("help_page" in elements) != bool(pages):
            raise ContractError(f"{where}: the help_page element and a 'help' list go together")
        escalate = raw.get("escalate") or {}
        if not isinstance(escalate, Mapping):
            raise ContractError(f"{where}.escalate must map reasons to when they apply")
        intents[str(intent)] = Contract(
            intent=str(intent), must=" ".join(str(raw["must"]).split()), elements=elements, knowledge=knowledge,
            help=pages, never=tuple(raw.get("never") or ()),
            escalate={str(k): str(v) for k, v in escalate.items()}, guideline=guideline(where, raw))
    return Contracts(intents=intents, safety=safety, never=tuple(glob.get("never") or ()), help=help_pages,
                     guidelines=dict(guidelines))


@functools.cache
def load(contracts_path: pathlib.Path = CONTRACTS_PATH, help_path: pathlib.Path = HELP_PATH,
         guidelines_path: pathlib.Path = GUIDELINES_PATH) -> Contracts:
    """The contracts, help pages and agent guidelines from their files (read once per process)."""
    try:
        help_pages = parse_help(yaml.safe_load(help_path.read_text(encoding="utf-8")))
        with gzip.open(guidelines_path, "rt", encoding="utf-8") as f:
            guidelines = parse_guidelines(json.load(f))
        return parse_contracts(yaml.safe_load(contracts_path.read_text(encoding="utf-8")), help_pages, guidelines)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise ContractError(f"cannot read the resolution contracts: {exc}") from exc


POLICY_PATH = REPO_ROOT / "data" / "retail" / "policy.md"
POLICY_SHINGLE = 8   # words: long enough that a shared fact ("in 5 to 7 business days") is not a quote
_WORD = re.compile(r"[a-z0-9']+")


def _shingles(text: str, size: int = POLICY_SHINGLE) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i:i + size]) for i in range(len(words) - size + 1)}


@functools.cache
def policy_shingles(path: pathlib.Path = POLICY_PATH) -> frozenset[tuple[str, ...]]:
    """Every run of POLICY_SHINGLE words of the agent policy: the wording a customer must never be shown."""
    return frozenset(_shingles(path.read_text(encoding="utf-8")))


def quotes_policy(text: str, path: pathlib.Path = POLICY_PATH) -> str:
    """The first run of the agent policy's own words that `text` repeats, or '' (the contract's global never)."""
    hit = next((s for s in _shingles(text) if s in policy_shingles(path)), None)
    return " ".join(hit) if hit else ""
