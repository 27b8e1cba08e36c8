"""Compression of a conversation into a context that fits a token budget.

The context is: an extractive summary of the earlier turns, the key facts, the last turns verbatim
and the salient lines of pasted logs. Its token count is the sum of what a downstream prompt would
carry: the summary, one "kind: values" line per fact, one "role: text" per turn and each log line.
When over budget it gives up, in this order, summary sentences (newest first, so the opening
problem survives), the older verbatim turns, log lines, the tail of the latest turn, and finally
facts, so the result always fits.
"""

import re

from .facts import joined, merge_facts
from .logs import salient_log_lines, without_logs
from .model import Compressed, Tokenizer, Turn

RECENT_TURNS = 2
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def summarize(turns: list[Turn], facts: dict[str, list[str]]) -> list[str]:
    """Extractive summary: each turn's first sentence, plus any later sentence that states a fact."""
    values = [v.lower() for vs in facts.values() for v in vs if len(v) > 2]
    picked: list[str] = []
    for turn in turns:
        said = sentences(without_logs(turn.text))
        for i, sentence in enumerate(said):
            lower = sentence.lower()
            if i == 0 or any(v in lower for v in values):
                line = f"{turn.role.capitalize()}: {sentence}"
                if line not in picked:
                    picked.append(line)
    return picked


def _turn_text(turn: Turn) -> str:
    return f"{turn.role}: {turn.text}"


def compress(turns: list[Turn], tokenizer: Tokenizer, budget: int, recent: int = RECENT_TURNS) -> Compressed:
    """The context for the conversation's last turn, within `budget` tokens.

    Args:
        turns: the conversation so far, oldest first, ending with the turn being handled.
        tokenizer: counts tokens as the downstream model would.
        budget: the most tokens the context may hold.
        recent: how many of the last turns are kept verbatim.
    """
    if budget <= 0:
        raise ValueError(f"token budget must be positive, got {budget}")
    facts = merge_facts(*(t.facts for t in turns))
    earlier, last = turns[:-recent] if recent else turns, turns[-recent:] if recent else []
    summary = summarize(earlier, facts)
    fact_map = joined(facts)
    logs = salient_log_lines([t.text for t in turns])
    count = tokenizer.count
    original = sum(count(_turn_text(t)) for t in turns)

    fact_cost = sum(count(f"{k}: {v}") for k, v in fact_map.items())
    log_costs = [count(line) for line in logs]
    turn_costs = [count(_turn_text(t)) for t in last]
    summary_costs = [count(s) for s in summary]

    def total() -> int:
        return sum(summary_costs) + fact_cost + sum(turn_costs) + sum(log_costs)

    while summary_costs and total() > budget:
        summary.pop()
        summary_costs.pop()
    while len(last) > 1 and total() > budget:
        last.pop(0)
        turn_costs.pop(0)
    while logs and total() > budget:
        logs.pop()
        log_costs.pop()
    if last and total() > budget:
        whole = last[-1]
        keep = budget - (total() - turn_costs[-1]) - count(f"{whole.role}: ")
        # Token boundaries can shift where the text is cut, so shrink until the cut really fits.
        while keep > 0 and total() > budget:
            cut = tokenizer.truncate(whole.text, keep)
            last[-1] = Turn(whole.role, cut, whole.ticket_id, whole.at_unix_ms, whole.facts)
            turn_costs[-1] = count(_turn_text(last[-1]))
            keep -= 1
    while fact_map and total() > budget:
        key = next(reversed(fact_map))
        fact_cost -= count(f"{key}: {fact_map.pop(key)}")
    if last and total() > budget:
        last, turn_costs = [], []

    return Compressed(summary="\n".join(summary), facts=fact_map, recent_turns=last, log_lines=logs,
                      token_count=total(), original_token_count=original, turn_count=len(turns))
