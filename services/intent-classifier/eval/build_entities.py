"""Builds entities.jsonl, the labelled entity set: Bitext's own entity spans plus sentences from the retail data.

Run from the repository root: `uv run python services/intent-classifier/eval/build_entities.py`.
Deterministic (seed 7). Each line: {"text", "entities": [{"type", "value"}], "source"}.
"""

import csv
import gzip
import json
import pathlib
import random
import re

ROOT = pathlib.Path(__file__).resolve().parents[3]
OUT = pathlib.Path(__file__).with_name("entities.jsonl")
SEED = 7

# Bitext entity types that are ours, and those that must produce none of ours (they test precision).
_MAPPED = {"order_id": "order_id", "person_name": "name", "refund_amount": "amount"}
_NONE_OF_OURS = {"delivery_city", "delivery_country", "account_type", ""}
_MONEY = re.compile(r"\$\s?(\d+)|(\d+)\s?dollars?", re.IGNORECASE)


def bitext_rows(rng: random.Random) -> list[dict]:
    """Bitext rows with an order id, a person's name or a refund amount (value re-read from the text where
    Bitext's offsets are off, e.g. `rebating 350 dollars` labelled `3`), and 300 rows without digits that
    are labelled with none of ours (cities, countries, account types, nothing): they test precision."""
    with gzip.open(ROOT / "data/intents/bitext_train.csv.gz", "rt", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out, negatives = [], []
    for r in rows:
        text, kind = r["instruction"].strip(), r["entity_type"]
        if kind in _MAPPED:
            start = int(r["start_offset"])
            if kind == "order_id":
                m = re.compile(r"\d{5,}").search(text, max(0, start - 3))
                value = m.group(0) if m else None
            elif kind == "refund_amount":
                m = _MONEY.search(text)
                value = f"{int(m.group(1) or m.group(2)):.2f} USD" if m else None
            else:
                value = r["entity_value"] if r["entity_value"] in text else None
            if value:
                out.append({"text": text, "entities": [{"type": _MAPPED[kind], "value": value}],
                            "source": f"bitext:{kind}"})
        elif kind in _NONE_OF_OURS and not re.search(r"\d", text):
            # Bitext leaves some amounts and ids unlabelled ("a refund of $350"); those rows are no negatives.
            negatives.append({"text": text, "entities": [], "source": f"bitext:{kind or 'none'}"})
    return out + rng.sample(negatives, 300)


# Our sentence frames; each slot is filled from one user and one of their orders in the retail database.
_FRAMES = (
    "Hi, I'm {name}. Where is my order {order}? Thanks",
    "Hello, my name is {name} and my zip code is {zip}. I need help with order {order}.",
    "Can you check order {order}? The tracking number {tracking} hasn't moved since Monday.",
    "I was charged {amount} for order {order} but I cancelled it. My email is {email}.",
    "Please send the refund of {amount} to my card. Order {order}, {email}",
    "The {product} from order {order} arrived broken. Regards, {name}",
    "I'd like to return the {product}. I paid {amount} for it.",
    "Hi, could you change the {product} in my order to another colour? My zip is {zip}.",
    "my package with tracking id {tracking} is lost, can u help? email {email}",
    "Hello,\nI ordered a {product} last week ({order}) and the tracking {tracking} shows nothing.\n"
    "Best regards,\n{name}",
    "Hi, this is {name}, zip code {zip}, email {email}. Is the {product} back in stock?",
    "I live at {street}, {city}, {state} {zip}. Please ship order {order} there.",
)


def _money(value: float) -> tuple[str, str]:
    return f"${value:,.2f}", f"{value:.2f} USD"


def retail_rows(rng: random.Random, count: int = 360) -> list[dict]:
    with gzip.open(ROOT / "data/retail/db.json.gz", "rt", encoding="utf-8") as fh:
        db = json.load(fh)
    orders = sorted(db["orders"].values(), key=lambda o: o["order_id"])
    out = []
    for i in range(count):
        order = rng.choice(orders)
        user = db["users"][order["user_id"]]
        tracking = next((t for f in order.get("fulfillments", []) for t in f.get("tracking_id", [])), None)
        item = rng.choice(order["items"])
        amount_text, amount_value = _money(item["price"])
        slots = {
            "name": (f"{user['name']['first_name']} {user['name']['last_name']}", "name"),
            "zip": (user["address"]["zip"], "zip"),
            "email": (user["email"], "email"),
            "order": (order["order_id"], "order_id"),
            "tracking": (tracking, "tracking_id"),
            "amount": (amount_text, "amount"),
            "product": (item["name"], "product"),
            "street": (user["address"]["address1"], None),
            "city": (user["address"]["city"], None),
            "state": (user["address"]["state"], None),
        }
        frame = _FRAMES[i % len(_FRAMES)]
        used = re.findall(r"\{(\w+)\}", frame)
        if any(slots[s][0] is None for s in used):
            continue
        text = frame.format(**{k: v for k, (v, _) in slots.items()})
        gold = []
        for s in used:
            value, kind = slots[s]
            if kind:
                gold.append({"type": kind, "value": amount_value if kind == "amount" else value})
        out.append({"text": text, "entities": gold, "source": "retail"})
    return out


def main() -> None:
    rng = random.Random(SEED)
    rows = bitext_rows(rng) + retail_rows(rng)
    with OUT.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} texts written to {OUT}")


if __name__ == "__main__":
    main()
