"""The abstractive summary's prompt, and the check that it kept every key fact verbatim."""

from .logs import without_logs
from .model import Turn

INSTRUCTIONS = (
    "You summarize a customer-support conversation for the next support agent. Summarize the conversation "
    "keeping every key fact verbatim: names, e-mail addresses, zip codes, order ids, tracking ids, product "
    "names, amounts, error codes, exception names and every action already taken, spelled exactly as in the "
    "conversation. Say what the customer wants and what has been done so far. Write plain sentences, no "
    "lists, no greetings, nothing that is not in the conversation, at most {words} words.")


def summary_messages(turns: list[Turn], max_tokens: int) -> list[dict[str, str]]:
    """Chat messages asking for the summary of `turns` (pasted logs left out: their salient lines travel apart)."""
    transcript = "\n".join(f"{t.role}: {without_logs(t.text)}" for t in turns)
    # About three words per four tokens, with room to spare for ids, which cost several tokens each.
    words = max(30, max_tokens // 2)
    return [{"role": "system", "content": INSTRUCTIONS.format(words=words)},
            {"role": "user", "content": f"Conversation:\n{transcript}"}]


def missing_facts(summary: str, facts: dict[str, list[str]]) -> list[str]:
    """The fact values the summary does not contain verbatim (case-insensitive), as "kind=value"."""
    text = summary.lower()
    return [f"{kind}={value}" for kind, values in facts.items() for value in values if value.lower() not in text]
