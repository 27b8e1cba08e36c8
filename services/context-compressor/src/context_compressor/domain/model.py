"""The values the compressor works on: a conversation turn and the compressed context."""

from dataclasses import dataclass, field
from typing import Protocol


class Tokenizer(Protocol):
    """Counts and cuts text in model tokens."""

    def count(self, text: str) -> int: ...

    def truncate(self, text: str, max_tokens: int) -> str:
        """The longest prefix of `text` that is at most `max_tokens` tokens."""
        ...


@dataclass(frozen=True)
class Turn:
    role: str          # customer | agent | system
    text: str
    ticket_id: str
    at_unix_ms: int
    facts: dict[str, list[str]] = field(default_factory=dict)   # what this turn told us
    speaker: str = ""  # the customer identity the turn named (supportmesh_core.identity), "" for none or an agent


@dataclass
class Compressed:
    summary: str
    facts: dict[str, str]                 # kind → comma-joined values
    recent_turns: list[Turn]
    log_lines: list[str]
    token_count: int
    original_token_count: int
    turn_count: int
