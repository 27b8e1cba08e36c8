"""A postal address the customer writes out ("101 Highway, New York, 10001", "445 Maple Drive, Suite 394, Fort
Worth, TX 76165"), read into the store's parts (address1, address2, city, state, country, zip).

Only what the text says is taken; a missing state is the one its zip code belongs to (US zip prefixes), the
country the United States when the state is one of its states. Anything that cannot be read whole (no house
number, no zip, no city) is no address: the reply asks for it instead of guessing. The customer sees the
address read before anything is written (the proposal quotes it and waits for a "yes").
"""

import re

# The store's address parts, in its order (writes.ADDRESS_PARTS).
PARTS = ("address1", "address2", "city", "state", "country", "zip")
COUNTRY = "USA"

STATES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA", "colorado": "CO",
    "connecticut": "CT", "delaware": "DE", "district of columbia": "DC", "florida": "FL", "georgia": "GA",
    "hawaii": "HI", "idaho": "ID", "illinois": "IL", "indiana": "IN", "iowa": "IA", "kansas": "KS",
    "kentucky": "KY", "louisiana": "LA", "maine": "ME", "maryland": "MD", "massachusetts": "MA", "michigan": "MI",
    "minnesota": "MN", "mississippi": "MS", "missouri": "MO", "montana": "MT", "nebraska": "NE", "nevada": "NV",
    "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM", "new york": "NY", "north carolina": "NC",
    "north dakota": "ND", "ohio": "OH", "oklahoma": "OK", "oregon": "OR", "pennsylvania": "PA",
    "rhode island": "RI", "south carolina": "SC", "south dakota": "SD", "tennessee": "TN", "texas": "TX",
    "utah": "UT", "vermont": "VT", "virginia": "VA", "washington": "WA", "west virginia": "WV",
    "wisconsin": "WI", "wyoming": "WY",
}
CODES = set(STATES.values())
# First three digits of a zip code → its state (USPS prefixes).
_ZIP_RANGES = (
    (10, 27, "MA"), (28, 29, "RI"), (30, 38, "NH"), (39, 49, "ME"), (50, 54, "VT"), (55, 55, "MA"),
    (56, 59, "VT"), (60, 69, "CT"), (70, 89, "NJ"), (100, 149, "NY"), (150, 196, "PA"), (197, 199, "DE"),
    (200, 200, "DC"), (201, 201, "VA"), (202, 205, "DC"), (206, 219, "MD"), (220, 246, "VA"), (247, 268, "WV"),
    (270, 289, "NC"), (290, 299, "SC"), (300, 319, "GA"), (320, 349, "FL"), (350, 369, "AL"), (370, 385, "TN"),
    (386, 397, "MS"), (398, 399, "GA"), (400, 427, "KY"), (430, 459, "OH"), (460, 479, "IN"), (480, 499, "MI"),
    (500, 528, "IA"), (530, 549, "WI"), (550, 567, "MN"), (569, 569, "DC"), (570, 577, "SD"), (580, 588, "ND"),
    (590, 599, "MT"), (600, 629, "IL"), (630, 658, "MO"), (660, 679, "KS"), (680, 693, "NE"), (700, 714, "LA"),
    (716, 729, "AR"), (730, 749, "OK"), (750, 799, "TX"), (800, 816, "CO"), (820, 831, "WY"), (832, 838, "ID"),
    (840, 847, "UT"), (850, 865, "AZ"), (870, 884, "NM"), (885, 885, "TX"), (889, 898, "NV"), (900, 961, "CA"),
    (967, 968, "HI"), (970, 979, "OR"), (980, 994, "WA"), (995, 999, "AK"),
)
_SUFFIXES = (r"street|st|avenue|ave|road|rd|drive|dr|lane|ln|boulevard|blvd|way|court|ct|highway|hwy|place|pl|"
             r"terrace|ter|circle|cir|parkway|pkwy|square|sq|trail|trl|alley|plaza|loop|row|path")
_UNIT = re.compile(r"^(?:apt|apartment|suite|ste|unit|floor|fl|room|rm|#)\.?\s*#?\s*\w+", re.I)
_UNIT_INSIDE = re.compile(r"\s+((?:apt|apartment|suite|ste|unit|floor|fl|room|rm)\.?\s*#?\s*\w+|#\s*\w+)$", re.I)
# From a house number to a zip code, within one sentence ("St." and "Apt." do not end it).
_SPAN = re.compile(r"(?<![\w#-])(\d{1,6}[A-Za-z]?[ \t]+[A-Za-z][^;!?\n]{2,140}?)\b(\d{5})(?:-\d{4})?\b"
                   r"(?:\s*,?\s*(USA|US|U\.S\.A?\.?|United States(?: of America)?))?", re.I)
_STATE_AT_END = re.compile(r"(?:,\s*|\s+)(" + "|".join(sorted((re.escape(s) for s in STATES), key=len, reverse=True))
                           + r"|[A-Z]{2})\.?$", re.I)


def state_of_zip(zip_code: str) -> str:
    prefix = int(zip_code[:3])
    return next((state for lo, hi, state in _ZIP_RANGES if lo <= prefix <= hi), "")


def parse_address(text: str) -> tuple[str, ...]:
    """The first address the text writes out whole, as (address1, address2, city, state, country, zip); ()
    when there is none."""
    for candidate in (text, _one_line(text)):
        for m in _SPAN.finditer(candidate):
            found = _read(m.group(1), m.group(2))
            if found:
                return found
    return ()


# An address written one part a line, perhaps as a list ("- 455 Market Street, Floor 3\n- San Francisco, CA
# 94105\n- USA"): its lines joined with commas, the list marks dropped.
_LINE_BREAK = re.compile(r"[ \t]*\n[ \t]*(?:[-*•][ \t]+)?")


def _one_line(text: str) -> str:
    return _LINE_BREAK.sub(", ", text)


def _read(body: str, zip_code: str) -> tuple[str, ...]:
    body = body.strip().rstrip(",").strip()
    if re.search(r"[.](?:\s|$)", re.sub(rf"\b(?:{_SUFFIXES}|apt|ste|fl|rm|u\.s)\.", "", body, flags=re.I)):
        return ()   # a sentence ends in between: the number and the zip belong to different things
    state = ""
    if end := _STATE_AT_END.search(body):
        word = end.group(1)
        code = STATES.get(word.lower()) or (word.upper() if word.upper() in CODES and
                                            (word.isupper() or end.group(0).lstrip().startswith(",")) else "")
        before = body[:end.start()].strip().rstrip(",").strip()
        # "101 Highway, New York, 10001": a state's name right after the street is the city (the zip tells the
        # state).
        if code and "," in before or (code and not end.group(0).startswith(",") and "," not in before):
            state, body = code, before
    segments = [s.strip() for s in body.split(",") if s.strip()]
    if not segments:
        return ()
    street, unit = segments[0], ""
    rest = segments[1:]
    if len(segments) == 1:
        # No commas: the street ends at its suffix word ("123 Main St Apt 4 Springfield").
        m = re.match(rf"^(.*?\b(?:{_SUFFIXES})\b\.?)\s+(.+)$", street, re.I)
        if not m:
            return ()
        street, rest = m.group(1), [m.group(2)]
    if rest and _UNIT.fullmatch(rest[0]):
        unit, rest = rest[0], rest[1:]
    elif inside := _UNIT_INSIDE.search(street):
        unit, street = inside.group(1), street[:inside.start()]
    if rest and not unit and (m := re.match(r"^((?:apt|apartment|suite|ste|unit|#)\.?\s*#?\s*\w+)\s+(.+)$",
                                            rest[0], re.I)):
        unit, rest = m.group(1), [m.group(2), *rest[1:]]
    if len(rest) != 1 or not re.fullmatch(r"[A-Za-z][A-Za-z .'-]{1,40}", rest[0]):
        return ()
    city = rest[0].strip()
    if not re.match(r"^\d{1,6}[A-Za-z]?\s+\S", street):
        return ()
    zip_state = state_of_zip(zip_code)
    if not state:
        state = zip_state
    elif zip_state and state != zip_state:
        return ()   # a state and a zip that disagree: ask rather than write a wrong one
    if not state:
        return ()
    return (_tidy(street), _tidy(unit), _tidy(city), state, COUNTRY, zip_code)


def _tidy(value: str) -> str:
    words = " ".join(value.split()).rstrip(".,")
    return " ".join(w[:1].upper() + w[1:] if w.islower() else w for w in words.split())


def words(address: tuple[str, ...]) -> str:
    """The address as the customer reads it: "445 Maple Drive, Suite 394, Fort Worth, TX 76165, USA"."""
    a = dict(zip(PARTS, address, strict=True))
    head = ", ".join(x for x in (a["address1"], a["address2"], a["city"]) if x)
    return f"{head}, {a['state']} {a['zip']}, {a['country']}"
