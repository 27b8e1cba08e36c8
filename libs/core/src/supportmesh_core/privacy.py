"""Redaction of personal data from free text: e-mail addresses, IBANs, card and phone numbers, street addresses.

One function, `redact`, shared by everything that sends text out of a service: the hop-indexer applies it to
every text field of every hop document (the last line before Elasticsearch), and a model client should apply
it before a prompt leaves for a remote model. It errs towards masking: a mistyped card number or a tracking
number that looks like a phone number is still masked, because leaking one is worse than hiding the other.
"""

import re

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Country code, check digits, then 11-30 letters/digits: run together, or printed in groups of four.
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[A-Z0-9]{11,30}|(?:[ -][A-Z0-9]{4}){2,7}(?:[ -][A-Z0-9]{1,3})?)\b")
# Runs of digits with the separators people type between them; told apart by their digit count below.
_NUMBER = re.compile(r"(?<![\w#/])(?:\+|\(\+?)?\d(?:[\d().\s-]*\d)?\)?(?![\w/])")
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}")
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_STREET_TYPES = (
    "street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|terrace|ter|"
    "square|sq|parkway|pkwy|highway|hwy|circle|cir|trail|trl|alley|crescent|close"
)
_UNIT = r"(?:,?\s*(?:apt|apartment|suite|ste|unit|floor|fl|#)\.?\s*#?\w+)?"
_STREET_EN = re.compile(
    rf"\b\d{{1,6}}[a-z]?\s+(?:[A-Za-z][\w'.-]*\s+){{1,4}}(?:{_STREET_TYPES})\b\.?{_UNIT}", re.IGNORECASE)
# "Hauptstraße 5", "Via Roma 12", "12 rue de Rivoli", "Calle Mayor 3": the number after or before the name.
_STREET_EU = re.compile(
    r"\b(?:[\w'-]*(?:straße|strasse|str\.|weg|gasse|platz|allee|laan|gracht|straat|vej|gatan|katu)"
    r"|(?:via|viale|piazza|corso|rue|avenue|boulevard|calle|avenida|rua|plaza|ulica)\s+(?:[^\W\d][\w'-]*\s+){0,3}[^\W\d][\w'-]*)"
    r"\s*,?\s*\d{1,5}[a-z]?\b"
    r"|\b\d{1,5}[a-z]?,?\s+(?:rue|avenue|boulevard|chemin|place|allée)\s+(?:[^\W\d][\w'-]*\s+){0,3}[^\W\d][\w'-]*",
    re.IGNORECASE)
# Only address-like lines are masked, not every "Suite 12" or "Unit 4" mentioned in a log line.
_UNIT_ALONE = re.compile(r"\b(?:apt|apartment|suite|ste)\.?\s*#?\d+\w*\b", re.IGNORECASE)

MASKS = ("[email]", "[iban]", "[card]", "[phone]", "[address]")


def _number(match: re.Match) -> str:
    text = match.group(0)
    digits = sum(c.isdigit() for c in text)
    if _DATE.fullmatch(text.strip("()")) or _IPV4.fullmatch(text):
        return text
    if 13 <= digits <= 19:
        return "[card]"
    if 7 <= digits <= 15:
        return "[phone]"
    return text


def redact(text: str) -> str:
    """`text` with personal data replaced by [email], [iban], [card], [phone] and [address]."""
    if not text:
        return text
    out = _EMAIL.sub("[email]", text)
    out = _IBAN.sub("[iban]", out)
    out = _STREET_EN.sub("[address]", out)
    out = _STREET_EU.sub("[address]", out)
    out = _UNIT_ALONE.sub("[address]", out)
    return _NUMBER.sub(_number, out)
