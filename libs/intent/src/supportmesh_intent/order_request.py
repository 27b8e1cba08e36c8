"""The `order_request` marker: the customer asks, in their own words, for one of the store's writes.

A cheap, deterministic reading that does not depend on the model's intent: a ticket mixing a request with a
question ("I want to return everything, refunded to PayPal rather than the card") often reads as the question
(`check_payment_methods`), or spreads its probability below the confidence floor, though the analyst's request
splitter would tell the request from the verbs. The marker routes such a ticket through the analyst
(`request_workflows` in workflows.yaml).

Kept narrow, since a wrong marker proposes a write: a write verb (return / send back, exchange / swap, cancel,
change / modify / switch / update an item, an option or the address) with its object, or an order wanted "sent /
delivered to" another place ("I want it sent to my office: …"), asked for by the customer
("I want to", "I'd like to", "me want to", "please", "could you", an imperative opening a sentence or after
"just"). Not counted: a verb inside a condition or a question clause ("if I want to return it", "do I need to
return it?", "how do returns work?", "can I return …?"), a negated one, the past ("I returned it last week"),
a verb whose object is not an order (a subscription, the password, the phone number, "return the favour"), and
any ticket about a purchase made elsewhere ("the jacket I bought at Zara"). The ticket must also name something
of an order (an order id, a catalogue product or its last word, "order", "items", "everything", the address).
"""

import re
from collections.abc import Iterable

ORDER_REQUEST = "order_request"

# The write verbs, each with its object: a determiner, a pronoun or "everything" ("cancel or return everything"
# keeps the first verb). "return to", "change my mind" and the like have no such object.
_OBJECT = (r"(?:my|the|it|this|that|these|those|them|both|all|one|a|an|its|our|everything|order|orders|item|"
           r"items|each|some|every|\#?w\d{7})\b")
_VERB = (rf"(?:return|send\s+(?:(?:it|them|this|that|these|those|everything|(?:my|the|both)\s+\w+(?:\s+\w+)?)\s+)?back"
         rf"|exchange|swap|switch|cancel|change|modify|update|replace)"
         rf"(?:\s+or\s+(?:return|exchange|cancel|change|modify))?\s+(?:(?:all\s+)?of\s+)?{_OBJECT}")
# Who asks: the customer wanting it, or asking us to do it.
_ASK = (r"(?:\b(?:i|me|we)\s+(?:really\s+|also\s+|just\s+|now\s+|would\s+|do\s+)?"
        r"(?:want|wanna|need|wish|would\s+like|'d\s+like|would\s+love|'d\s+love|am\s+hoping)(?:\s+to)?"
        r"|\band\s+(?:also\s+|just\s+|really\s+)?(?:want|wish|need|would\s+like|'d\s+like)\s+to"
        r"|\bi'?d\s+like\s+to|\bi\s+am\s+writing\s+to|\bi'm\s+writing\s+to"
        r"|\b(?:can|could|would|will)\s+you\s+(?:please\s+|kindly\s+)?|\bplease\b|\bkindly\b"
        r"|(?:^|[.!?:;\n]\s*|\bjust\s+|\bthen\s+))")
_REQUEST = re.compile(rf"{_ASK}\s*(?:(?:please|kindly|just|also|now|simply)\s+)*(?P<verb>{_VERB})", re.I)
# An order sent somewhere else: "I want it sent to my office: 1449 Mission St", "please have my pending order
# #W… delivered to my sister's place" (the object comes before the verb, so _VERB does not see it).
_SEND_TO = re.compile(
    rf"{_ASK}\s*(?:have\s+|get\s+)?(?P<verb>(?:it|them|(?:my|the|this|that)\s+(?:pending\s+)?(?:order|package|parcel)"
    rf"(?:\s+\#?w\d{{7}})?)\s+(?:sent|shipped|delivered|redirected|forwarded)\s+to\s+(?!me\b|us\b|you\b)"
    rf"(?:my|our|the|a|an|\d))", re.I)
# The clause before the verb opens a condition or a question ("if I want to return", "how do I cancel").
_OPEN_CLAUSE = re.compile(r"\b(?:if|whether|unless|in case|how|what|why|when|where|which)\b[^,;:]*$", re.I)
_NEGATED = re.compile(r"\b(?:not|never|no longer|n't)\s+(?:\w+\s+){0,3}$", re.I)
# A question asked about the customer's own duty or right ("do I need to return it?", "should I cancel it?").
_OWN_QUESTION = re.compile(r"\b(?:do|does|did|should|must|shall|am|can|could|may|will|would)\s+(?:i|we|me)\b", re.I)
# What a change verb may act on that is not an order of this store.
_NOT_AN_ORDER = re.compile(
    r"^[^.!?;\n]{0,40}?\b(?:subscription|membership|account|newsletter|plan|password|e-?mail|username|user name|"
    r"phone number|mobile|number|name|mind|favou?r|call|calls|message|booking|reservation|flight|appointment|"
    r"meeting|contract|insurance|policy|card|"
    r"payment method|password|language|settings|notification|review|rating|profile picture)s?\b", re.I)
# A purchase from another shop: the ticket is not about our orders.
_ELSEWHERE = re.compile(
    r"\b(?:another|a different|other|some other)\s+(?:store|shop|website|site|retailer|seller|company|vendor|"
    r"merchant|marketplace)\b"
    r"|\b(?:amazon|ebay|walmart|target|ikea|best buy|costco|zara|h&m|etsy|aliexpress|temu|shein|wayfair|"
    r"netflix|spotify|apple store)\b", re.I)
_BOUGHT_AT = re.compile(
    r"\b(?:bought|ordered|purchased|got)\b[^.!?\n]{0,40}?\b(?:at|from|on|with|through|via)\s+"
    r"(?!(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|April|May|June|July|"
    r"August|September|October|November|December|You|Your|Our|This|The|My)\b)[A-Z][\w&'-]+")
_ORDER_WORDS = re.compile(r"\b(?:orders?|ordered|items?|everything|all (?:the )?things|purchases?|purchased|"
                          r"package|parcel|address|pending|\#?w\d{7})\b", re.I)
_SENTENCE_START = re.compile(r"[.!?\n]")


def is_order_request(text: str, products: Iterable[str] = ()) -> bool:
    """True when the customer's own words ask for one of the store's writes (see the module's rules)."""
    if _ELSEWHERE.search(text) or _BOUGHT_AT.search(text):
        return False
    if not _names_an_order(text, products):
        return False
    return any(_asks(text, m) for m in (*_REQUEST.finditer(text), *_SEND_TO.finditer(text)))


def _asks(text: str, m: re.Match) -> bool:
    verb_at = m.start("verb")
    start = max((s.end() for s in _SENTENCE_START.finditer(text, 0, m.start() + 1)), default=0)
    lead = text[start:m.start()] + text[m.start():verb_at]
    if _OPEN_CLAUSE.search(lead) or _NEGATED.search(text[start:verb_at]):
        return False
    end = _SENTENCE_START.search(text, m.end())
    sentence = text[start:end.end() if end else len(text)]
    asks_us = re.search(r"\b(?:can|could|would|will)\s+you\b", lead, re.I)
    if sentence.rstrip().endswith("?") and not asks_us and _OWN_QUESTION.search(sentence):
        return False
    if sentence.rstrip().endswith("?") and not asks_us and not re.search(r"\b(?:i|me|we)\b", lead, re.I):
        return False
    after = text[verb_at + len(m.group("verb").split()[0]):]
    return not (_NOT_AN_ORDER.search(after) and not _ORDER_BEFORE_OBJECT.search(after))


# "change the address of my order", "cancel the order and my subscription": an order word before the
# non-order word keeps the request.
_ORDER_BEFORE_OBJECT = re.compile(
    r"^\s+(?:(?:my|the|this|that|all|both|of)\s+)*(?:\w+\s+){0,2}?(?:orders?|items?|address|\#?w\d{7})\b", re.I)


def _names_an_order(text: str, products: Iterable[str]) -> bool:
    if _ORDER_WORDS.search(text):
        return True
    lowered = text.lower()
    for name in products:
        for form in {name.lower(), name.lower().split()[-1], name.lower().split()[-1].replace("-", "")}:
            if re.search(rf"\b{re.escape(form)}s?\b", lowered):
                return True
    return False
