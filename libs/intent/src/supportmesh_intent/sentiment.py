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
    r"someone (?:else )?(?:has |had |must have )?(?:been in|got into|gotten into|broke into|logged into|accessed|"
    r"is using|has been using|used) (?:my|his|her|our|their) (?:account|card)|"
    r"(?:account|password|e-?mail) (?:was|has been|were|got) (?:changed|compromised|taken over) (?:by someone|without)|"
    r"account (?:was|has been|got) compromised|account takeover|"
    r"(?:password )?reset (?:e-?mails?|links?|codes?) (?:that )?(?:i|we) (?:never|didn'?t|didnt|did not) "
    r"(?:ask|asked|request|requested)|"
    r"(?:cards?|address(?:es)?|e-?mail|phone(?: number)?) (?:on|in|to) my account (?:that )?i (?:don'?t|dont|do not) "
    r"recogni[sz]e|"
    r"orders? (?:that )?(?:i|we) (?:never|didn'?t|did not) (?:place|placed|make|made|order|ordered)|"
    r"(?:he|she|they|my (?:father|mother|dad|mom|mum|husband|wife|partner|son|daughter|grand\w+|parents?)) "
    r"(?:never|didn'?t|did not) (?:buy|bought|order|ordered|make|made)|"
    r"cuenta (?:hackeada|robada)|hackearon|konto (?:wurde )?gehackt|compte (?:a été )?piraté|account (?:è stato )?"
    r"hackerato|conta (?:foi )?(?:hackeada|invadida))\b",
    # Violence against people or property: the words that name it, and the ways people say they will come.
    "threat": r"\b(?:kill|hurt|shoot|stab|bomb|"
    r"burn (?:it |the (?:place|building|store|shop|warehouse) |your \w+ )?down|"
    r"beat (?:you |someone |somebody |him |her )?up|you'?ll regret|i know where (?:you|u|ur|your|the)\b|"
    r"watch your back|come after you|make (?:you|u|someone|somebody|them|him|her|every ?one)(?: all)? "
    r"(?:regret|pay)|you will regret|you(?:'ll| will) be sorry|you(?:'ll| will) pay for this|"
    r"i(?:'ll| will) find (?:you|out where)|break your (?:neck|legs|face)|"
    r"(?:smash|smashing|wreck|trash|destroy) (?:up )?(?:your|the|ur) (?:office|store|shop|warehouse|place|building)|"
    r"smash(?:ing)? everything|(?:coming|come|going) (?:down |over )?there (?:with|and) (?:a |my )?"
    r"(?:crowbar|bat|gun|knife|hammer|smash|make|hurt|teach|sort)|"
    r"(?:be )?waiting (?:for (?:you|them|him|her) )?outside|physically|with a (?:crowbar|baseball bat|gun|knife)|"
    r"te voy a matar|los voy a matar|voy a quemar|ich bring(?:e)? (?:euch|dich|sie) um|ich wei(?:ß|ss) wo|"
    r"je vais vous (?:tuer|trouver)|je sais où|vi ammazzo|so dove (?:abit|sei|siete|state)|vou (?:te|vos|os) matar|"
    r"sei onde (?:fica|voc|vocês|mora))\b",
    # Self-harm is never negation-checked (see flags): "I'm not sure I want to live" must still be seen.
    "self_harm": r"\b(?:kill(?:ing)? myself|end(?:ing)? (?:my life|it all)|suicid\w*|want(?:ed)? to die|"
    r"(?:don'?t|dont|do not) want to (?:live|be alive|be here|wake up|go on)|(?:hurt|harm)(?:ing)? myself|self[- ]harm|"
    r"no (?:reason|point) (?:to|in|of) (?:live|living|go on|going on|being here|anything)|better off dead|"
    r"take my (?:own )?life|(?:don'?t|dont|do not|can'?t|cannot) see (?:the|any) point (?:in|of|to) "
    r"(?:anything|going on|living|life|it all|carrying on|any of it)|(?:everyone|everybody|they|my family) "
    r"(?:would be|is|are|'d be) better off without me|"
    r"(?:sleep|close my eyes|go to bed|lie down)(?: \w+){0,3} and (?:never|not) wake up|"
    r"can'?t go on (?:anymore|like this)|"
    r"nobody would (?:miss|notice) (?:me|if i)|no quiero (?:seguir )?vivir|quitarme la vida|ich will nicht mehr leben|"
    r"mich umbringen|je veux mourir|en finir|non voglio più vivere|farla finita|não quero mais viver|me matar)\b",
    "chargeback": r"\b(?:charge ?backs?|(?:filed|opened|raised|started|lodged|submitted|initiated|open|file|opening|"
    r"filing) (?:a |an )?(?:(?:paypal|bank|card|visa|mastercard|amex|credit card|payment) )?(?:dispute|reversal)|"
    r"(?:filed|opened|raised|lodged|submitted|open|file) a claim with (?:my|the) (?:bank|card|credit card|paypal|visa|"
    r"mastercard|amex|card issuer)|"
    r"dispute (?:with|through|on|via) (?:my|the) (?:bank|card|card issuer|credit card company|paypal|visa|mastercard)|"
    r"dispute (?:the|this|a|that) (?:charge|payment|transaction|purchase)|dispute (?:is )?(?:filed|open|opened)|"
    r"(?:reverse|reversing) the (?:charge|payment)|reversed the (?:\w+ )?(?:charge|payment|transaction)|"
    r"payment reversal|"
    r"call(?:ing)? my bank|contact(?:ing)? my bank|"
    r"r(?:ü|ue)ckbuchung|r(?:ü|ue)cklastschrift|zahlung (?:zur(?:ü|ue)ckgebucht|widerrufen|angefochten)|"
    r"(?:contestar|contestei|contesto|contestando) (?:a|o|la|el|esta|este|essa|esse) (?:compra|pagamento|cobran[cç]a|"
    r"cargo|pago)|disputa (?:en|no|na|com|con|con el|con la) (?:paypal|banco|el banco|tarjeta|la tarjeta|cart[aã]o)|"
    r"(?:abrí|abri|he abierto|abrimos) (?:una|uma) disputa|contestation (?:aupr[eè]s|bancaire|de paiement)|"
    r"opposition (?:bancaire|sur (?:ma|la) carte)|litige (?:paypal|avec (?:ma|la) banque)|"
    r"contestazione (?:con|su|del|presso)|storno (?:della|del|con)|aperto una (?:contestazione|disputa))",
    "duplicate_charge": r"\b(?:(?:charged|billed|debited)(?: me)?(?: (?:us)?\$?\d[\d.,]*(?: dollars| usd)?)? "
    r"(?:twice|two times|three times|double|2x)|"
    r"(?:charged|billed|debited|paid) (?:me |us )?(?:twice|two times|double) for|"
    # "the payment was declined twice" is a failed attempt, not a second charge.
    r"(?:charges?|payments?|orders?|transactions?|amounts?)\b"
    r"(?: (?!declined|rejected|failed|refused|tried)[\w$.,#']+){0,6}"
    r" (?:twice|two times)\b(?! as)|"
    r"(?:shows?|showing|appears?|appearing|listed|went through) (?:up )?twice|"
    r"double[- ]?(?:charged?|billed|payment)|duplicate (?:charges?|payments?|transactions?)|"
    r"(?:two|2) (?:identical |separate |equal )?(?:charges|payments|transactions|debits) (?:of|for)|"
    r"paid (?:for it )?twice|same (?:charge|amount|payment) twice|"
    r"cobr\w* (?:\S+ ){0,4}(?:dos|duas) (?:veces|vezes)|"
    r"(?:dos|duas) (?:cargos|cobros|cobran[cç]as) (?:de|por|iguais|iguales)|"
    r"(?:zweimal|doppelt)(?: \S+){0,5} (?:abgebucht|belastet|berechnet|bezahlt)|"
    r"(?:d[ée]bit[ée]e?s?|factur[ée]e?s?|pr[ée]lev[ée]e?s?)(?: \S+){0,4} deux fois|"
    r"deux (?:d[ée]bits|pr[ée]l[eè]vements)|"
    r"addebitat[oi](?: \S+){0,4} due volte|due addebiti)\b",
    "unexpected_charge": r"\b(?:(?:don'?t|dont|do not|didn'?t|didnt|can'?t|cannot|doesn'?t|does not) recogni[sz]e "
    r"(?:this|the|a|that|these|an?)(?: \w+){0,2} (?:charges?|payments?|transactions?|debits?)|"
    r"(?:charges?|payments?|debits?) (?:that )?(?:i|we|he|she) (?:don'?t|dont|do not|doesn'?t|does not) recogni[sz]e|"
    r"(?:unknown|unexpected|unrecogni[sz]ed|mystery|strange|random) (?:charges?|fees?|payments?|transactions?|debits?)|"
    r"(?:another|an extra|a second) \$?\d[\d.,]* (?:charges?|payments?|debits?)|"
    r"charged (?:me )?(?:for (?:an order|something|items?) )?(?:i|we) (?:never|didn'?t) (?:order|ordered|buy|bought)|"
    r"(?:i|we) (?:have |'ve )?(?:never (?:ordered|bought|purchased)|(?:didn'?t|didnt|did not) (?:order|buy|purchase)) "
    r"anything|"
    r"(?:don'?t|dont|do not|can'?t) remember (?:buying|ordering|purchasing|making) (?:anything|this|that|it|a)|"
    r"what is this (?:charge|payment|debit)|who charged me|"
    r"(?:still|was|got) (?:been )?charged (?:even )?after (?:i )?cancel\w*|"
    r"charged (?:me )?(?:more|extra) than|"
    r"no reconozco (?:este|el|ese|un) (?:cargo|cobro|pago)|(?:cargo|cobro) desconocido|"
    r"ne reconnais pas (?:ce|le|cet) (?:d[ée]bit|paiement|pr[ée]l[eè]vement)|(?:pr[ée]l[eè]vement|d[ée]bit) inconnu|"
    r"non riconosco (?:questo |l')?addebito|addebito sconosciuto|"
    r"n[aã]o reconhe[cç]o (?:esta|essa|a|este|o) (?:cobran[cç]a|compra|pagamento|d[ée]bito)|cobran[cç]a desconhecida|"
    r"erkenne (?:diese|die|eine) (?:abbuchung|zahlung|belastung) nicht|unbekannte (?:abbuchung|zahlung|belastung)|"
    r"rien command[ée]|nichts bestellt|nada (?:pedido|comprado|encomendado)|non ho ordinato nulla)\b",
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
# A new first-person subject starts a clause: "if it isn't fixed I'll sue" is a threat, "I'm not a lawyer" is not.
_CLAUSE_BREAK = re.compile(r"[.;:!?,\n]|\b(?:but|however|although|though)\b|\bi(?:'m|'ll| am| will)\b", re.IGNORECASE)


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
