"""Tickets built from the retail scenarios, their gold answers from the store database, and their scoring.

Pure code (no I/O beyond reading the data files) so the scoring can be unit-tested; the mesh run itself is
scripts/eval_mesh_retail.py (with supportmesh_eval.mesh).

Per scenario of data/retail/tasks_train.json.gz two tickets:
- a lookup: the customer says who they are and asks about one order the scenario is about (the first
  order its gold actions name, else their first order): its status, its tracking number, what they paid,
  or status and tracking together (rotating by scenario). Gold: the order's status, tracking ids and total
  (sum of item prices) in data/retail/db.json.gz.
- a write request: who they are, then the scenario's reason for contacting us in the first person. Gold:
  the scenario's gold write actions (name and order), or a transfer to a human.

Identity is what the scenario's customer states: the e-mail when the correct agent found them by e-mail
(or their known info names one), else first name, last name and zip. The identity goes in the text only
(ticket.customer stays empty): the mesh has to read it.

Honest split (fixed 2026-11-21, before the confirmation turn and the order / action-kind work were tuned):
the scenarios had been looked at before, so `split_of` assigns each scenario id to `dev` or `held-out`,
50 % / 50 %, stratified by the write case's category (each category's ids sorted, shuffled with
random.Random(4), the first half, rounded up, is dev). Tuning looks only at dev tickets' failures; the
eval prints dev, held-out and all separately. The split is a function of the ids and categories alone,
so it never changes when the mesh does.
"""

import gzip
import json
import math
import random
import re
from collections import Counter
from dataclasses import dataclass

from supportmesh_core.settings import REPO_ROOT

RETAIL = REPO_ROOT / "data" / "retail"

WRITE_ACTIONS = {
    "cancel_pending_order", "modify_pending_order_address", "modify_pending_order_items",
    "modify_pending_order_payment", "modify_user_address", "return_delivered_order_items",
    "exchange_delivered_order_items",
}
TRANSFER = "transfer_to_human_agents"
# commerce RPC (audit `rpc`) → the store action it performs
RPC_ACTIONS = {
    "CancelPendingOrder": "cancel_pending_order",
    "ModifyPendingOrderAddress": "modify_pending_order_address",
    "ModifyPendingOrderItems": "modify_pending_order_items",
    "ModifyPendingOrderPayment": "modify_pending_order_payment",
    "ModifyCustomerAddress": "modify_user_address",
    "ReturnDeliveredOrderItems": "return_delivered_order_items",
    "ExchangeDeliveredOrderItems": "exchange_delivered_order_items",
    "IssueRefund": "return_delivered_order_items",
}
# Escalation reasons that rest on the store policy (a rule reserves the decision for a human).
POLICY_ESCALATIONS = {"refund_above_limit", "needs_human", "human_requested"}
QUESTION_KINDS = ("status", "tracking", "amount", "status_tracking")
SPLIT_SEED = 4
DEV, HELD_OUT = "dev", "held-out"
_ORDER_ID = re.compile(r"#W\d{7}")


@dataclass(frozen=True)
class OrderGold:
    order_id: str
    status: str
    tracking_ids: tuple[str, ...]
    total: float


@dataclass(frozen=True)
class Case:
    """One ticket to publish and what a right answer contains."""

    scenario: str
    kind: str                           # lookup | write
    body: str
    question: str = ""                  # lookup: one of QUESTION_KINDS
    order: OrderGold | None = None      # lookup: the order asked about
    writes: tuple[tuple[str, str], ...] = ()   # write: gold (action, order id or "")
    transfer: bool = False              # write: the right outcome is a human
    refund_amount: float = 0.0          # write: the gold return's refund (sum of returned items)
    category: str = ""                  # write: the first gold write, "transfer" or "no_write"
    customer_id: str = ""


def load_data() -> tuple[list[dict], dict]:
    with gzip.open(RETAIL / "tasks_train.json.gz", "rt") as f:
        tasks = json.load(f)
    with gzip.open(RETAIL / "db.json.gz", "rt") as f:
        db = json.load(f)
    return tasks, db


def first_person(text: str) -> str:
    """Scenarios speak to the simulated customer ("You want ..."); the customer writes "I"."""
    swaps = [(r"\byou're\b", "I'm"), (r"\bYou're\b", "I'm"), (r"\byou've\b", "I've"), (r"\bYou've\b", "I've"),
             (r"\byou'd\b", "I'd"), (r"\bYou'd\b", "I'd"), (r"\byourself\b", "myself"), (r"\byours\b", "mine"),
             (r"\byour\b", "my"), (r"\bYour\b", "My"), (r"\b[Yy]ou are\b", "I am"), (r"\b[Yy]ou were\b", "I was"),
             (r"\bYou\b", "I"), (r"(?<=\w )you\b", "me"), (r"\byou\b", "I")]
    for pattern, repl in swaps:
        text = re.sub(pattern, repl, text)
    return text


def order_total(order: dict) -> float:
    return round(sum(item["price"] for item in order["items"]), 2)


def order_gold(order: dict) -> OrderGold:
    tracking = tuple(t for f in order.get("fulfillments", []) for t in f.get("tracking_id", []))
    return OrderGold(order["order_id"], order["status"], tracking, order_total(order))


def scenario_user(task: dict, db: dict) -> dict | None:
    """The customer a scenario is about: from its gold identification, else the owner of a gold order."""
    users = db["users"]
    actions = task["evaluation_criteria"]["actions"]
    for action in actions:
        args = action["arguments"]
        if args.get("user_id") in users:
            return users[args["user_id"]]
        if "email" in args:
            match = [u for u in users.values() if u["email"] == args["email"]]
            if match:
                return match[0]
        if {"first_name", "last_name", "zip"} <= args.keys():
            key = (args["first_name"], args["last_name"], args["zip"])
            match = [u for u in users.values()
                     if (u["name"]["first_name"], u["name"]["last_name"], u["address"]["zip"]) == key]
            if match:
                return match[0]
    for action in actions:
        order = db["orders"].get(action["arguments"].get("order_id", ""))
        if order:
            return users.get(order["user_id"])
    known = task["user_scenario"]["instructions"].get("known_info") or ""
    handle = re.search(r"\b([a-z]+_[a-z]+_\d{4})\b", known)
    return users.get(handle.group(1)) if handle else None


def identity_sentence(task: dict, user: dict) -> str:
    """How the customer introduces themself: by e-mail when that is how they are known, else name and zip."""
    actions = task["evaluation_criteria"]["actions"]
    known = task["user_scenario"]["instructions"].get("known_info") or ""
    name = f"{user['name']['first_name']} {user['name']['last_name']}"
    by_email = any(a["name"] == "find_user_id_by_email" for a in actions)
    by_zip = any(a["name"] == "find_user_id_by_name_zip" for a in actions)
    if by_email or (not by_zip and "@" in known):
        return f"My name is {name} and my email is {user['email']}."
    return f"My name is {name} and my zip code is {user['address']['zip']}."


def _gold_orders(task: dict) -> list[str]:
    ids = [a["arguments"]["order_id"] for a in task["evaluation_criteria"]["actions"] if "order_id" in a["arguments"]]
    return list(dict.fromkeys(ids))


def _question(kind: str, order_id: str) -> str:
    return {
        "status": f"What is the current status of my order {order_id}?",
        "tracking": f"Could you give me the tracking number for my order {order_id}?",
        "amount": f"How much did I pay in total for order {order_id}?",
        "status_tracking": f"Where is my order {order_id}? Please tell me its status and tracking number.",
    }[kind]


def build_cases(tasks: list[dict], db: dict) -> list[Case]:
    """A lookup and a write-request case per scenario whose customer the database knows."""
    cases = []
    for n, task in enumerate(tasks):
        user = scenario_user(task, db)
        if user is None:
            continue
        who = identity_sentence(task, user)
        gold_orders = [o for o in _gold_orders(task) if o in db["orders"]] or user["orders"][:1]
        if gold_orders:
            order = db["orders"][gold_orders[0]]
            kind = QUESTION_KINDS[n % len(QUESTION_KINDS)]
            cases.append(Case(task["id"], "lookup", f"Hi. {who} {_question(kind, order['order_id'])}",
                              question=kind, order=order_gold(order), customer_id=user["user_id"]))
        actions = task["evaluation_criteria"]["actions"]
        writes = tuple((a["name"], a["arguments"].get("order_id", "")) for a in actions if a["name"] in WRITE_ACTIONS)
        transfer = any(a["name"] == TRANSFER for a in actions)
        refund = sum(_item_price(db, a["arguments"]["order_id"], i) for a in actions
                     if a["name"] == "return_delivered_order_items" for i in a["arguments"].get("item_ids", []))
        category = "transfer" if transfer else (writes[0][0] if writes else "no_write")
        reason = first_person(task["user_scenario"]["instructions"]["reason_for_call"].strip())
        cases.append(Case(task["id"], "write", f"Hi. {who} {reason}", writes=writes, transfer=transfer,
                          refund_amount=round(refund, 2), category=category, customer_id=user["user_id"]))
    return cases


def split_scenarios(cases: list[Case], seed: int = SPLIT_SEED) -> dict[str, str]:
    """Scenario id → `dev` or `held-out`: half of each write category's scenarios (rounded up) are dev."""
    by_category: dict[str, list[str]] = {}
    for c in cases:
        if c.kind == "write":
            by_category.setdefault(c.category, []).append(c.scenario)
    rng = random.Random(seed)
    split = {}
    for category in sorted(by_category):
        ids = sorted(set(by_category[category]), key=lambda s: (len(s), s))
        rng.shuffle(ids)
        dev = math.ceil(len(ids) / 2)
        split.update({s: DEV if n < dev else HELD_OUT for n, s in enumerate(ids)})
    # A scenario with a lookup but no write case (none today) is held out: it was never looked at for tuning.
    split.update({c.scenario: HELD_OUT for c in cases if c.scenario not in split})
    return split


def _item_price(db: dict, order_id: str, item_id: str) -> float:
    return sum(i["price"] for i in db["orders"].get(order_id, {}).get("items", []) if i["item_id"] == item_id)


# ---- scoring ---------------------------------------------------------------------------------------------

def _money_forms(amount: float) -> tuple[str, ...]:
    return (f"{amount:.2f}", f"{amount:,.2f}")


def lookup_facts(case: Case) -> dict[str, list[str]]:
    """The facts a right reply to a lookup states, by kind; a tracking question about an order without
    tracking is answered by its status."""
    o = case.order
    assert o is not None
    facts: dict[str, list[str]] = {}
    if case.question in ("status", "status_tracking") or (case.question == "tracking" and not o.tracking_ids):
        facts["status"] = [o.status]
    if case.question in ("tracking", "status_tracking") and o.tracking_ids:
        facts["tracking"] = list(o.tracking_ids)
    if case.question == "amount":
        facts["amount"] = [f"{o.total:.2f}"]
    return facts


def score_lookup(case: Case, outcome: dict | None) -> dict:
    """Whether the reply states every gold fact (status as a word, each tracking id, the total)."""
    facts = lookup_facts(case)
    if outcome is None:
        return {"right": False, "verdict": "lost", "missing": [f for v in facts.values() for f in v]}
    if outcome["type"] != "response":
        return {"right": False, "verdict": f"escalated:{outcome.get('reason', '')}",
                "missing": [f for v in facts.values() for f in v]}
    text = outcome.get("reply", {}).get("text", "")
    missing = []
    for kind, values in facts.items():
        for value in values:
            if kind == "amount":
                amount = float(value)
                found = any(form in text for form in _money_forms(amount))
            elif kind == "status":
                found = re.search(rf"(?<![\w-]){re.escape(value)}(?![\w-])", text, re.I) is not None
            else:
                found = value in text
            if not found:
                missing.append(value)
    return {"right": not missing, "verdict": "answered" if not missing else "facts_missing", "missing": missing}


def _same_order(a: str, b: str) -> bool:
    return a.strip().lstrip("#").upper() == b.strip().lstrip("#").upper()


def _matches_gold(case: Case, action: str, order_id: str) -> bool:
    return any(name == action and (not gold_order or not order_id or _same_order(gold_order, order_id))
               for name, gold_order in case.writes)


def score_write(case: Case, outcome: dict | None, audit: list[dict], refund_limit: float) -> dict:
    """Classify what the mesh did for a write request against the scenario's gold.

    Verdicts, most decisive first: `wrong_write` (the store changed something the gold does not),
    `done` (a gold write done), `policy_refused` (commerce, the authority, refused a gold write),
    `escalated_right` (a human, where the gold transfers or our refund limit applies), `proposed` (the gold
    action on the gold order proposed, waiting for the customer's "yes" as the policy asks),
    `no_write_right` (nothing written where the gold writes nothing), and the misses `escalated_other`,
    `proposed_wrong`, `refused`, `asked`, `lost`.
    """
    done = [(RPC_ACTIONS.get(e["rpc"], e["rpc"]), e.get("order_id", "")) for e in audit if e["outcome"] == "done"]
    refused = [(RPC_ACTIONS.get(e["rpc"], e["rpc"]), e.get("order_id", "")) for e in audit if e["outcome"] == "refused"]
    wrong = [d for d in done if not _matches_gold(case, *d)]
    if wrong:
        return {"verdict": "wrong_write", "strict": False, "lenient": False, "detail": wrong}
    if done:
        return {"verdict": "done", "strict": True, "lenient": True, "detail": done}
    if any(_matches_gold(case, *r) for r in refused):
        return {"verdict": "policy_refused", "strict": True, "lenient": True, "detail": refused}
    if outcome is None:
        return {"verdict": "lost", "strict": False, "lenient": False, "detail": []}
    if outcome["type"] == "escalation":
        reason = outcome.get("reason", "")
        over_limit = case.refund_amount > refund_limit and reason == "refund_above_limit"
        right = case.transfer or over_limit
        verdict = "escalated_right" if right else "escalated_other"
        return {"verdict": verdict, "strict": right, "lenient": right, "detail": [reason]}
    if not case.writes and not case.transfer:
        return {"verdict": "no_write_right", "strict": True, "lenient": True, "detail": []}
    actions = outcome.get("actions", [])
    proposed = [(a["name"], _order_in(a.get("detail", ""))) for a in actions if a.get("status") == "proposed"]
    if proposed:
        right = any(_matches_gold(case, *p) for p in proposed)
        return {"verdict": "proposed" if right else "proposed_wrong", "strict": False, "lenient": right,
                "detail": proposed}
    if any(a.get("status") == "refused" for a in actions):
        return {"verdict": "refused", "strict": False, "lenient": False, "detail": [a["name"] for a in actions]}
    return {"verdict": "asked", "strict": False, "lenient": False,
            "detail": [outcome.get("reply", {}).get("text", "")[:160]]}


def _order_in(text: str) -> str:
    match = _ORDER_ID.search(text)
    return match.group(0) if match else ""


def summarize(lookups: list[tuple[Case, dict]], writes: list[tuple[Case, dict]]) -> dict:
    """Shares for the report: lookup facts by question kind; writes strict / lenient by category."""
    def share(rows: list[bool]) -> float:
        return round(sum(rows) / len(rows), 4) if rows else 0.0

    report: dict = {"lookups": {"tickets": len(lookups), "right": share([s["right"] for _, s in lookups])}}
    for kind in QUESTION_KINDS:
        rows = [s["right"] for c, s in lookups if c.question == kind]
        report["lookups"][kind] = {"tickets": len(rows), "right": share(rows)}
    report["writes"] = {"tickets": len(writes), "strict": share([s["strict"] for _, s in writes]),
                        "lenient": share([s["lenient"] for _, s in writes]), "verdicts": {}, "by_category": {}}
    report["writes"]["verdicts"] = dict(sorted(Counter(s["verdict"] for _, s in writes).items()))
    for category in sorted({c.category for c, _ in writes}):
        rows = [s for c, s in writes if c.category == category]
        report["writes"]["by_category"][category] = {
            "tickets": len(rows), "strict": share([s["strict"] for s in rows]),
            "lenient": share([s["lenient"] for s in rows]),
            "verdicts": dict(sorted(Counter(s["verdict"] for s in rows).items()))}
    return report


