"""Entity extraction: order ids, e-mails, zip codes, amounts, tracking ids, error codes, names and the
catalogue's product names."""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Entity:
    """`value` is normalised (e.g. `#W1234567`, `12.50 USD`); `start`/`end` index the matched span."""

    type: str
    value: str
    start: int
    end: int


_ORDER = re.compile(r"(?<![\w#])(#)?(W\d{7})(?!\w)")
# An order id read aloud or dictated: "W three one zero one zero six seven", "W as in whiskey four nine five ...".
_DIGIT_WORDS = {"zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
                "six": "6", "seven": "7", "eight": "8", "nine": "9"}
_DIGIT = r"(?:zero|oh|o|one|two|three|four|five|six|seven|eight|nine|\d)"
_SPOKEN_ORDER = re.compile(rf"(?<![\w#])W(?:\s+as\s+in\s+\w+)?((?:[\s,-]+{_DIGIT}){{7}})(?![\s,-]*{_DIGIT}\b)(?!\w)",
                           re.IGNORECASE)
_ORDER_CONTEXT = re.compile(r"\border\b[\w\s#:.-]{0,15}$", re.IGNORECASE)
# Other shops' numeric order numbers, only right after "order"/"purchase", typed in a hurry or not ("cancel
# purchase 732201349959", "cancel ordedr 3707955617", "where ispurchase 113542617735902").
_ORDER_NUMERIC = re.compile(
    r"(?:order|ord\w{0,2}r|oder|roder|pu\w{0,3}h\w{0,2}es?)(?:\s+(?:number|no\.?|id))?\s*[:#]?\s*"
    r"(\d{5,15})(?![\w.,]\d|\w)",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_ZIP = re.compile(r"(?<![\w$.,-])\d{5}(?:-\d{4})?(?![\w,.]\d|[\w-])")
# "zip 19022", and the words for it in the tickets' other languages (código postal, CEP, PLZ, code postal, CAP).
_ZIP_CONTEXT = re.compile(r"(?:\b(?:zip|zipcode|postal|post code|postcode|cep|plz|postleitzahl|cap|cp)\b|\bc\.p\.)"
                          r"[^\n]{0,20}$", re.IGNORECASE)
_US_STATES = (
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM "
    "NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY"
).split()
_STATE_BEFORE = re.compile(r"(?:,\s*|\s)(?:" + "|".join(_US_STATES) + r")\.?,?\s+$")
_AMOUNT_SYMBOL = re.compile(r"(?<![\d.$€£])([$€£])\s?(\d{1,3}(?:,\d{3})+|\d+)(\.\d{1,2})?(?![\d,]*\d)")
_AMOUNT_CODE = re.compile(
    r"(?<![\w.$€£])(\d{1,3}(?:,\d{3})+|\d+)(\.\d{1,2})?\s?(USD|EUR|GBP|dollars?|euros?|pounds?|bucks)\b",
    re.IGNORECASE,
)
_CURRENCY = {
    "$": "USD",
    "€": "EUR",
    "£": "GBP",
    "dollar": "USD",
    "dollars": "USD",
    "bucks": "USD",
    "euro": "EUR",
    "euros": "EUR",
    "pound": "GBP",
    "pounds": "GBP",
}
_TRACKING = re.compile(r"(?<![\w#])\d{10,14}(?!\w)")
_TRACKING_CONTEXT = re.compile(r"\b(?:tracking|track|shipment|parcel|package)\b[^\n]{0,25}$", re.IGNORECASE)
_ERROR_CODES = (
    re.compile(r"(?<!\w)0x[0-9A-Fa-f]{4,8}(?!\w)"),
    re.compile(r"(?<!\w)AADSTS\d{4,}(?!\w)", re.IGNORECASE),
    re.compile(r"(?<![\w-])[A-Z][A-Z_]{1,11}-\d{2,6}(?![\w-])"),  # vendor codes such as ERR-4012, SYNC-503
    re.compile(r"(?<![\w.])[245]\d\d[ -][245]\.\d{1,3}\.\d{1,3}(?![\w.])"),  # SMTP status, e.g. 550 5.1.10
)
_ERROR_CONTEXT_NUMBER = re.compile(
    r"(?<!zip )(?<!postal )(?<!post )\b(?:error|code)\s*(?:code\s*)?[:#]?\s*(\d{3,8}|[0-9A-F]{8})\b",
    re.IGNORECASE,
)
_NAME = re.compile(
    r"(?i:\b(?:my name is|my name's|i am|i'm|this is|mi nombre es|me llamo|soy|sou|meu nome é|me chamo|"
    r"je m'appelle|je suis|ich bin|ich heiße|ich heisse|mein name ist|hier ist|mi chiamo|sono|il mio nome è)\s+)"
    r"([A-ZÀ-Ý][a-zà-ÿ'’-]+(?:\s+(?:[A-ZÀ-Ý][a-zà-ÿ'’-]+|[A-Z]\.))*)"
)
# "the invoice from Mr. Smith", "bills from David Miller": a title and a surname, or two capitalised words
# (one capitalised word after "from" is usually a place: "ship from Toronto").
_NAME_FROM = re.compile(
    r"(?i:\b(?:from|fromn|frm|rfom|frlm|ffom)\s*)"
    r"((?:Mr|Mrs|Ms|Miss|Dr)\.?\s+[A-Z][a-z'’-]+|[A-Z][a-z'’-]+\s+[A-Z][a-z'’-]+)(?![\w'’-])"
)
# A name signing off a ticket: "Kind regards,\nTom Becker", "Thanks, Maria" at the end of a line.
_NAME_SIGNATURE = re.compile(
    r"(?i:\b(?:thanks|thank you|many thanks|regards|best|cheers|sincerely|best wishes|gracias|saludos|danke|"
    r"viele grüße|grüße|gruß|merci|cordialement|grazie(?: mille)?|saluti|obrigad[oa]|atenciosamente)[,.!]?)"
    r"[ \t]*\n?[ \t]*"
    r"([A-ZÀ-Ý][a-zà-ÿ'’-]+(?:[ \t]+(?:[A-ZÀ-Ý][a-zà-ÿ'’-]+|[A-Z]\.))?)[ \t]*(?:\n|$)"
)
# Capitalised words that follow "I am"/"this is" without being names.
_NOT_NAMES = {
    "A",
    "An",
    "The",
    "Not",
    "Very",
    "So",
    "Really",
    "Still",
    "Just",
    "Writing",
    "Contacting",
    "Trying",
    "Having",
    "Sorry",
    "Here",
    "There",
    "Your",
    "My",
    "Our",
    "Urgent",
    "Ridiculous",
    "Unacceptable",
    "Amazon",
    "Microsoft",
    "Outlook",
    "Office",
    "Teams",
    "Excel",
    "Word",
    "Windows",
    "Hi",
    "Hello",
    "Thanks",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "Happy",
    "Angry",
    "Upset",
    "Sent",
    "Team",
    "Support",
    "Regards",
    "New",
    "San",
    "Los",
    "Las",
    "Santa",
    "St",
    "Saint",
    "Customer",
    "Service",
    "Google",
    "Apple",
    "Pay",
}


def _name_value(raw: str) -> str:
    words = raw.split()
    while words and words[-1] in _NOT_NAMES:
        words.pop()
    return " ".join(words) if words and words[0] not in _NOT_NAMES else ""


@lru_cache(maxsize=8)
def _product_pattern(products: tuple[str, ...]) -> re.Pattern | None:
    if not products:
        return None
    names = sorted(products, key=len, reverse=True)  # "Indoor Security Camera" before "Camera"-like parts
    alternatives = "|".join(re.escape(n).replace(r"\ ", r"[\s-]+").replace(r"\-", r"[\s-]?") for n in names)
    return re.compile(rf"(?<![\w-])({alternatives})(?:e?s)?(?![\w-])", re.IGNORECASE)


def extract_entities(text: str, products: Iterable[str] = ()) -> list[Entity]:
    """All entities in `text`, ordered by position; overlapping matches keep the first type found.
    `products` are the catalogue's product names; a mention is reported with the catalogue's spelling."""
    found: list[Entity] = []

    def add(kind: str, value: str, start: int, end: int) -> None:
        if any(start < e.end and e.start < end for e in found):
            return
        found.append(Entity(kind, value, start, end))

    for m in _EMAIL.finditer(text):
        add("email", m.group(0), m.start(), m.end())
    for m in _ORDER.finditer(text):
        if m.group(1) or _ORDER_CONTEXT.search(text, 0, m.start()):
            add("order_id", "#" + m.group(2), m.start(), m.end())
    for m in _SPOKEN_ORDER.finditer(text):
        digits = "".join(_DIGIT_WORDS.get(w.lower(), w) for w in re.findall(r"\w+", m.group(1)))
        add("order_id", "#W" + digits, m.start(), m.end())
    for m in _ORDER_NUMERIC.finditer(text):
        add("order_id", m.group(1), m.start(1), m.end(1))
    for pattern in _ERROR_CODES:
        for m in pattern.finditer(text):
            add("error_code", m.group(0), m.start(), m.end())
    for m in _ERROR_CONTEXT_NUMBER.finditer(text):
        add("error_code", m.group(1), m.start(1), m.end(1))
    for m in _AMOUNT_SYMBOL.finditer(text):
        add("amount", _amount(m.group(2), m.group(3), _CURRENCY[m.group(1)]), m.start(), m.end())
    for m in _AMOUNT_CODE.finditer(text):
        add(
            "amount",
            _amount(m.group(1), m.group(2), _CURRENCY.get(m.group(3).lower(), m.group(3).upper())),
            m.start(),
            m.end(),
        )
    for m in _TRACKING.finditer(text):
        if _TRACKING_CONTEXT.search(text, max(0, m.start() - 60), m.start()):
            add("tracking_id", m.group(0), m.start(), m.end())
    for m in _ZIP.finditer(text):
        before = text[max(0, m.start() - 40) : m.start()]
        if _ZIP_CONTEXT.search(before) or _STATE_BEFORE.search(before):
            add("zip", m.group(0), m.start(), m.end())
    catalogue = tuple(sorted(set(products)))
    if (pattern := _product_pattern(catalogue)) is not None:
        canonical = {_product_key(n): n for n in catalogue}
        for m in pattern.finditer(text):
            add("product", canonical[_product_key(m.group(1))], m.start(), m.end())
    for regex in (_NAME, _NAME_FROM, _NAME_SIGNATURE):
        for m in regex.finditer(text):
            value = _name_value(m.group(1))
            if value and value.split()[0] not in _NOT_NAMES:
                add("name", value, m.start(1), m.start(1) + len(value))
    return sorted(found, key=lambda e: e.start)


def _product_key(name: str) -> str:
    return re.sub(r"[\s-]+", "", name.lower())


def _amount(whole: str, cents: str | None, currency: str) -> str:
    return f"{float(whole.replace(',', '') + (cents or '')):.2f} {currency}"
