"""Reads a short follow-up turn as the customer's answer to a proposal: yes, no, or neither (en/es/de/fr)."""

import re

YES, NO = "yes", "no"
# A confirmation is a short answer; a longer turn is a new request even when it starts with "yes".
MAX_WORDS = 12

_YES_PHRASES = (
    # English
    "yes", "yeah", "yep", "yup", "sure", "ok", "okay", "confirm", "confirmed", "i confirm", "go ahead",
    "please go ahead", "please do", "do it", "please proceed", "proceed", "that's right", "correct",
    "sounds good",
    # Spanish
    "sí", "si", "claro", "adelante", "confirmo", "lo confirmo", "de acuerdo", "vale", "hazlo", "proceda",
    "por favor procedan", "adelante por favor",
    # German
    "ja", "jawohl", "genau", "bestätige", "ich bestätige", "bestätigt", "einverstanden", "machen sie das",
    "bitte ausführen", "in ordnung",
    # French
    "oui", "d'accord", "allez-y", "je confirme", "confirmé", "vas-y", "bien sûr", "c'est bon",
)
_NO_PHRASES = (
    "no", "nope", "don't", "do not", "never mind", "no thanks", "no thank you", "please don't", "i don't want",
    "no gracias", "no lo hagas", "nein", "nicht", "bitte nicht", "non", "non merci", "ne le faites pas",
)
_HEDGES = {"not", "don't", "no", "nicht", "pas", "but", "pero", "aber", "mais"}
_WORD = re.compile(r"[\w'’-]+", re.UNICODE)


def _starts_with(words: list[str], phrase: str) -> bool:
    parts = phrase.split()
    return words[: len(parts)] == parts


def read_reply(text: str) -> str:
    """`yes` or `no` when the turn answers a proposal, else "" (its first words decide)."""
    words = [w.replace("’", "'") for w in _WORD.findall(text.lower())]
    if not words or len(words) > MAX_WORDS:
        return ""
    if any(_starts_with(words, p) for p in _NO_PHRASES):
        return NO
    if any(_starts_with(words, p) for p in _YES_PHRASES):
        # "Yes, but do not cancel it" is no plain yes: neither answer is safe to act on.
        return "" if any(w in _HEDGES for w in words[1:]) else YES
    return ""
