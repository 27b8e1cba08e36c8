"""Compression of a conversation into a context that fits a token budget.

The context is: the key facts, an extractive summary of the earlier turns, the last turns verbatim
and the salient lines of pasted logs. Its token count is the sum of what a downstream prompt would
carry: one "kind: values" line per fact kind, the summary, one "role: text" per turn and each log line.

What the customer said outranks what the agent said: the customer's facts come first in each kind
and the agent's are kept only a few per kind (an agent listing six variants with prices is not six
facts of the case); the summary keeps the customer's opening turn whole, later customer turns' first
sentences, and any sentence, of either side, that brings a new customer fact or an action taken.

When over budget it gives up, in this order, summary sentences (newest first, so the opening
problem survives), the older verbatim turns, the agent's facts, log lines, the tail of the latest
turn, and finally the customer's facts (last kinds first), so the result always fits.
"""

import re

from .facts import joined, merge_facts
from .logs import salient_log_lines, without_logs
from .model import Compressed, Tokenizer, Turn

RECENT_TURNS = 2
AGENT_VALUES_PER_KIND = 3
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def key_facts(turns: list[Turn]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(the customer's facts, the agent's other facts): each kind's values in order of mention."""
    customer = merge_facts(*(t.facts for t in turns if t.role != "agent"))
    agent = merge_facts(*(t.facts for t in turns if t.role == "agent"))
    extra = {}
    for kind, values in agent.items():
        new = [v for v in values if v not in customer.get(kind, [])]
        if new:
            # Actions the agent took are the case's history; other agent values are capped.
            extra[kind] = new if kind == "actions_taken" else new[:AGENT_VALUES_PER_KIND]
    return customer, extra


def summarize(turns: list[Turn], facts: dict[str, list[str]], actions: tuple[str, ...] = ()) -> list[str]:
    """Extractive summary of `turns`, each sentence once.

    The customer's opening turn is kept whole (it says who they are and what they want); after it, a
    customer turn's first sentence when it says something new (five words or more, no fact repeated),
    and any sentence of either side that brings a fact or an action not yet in the summary.

    Args:
        turns: the turns to summarize, oldest first.
        facts: the facts whose mention makes a sentence worth keeping (the customer's).
        actions: actions already taken, by either side; a sentence naming one is kept too.
    """
    values = [v.lower() for vs in facts.values() for v in vs if len(v) > 2] + [a.lower() for a in actions]
    picked: list[str] = []
    seen: set[str] = set()
    told: set[str] = set()
    opening = next((i for i, t in enumerate(turns) if t.role == "customer"), None)
    for n, turn in enumerate(turns):
        for i, sentence in enumerate(sentences(without_logs(turn.text))):
            lower = sentence.lower()
            key = " ".join(lower.split())
            mentioned = {v for v in values if v in lower}
            # A later turn's first sentence tells what it is about, unless it only repeats known facts.
            leads = i == 0 and turn.role != "agent" and not mentioned and len(key.split()) >= 5
            if (n == opening or mentioned - told or leads) and key not in seen:
                seen.add(key)
                told |= mentioned
                picked.append(f"{turn.role.capitalize()}: {sentence}")
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
    customer_facts, agent_facts = key_facts(turns)
    earlier, last = turns[:-recent] if recent else turns, turns[-recent:] if recent else []
    actions = tuple(merge_facts(customer_facts, agent_facts).get("actions_taken", []))
    summary = summarize(earlier, customer_facts, actions)
    logs = salient_log_lines([t.text for t in turns])
    count = tokenizer.count
    original = sum(count(_turn_text(t)) for t in turns)

    # (kind, value, said by the customer); dropped from the end, so the agent's values go first.
    fact_items = [(k, v, True) for k, vs in customer_facts.items() for v in vs]
    fact_items += [(k, v, False) for k, vs in agent_facts.items() for v in vs]
    fact_items.sort(key=lambda item: not item[2])

    def fact_map() -> dict[str, str]:
        grouped: dict[str, list[str]] = {}
        for kind, value, _ in fact_items:
            grouped.setdefault(kind, []).append(value)
        return joined(grouped)

    fact_cost = sum(count(f"{k}: {v}") for k, v in fact_map().items())
    log_costs = [count(line) for line in logs]
    turn_costs = [count(_turn_text(t)) for t in last]
    summary_costs = [count(s) for s in summary]

    def total() -> int:
        return sum(summary_costs) + fact_cost + sum(turn_costs) + sum(log_costs)

    def drop_fact(customer: bool) -> bool:
        nonlocal fact_cost
        for i in range(len(fact_items) - 1, -1, -1):
            if fact_items[i][2] == customer:
                del fact_items[i]
                fact_cost = sum(count(f"{k}: {v}") for k, v in fact_map().items())
                return True
        return False

    while summary_costs and total() > budget:
        summary.pop()
        summary_costs.pop()
    while len(last) > 1 and total() > budget:
        last.pop(0)
        turn_costs.pop(0)
    while total() > budget and drop_fact(customer=False):
        pass
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
    while total() > budget and drop_fact(customer=True):
        pass
    if last and total() > budget:
        last, turn_costs = [], []

    return Compressed(summary="\n".join(summary), facts=fact_map(), recent_turns=last, log_lines=logs,
                      token_count=total(), original_token_count=original, turn_count=len(turns))
