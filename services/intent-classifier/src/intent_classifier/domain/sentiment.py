"""Lexicon sentiment with negation and intensifiers, and the negative markers that can force a handoff."""

import math
import re

# Our own small lexicon, weighted for customer-support language (-3 very negative .. +3 very positive).
_LEXICON = {
    "abysmal": -3,
    "appalling": -3,
    "awful": -3,
    "disgusting": -3,
    "furious": -3,
    "horrible": -3,
    "horrendous": -3,
    "livid": -3,
    "outraged": -3,
    "outrageous": -3,
    "pathetic": -3,
    "terrible": -3,
    "worst": -3,
    "scam": -3,
    "hate": -3,
    "useless": -2.5,
    "unacceptable": -2.5,
    "ridiculous": -2.5,
    "disgraceful": -3,
    "incompetent": -2.5,
    "angry": -2.5,
    "disappointed": -2,
    "disappointing": -2,
    "frustrated": -2,
    "frustrating": -2,
    "annoyed": -2,
    "annoying": -2,
    "upset": -2,
    "bad": -1.5,
    "poor": -1.5,
    "broken": -1.5,
    "damaged": -1.5,
    "defective": -1.5,
    "wrong": -1,
    "late": -1,
    "delayed": -1,
    "missing": -1,
    "lost": -1,
    "never": -0.5,
    "problem": -0.5,
    "issue": -0.5,
    "fail": -1,
    "failed": -1,
    "fails": -1,
    "error": -0.5,
    "crash": -1,
    "crashes": -1,
    "slow": -1,
    "waste": -2,
    "rude": -2.5,
    "unhappy": -2,
    "sad": -1.5,
    "worried": -1,
    "confused": -1,
    "stuck": -1,
    "nightmare": -2.5,
    "joke": -1.5,
    "sucks": -2.5,
    "garbage": -2.5,
    "trash": -2,
    "mess": -1.5,
    "ignored": -2,
    "cheated": -3,
    "misleading": -2,
    "overcharged": -2,
    "complaint": -1,
    "damn": -1.5,
    "bloody": -1,
    "wtf": -2.5,
    "fed": -0.5,
    "sick": -1,
    "tired": -1,
    "worse": -2,
    "never again": -2.5,
    "hacked": -2,
    "dislike": -1.5,
    "charged twice": -1.5,
    "fed up": -2.5,
    "good": 1.5,
    "great": 2,
    "excellent": 3,
    "amazing": 3,
    "awesome": 3,
    "fantastic": 3,
    "perfect": 2.5,
    "love": 2.5,
    "happy": 2,
    "pleased": 2,
    "glad": 1.5,
    "thanks": 1,
    "thank": 1,
    "appreciate": 1.5,
    "helpful": 2,
    "quick": 1,
    "fast": 1,
    "nice": 1.5,
    "wonderful": 3,
    "satisfied": 2,
    "fine": 0.5,
    "resolved": 1.5,
    "works": 1,
    "easy": 1,
    "recommend": 1.5,
    "kind": 1.5,
    "best": 2,
    "impressed": 2.5,
}
_NEGATORS = {
    "not",
    "no",
    "never",
    "none",
    "nothing",
    "neither",
    "nor",
    "without",
    "hardly",
    "barely",
    "cannot",
    "isnt",
    "wasnt",
    "arent",
    "dont",
    "doesnt",
    "didnt",
    "wont",
    "cant",
    "couldnt",
    "havent",
}
_INTENSIFIERS = {
    "very": 1.5,
    "really": 1.4,
    "extremely": 1.8,
    "so": 1.3,
    "totally": 1.5,
    "absolutely": 1.6,
    "completely": 1.5,
    "incredibly": 1.7,
    "super": 1.4,
    "beyond": 1.5,
    "utterly": 1.8,
}
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?|!")
# A negator flips words up to this many tokens after it, unless a clause break comes first.
_NEGATION_SCOPE = 3
_BREAKS = {"but", "however", "although", "though", "!"}

_FLAG_PATTERNS = {
    # "court" alone is also a street ("77 Magnolia Court"): only the phrases that take someone there count.
    "legal": r"\b(?:lawyers?|attorneys?|solicitors?|sue|suing|sued|lawsuit|(?:to|in|into) court|court (?:case|action|"
    r"order|claim)|legal action|litigation|small claims|class action|consumer protection|trading standards|"
    r"better business bureau|abogad[oa]s?|demandar[eé]?|denunciar[eé]?|protecci[oó]n al consumidor|"
    r"anwalt|rechtsanwalt|verbraucherschutz|rechtliche schritte|klage|avocat|poursuites?|tribunal|"
    r"advogad[oa]s?|processo judicial|avvocat[oi]|denuncia|procon)\b",
    "fraud": r"\b(?:fraud|fraudulent|unauthori[sz]ed (?:charges?|transactions?|payments?|purchases?|orders?|access)|"
    r"stolen (?:credit |debit )?card|identity theft|scam(?:med)?|(?:didn'?t|did not|never) (?:make|authori[sz]e|"
    r"place|placed) (?:this|that|these|those|the|an?|any) (?:purchases?|orders?|charges?)|hacked|hacker|"
    r"someone (?:has |had )?(?:been in|got into|broke into|logged into|accessed|is using|used) my account|"
    r"(?:account|password|e-?mail) (?:was|has been|were|got) (?:changed|compromised|taken over) (?:by someone|without)|"
    r"account (?:was|has been|got) compromised|account takeover|"
    r"orders? (?:that )?(?:i|we) (?:never|didn'?t|did not) (?:place|placed|make|made|order|ordered))\b",
    "threat": r"\b(?:kill|hurt|shoot|bomb|burn down|beat up|you'?ll regret|i know where you|watch your back|"
    r"come after you|make (?:you|u)(?: all)? regret|you will regret|you(?:'ll| will) be sorry|"
    r"you(?:'ll| will) pay for this|i(?:'ll| will) find (?:you|out where)|break your (?:neck|legs|face)|"
    r"(?:smash|wreck|trash) (?:up )?your (?:office|store|shop|warehouse))\b",
    # Self-harm is never negation-checked (see flags): "I'm not sure I want to live" must still be seen.
    "self_harm": r"\b(?:kill(?:ing)? myself|end(?:ing)? (?:my|it all)(?: life)?|suicid\w*|want(?:ed)? to die|"
    r"(?:don'?t|do not) want to (?:live|be alive|be here)|(?:hurt|harm)(?:ing)? myself|self[- ]harm|"
    r"no reason to (?:live|go on)|better off dead|take my (?:own )?life)\b",
    "chargeback": r"\b(?:charge ?backs?|(?:filed|opened|raised|started|lodged|open|file) a (?:dispute|claim) with "
    r"(?:my|the) (?:bank|card|credit card|paypal)|"
    r"dispute with (?:my|the) (?:bank|card issuer|credit card company)|"
    r"dispute (?:the|this|a) (?:charge|payment|transaction)|"
    r"(?:reverse|reversing) the (?:charge|payment)|call(?:ing)? my bank|contact(?:ing)? my bank)\b",
    "duplicate_charge": r"\b(?:(?:charged|billed|debited)(?: me)?(?: (?:us)?\$?\d[\d.,]*(?: dollars| usd)?)? "
    r"(?:twice|two times|three times|double|2x)|"
    r"double[- ]?(?:charged?|billed|payment)|duplicate (?:charges?|payments?|transactions?)|"
    r"(?:two|2) (?:identical |separate )?(?:charges|payments|transactions) (?:of|for)|paid (?:for it )?twice|"
    r"cobrad[oa]s? (?:dos|duas) veces|cobrad[oa]s? duas vezes|(?:zweimal|doppelt) (?:abgebucht|belastet|berechnet)|"
    r"d[ée]bit[ée]e?s? deux fois|addebitat[oi] due volte)\b",
    "unexpected_charge": r"\b(?:(?:don'?t|do not|didn'?t|can'?t) recogni[sz]e (?:this|the|a|that|these|an?)(?: \w+)? "
    r"(?:charges?|payments?|transactions?)|charges? (?:that )?i (?:don'?t|do not) recogni[sz]e|"
    r"(?:unknown|unexpected|unrecogni[sz]ed|mystery|strange|random) (?:charges?|fees?|payments?|transactions?)|"
    r"charged (?:me )?(?:for (?:an order|something|items?) )?(?:i|we) (?:never|didn'?t) (?:order|ordered|buy|bought)|"
    r"(?:still|was|got) (?:been )?charged (?:even )?after (?:i )?cancel\w*|"
    r"charged (?:me )?(?:more|extra) than)\b",
    "vip": r"\b(?:vip|platinum (?:member|customer)|premium (?:member|customer)|key account|"
    r"loyal customer for \d+ years)\b",
    "angry": r"\b(?:furious|outraged|livid|unacceptable|ridiculous|disgusting|pathetic|worst|incompetent|"
    r"never again|wtf)\b|!{3,}",
}
_FLAGS = {name: re.compile(p, re.IGNORECASE) for name, p in _FLAG_PATTERNS.items()}
_SHOUTING = re.compile(r"\b[A-Z]{4,}\b")
# Every marker `flags` can report, in its order.
FLAG_NAMES: tuple[str, ...] = tuple(_FLAGS)


def _tokens(text: str) -> list[str]:
    return [t.replace("n't", "nt").replace("'", "") if t.endswith("n't") else t for t in _TOKEN.findall(text)]


def sentiment(text: str) -> float:
    """Polarity in [-1, 1]; negation flips and damps a word ("not happy" is negative); "!" and caps
    amplify negative text."""
    tokens = _tokens(text.lower())
    total = 0.0
    negated_until = -1
    boost = 1.0
    for i, tok in enumerate(tokens):
        if tok in _BREAKS:
            negated_until = -1
        pair = f"{tok} {tokens[i + 1]}" if i + 1 < len(tokens) else ""
        if tok in _NEGATORS and pair not in _LEXICON:
            negated_until = i + _NEGATION_SCOPE
            continue
        if tok in _INTENSIFIERS:
            boost = _INTENSIFIERS[tok]
            continue
        weight = _LEXICON.get(pair, _LEXICON.get(tok))
        if weight is None:
            boost = 1.0
            continue
        weight *= boost
        if i <= negated_until:
            # "not bad" is mildly positive, "not good" clearly negative: flip and damp.
            weight = -weight * 0.6
        total += weight
        boost = 1.0
    if total < 0:
        total *= 1 + 0.1 * min(text.count("!"), 5) + 0.1 * min(len(_SHOUTING.findall(text)), 5)
    return round(math.tanh(total / 4), 3)


# A marker is not raised when a negator stands just before it in the same clause: "I'm not a lawyer",
# "I don't want to sue", "no chargeback needed". "I will not hesitate to call my lawyer" still counts.
_NEGATED_BEFORE = re.compile(
    r"(?:\b(?:not|no|never|nor|without)\b|n't|\bnt\b)(?!\s+(?:hesitate|think twice))"
    r"(?:[ \t]+[\w'’]+){0,3}[ \t]*$",
    re.IGNORECASE,
)
_CLAUSE_BREAK = re.compile(r"[.;:!?,\n]|\b(?:but|however|although|though)\b", re.IGNORECASE)


def _negated(text: str, start: int) -> bool:
    before = text[max(0, start - 60) : start]
    clause = _CLAUSE_BREAK.split(before)[-1]
    return bool(_NEGATED_BEFORE.search(clause))


_NEVER_NEGATED = {"self_harm"}
# "Was I charged three times??" asks whether something happened; it reports nothing yet.
_ASKED = re.compile(
    r"\b(?:was|were|am|is|did|have|has|will|could)\s+(?:i|we|you|it|my card|me)\s+(?:been\s+|being\s+|get\s+)?$",
    re.IGNORECASE)
_QUESTIONABLE = {"duplicate_charge", "unexpected_charge"}


def _asked(text: str, start: int) -> bool:
    return bool(_ASKED.search(text[max(0, start - 30):start]))


def flags(text: str) -> list[str]:
    """The negative markers present, in FLAG_NAMES order. A marker only counts where it is not negated,
    except self-harm: a negated mention of it is still a person to reach out to."""
    found = [
        name
        for name, pattern in _FLAGS.items()
        if any(name in _NEVER_NEGATED
               or not (_negated(text, m.start()) or (name in _QUESTIONABLE and _asked(text, m.start())))
               for m in pattern.finditer(text))
    ]
    if "angry" not in found and len(_SHOUTING.findall(text)) >= 3:
        found.append("angry")
    return found
