"""Ticket-shaped copies of short training utterances: greetings, sign-offs, ids and typos around the request.

Bitext utterances are one short line; real tickets open with a greeting, add a sentence of context, quote an
order id or an e-mail and close with a signature. Without copies in that shape the model reads greetings and
sign-offs as evidence for whichever class happened to contain them. The pieces below are ours, carry no
intent, and are added to every class (ids and account details only to in-domain classes, where customers
actually write them), so the model learns to ignore them.
"""

import random
from collections.abc import Sequence

from .examples import OUT_OF_SCOPE, Example

_OPENERS = (
    "Hi,",
    "Hello,",
    "Hi there,",
    "Hey,",
    "Good morning,",
    "Good afternoon.",
    "Good evening,",
    "Dear support team,",
    "Hello team,",
    "Hi, I hope you're well.",
    "Hello, I hope you can help me.",
    "Hi, sorry to bother you.",
    "Dear Sir or Madam,",
    "Greetings,",
    "Hi again,",
    "Hello, quick question.",
)
_CLOSERS = (
    "Thanks,",
    "Thank you!",
    "Thanks in advance.",
    "Kind regards,",
    "Best regards,",
    "Best,",
    "Cheers",
    "Many thanks for your help.",
    "Looking forward to your reply.",
    "Have a nice day.",
    "Thank you very much.",
    "Regards,",
    "thx",
    "Appreciate it.",
)
_SIGNATURES = (
    "Anna",
    "Tom Becker",
    "M. Rossi",
    "Priya",
    "Daniel",
    "Sofia L.",
    "Jon",
    "--\nSent from my iPhone",
    "--\nSent from my phone",
    "Karen Miller",
    "Luis",
)
_ID_SENTENCES = (
    "My order number is #W{n}.",
    "It's order #W{n}.",
    "Order: #W{n}",
    "(order W{n})",
    "My account e-mail is {email}.",
    "You can reach me at {email}.",
    "My name is {name}.",
    "I ordered on the {day}th.",
)
_NAMES = ("Emma Stone", "Raj Patel", "Lucia Gomez", "Ben Carter", "Olga Ivanova", "Kenji Sato")
_KEYBOARD_NEIGHBOURS = "qwertyuiopasdfghjklzxcvbnm"


def _typo(text: str, rng: random.Random) -> str:
    """One dropped, doubled, swapped or replaced letter in a word of four letters or more."""
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not candidates:
        return text
    i = rng.choice(candidates)
    w, pos = words[i], rng.randrange(1, len(words[i]) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        w = w[:pos] + w[pos + 1 :]
    elif kind == 1:
        w = w[:pos] + w[pos] + w[pos:]
    elif kind == 2:
        w = w[: pos - 1] + w[pos] + w[pos - 1] + w[pos + 1 :]
    else:
        w = w[:pos] + rng.choice(_KEYBOARD_NEIGHBOURS) + w[pos + 1 :]
    words[i] = w
    return " ".join(words)


def ticket_shaped(example: Example, rng: random.Random) -> Example:
    """`example` wrapped as a short ticket: an opener, maybe an id sentence, the request, a sign-off."""
    body = example.text.strip()
    if rng.random() < 0.3:
        body = _typo(body, rng)
    if rng.random() < 0.5 and body[:1].islower():
        body = body[0].upper() + body[1:]
    if body[-1:].isalnum():
        body += rng.choice((".", "?", "", "!"))
    parts = [rng.choice(_OPENERS)] if rng.random() < 0.85 else []
    parts.append(body)
    if example.intent != OUT_OF_SCOPE and rng.random() < 0.4:
        parts.append(
            rng.choice(_ID_SENTENCES).format(
                n=rng.randrange(1_000_000, 9_999_999),
                email=f"{rng.choice(('anna', 'j.doe', 'raj.p', 'lucia77'))}@example.com",
                name=rng.choice(_NAMES),
                day=rng.randrange(4, 20),
            )
        )
    if rng.random() < 0.8:
        closer = rng.choice(_CLOSERS)
        parts.append(f"{closer}\n{rng.choice(_SIGNATURES)}" if closer.endswith(",") else closer)
    separator = "\n\n" if rng.random() < 0.5 else " "
    return Example(separator.join(parts), example.intent, example.category)


def augmented(examples: Sequence[Example], seed: int) -> list[Example]:
    """One ticket-shaped copy of each example, in the same order (seeded, so training is repeatable)."""
    rng = random.Random(seed)
    return [ticket_shaped(e, rng) for e in examples]
