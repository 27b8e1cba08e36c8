"""Long multi-turn support conversations with their gold key facts, for measuring the compressor's fidelity.

Two families, both deterministic for a seed:
- retail: one conversation per scenario of data/retail/tasks_train.json.gz. The customer says who they
  are and what they want (the scenario's own words, turned into the first person); the facts they
  state (name, zip, e-mail, order ids, products, amounts, tracking ids) come from the store database
  of data/retail/db.json.gz for the user and orders the scenario's gold actions name, and they say
  what they already did. The agent's turns are long, realistic and mostly fact-free: verification,
  policy explanations, variant listings full of prices and item ids the customer never asked to keep.
- logs: technical tickets written here, with pasted logs and stack traces (timestamps, repeated
  lines, noise) around error codes, exception names and what the customer already tried.

Gold facts are only what the customer (or the pasted log) stated and a downstream agent needs; each
is a string that must appear, case-insensitively, in the compressed context.
"""

import gzip
import json
import random
import re
from dataclasses import dataclass, field

from supportmesh_core.settings import REPO_ROOT

RETAIL = REPO_ROOT / "data" / "retail"


@dataclass
class Conversation:
    id: str
    family: str
    turns: list[tuple[str, str]]                    # (role, text), oldest first
    gold: dict[str, list[str]] = field(default_factory=dict)   # kind → values that must survive

    def gold_facts(self) -> list[tuple[str, str]]:
        return [(kind, value) for kind, values in self.gold.items() for value in values]


def _load(name: str):
    with gzip.open(RETAIL / name, "rt") as f:
        return json.load(f)


def _first_person(text: str) -> str:
    """The scenario is written to the simulated customer ("You want to ..."); the customer says "I"."""
    swaps = [(r"\byou're\b", "I'm"), (r"\byou've\b", "I've"), (r"\byou'd\b", "I'd"), (r"\byourself\b", "myself"),
             (r"\byour\b", "my"), (r"\bYour\b", "My"), (r"\bYou are\b", "I am"), (r"\byou are\b", "I am"),
             (r"\bYou\b", "I"), (r"\byou\b", "I")]
    for pattern, repl in swaps:
        text = re.sub(pattern, repl, text)
    return text


def _user_for(task: dict, db: dict) -> dict | None:
    users = db["users"]
    for action in task["evaluation_criteria"]["actions"]:
        args = action["arguments"]
        if "user_id" in args and args["user_id"] in users:
            return users[args["user_id"]]
        if "email" in args:
            for user in users.values():
                if user["email"] == args["email"]:
                    return user
        if {"first_name", "last_name", "zip"} <= args.keys():
            for user in users.values():
                if (user["name"]["first_name"], user["name"]["last_name"], user["address"]["zip"]) == (
                        args["first_name"], args["last_name"], args["zip"]):
                    return user
    # Scenarios whose gold actions start from an order: the order names its owner.
    for action in task["evaluation_criteria"]["actions"]:
        order = db["orders"].get(action["arguments"].get("order_id", ""))
        if order and order["user_id"] in users:
            return users[order["user_id"]]
    return None


def _orders_for(task: dict, user: dict, db: dict) -> list[dict]:
    named = [a["arguments"]["order_id"] for a in task["evaluation_criteria"]["actions"] if "order_id" in a["arguments"]]
    ids = list(dict.fromkeys(named)) or user["orders"][:2]
    return [db["orders"][i] for i in ids[:3] if i in db["orders"]]


AGENT_VERIFY = [
    "Thank you for reaching out. Before I can look at any order or make a change, I need to confirm your "
    "identity. I can do that with the e-mail address on your account, or with your full name together with "
    "the zip code of your default address. This is required even if you already mentioned your user id, "
    "because it protects your account from anyone else who might write in on your behalf.",
    "Happy to help with that. For security, I first have to authenticate you: could you give me the e-mail "
    "address you use with us, or your first and last name plus the zip code on file? Once I have located your "
    "profile I can see your orders, their status and the payment methods saved on your account.",
]
AGENT_POLICY = [
    "Just so you know how this works: a delivered order can be returned or exchanged once, and all the items "
    "to exchange have to be swapped in one go, each for a different variant of the same product. A pending "
    "order can be modified or cancelled, but its items can only be changed once. Refunds go back to the "
    "original payment method or to an existing gift card, and I will list every detail of the action and "
    "wait for your explicit yes before I submit anything.",
    "Let me explain the options. For items that have already been delivered I can start a return, and you will "
    "receive an e-mail with instructions on how to send them back; the refund usually takes five to seven "
    "business days after the warehouse receives the package. For an exchange, the price difference is either "
    "charged to or refunded to a payment method of your choice. I cannot exchange an item for a different "
    "product type, only for another option of the same product.",
    "One more thing before we continue: I can only help with the orders on your own account, and I can only "
    "take one action at a time. If something is outside what I am allowed to do, I will transfer you to one of "
    "my colleagues and give them a summary so you do not have to repeat yourself.",
]
AGENT_CHECKING = [
    "Thanks, I found your profile. Let me pull up the order details and the fulfilment information, this "
    "can take a moment because I need to check each item separately.",
    "Give me a minute while I go through the items and their current availability in our catalogue.",
    "I am checking that now. I see several orders on the account, so let me make sure I am looking at the "
    "right one before I change anything.",
]
CUSTOMER_FILLER = [
    "Okay, thanks. Take your time.",
    "Sure, no problem. I'm on my lunch break so I have a few minutes.",
    "Alright. I was hoping this would be quick, to be honest, but go ahead.",
    "Okay, that makes sense. I just want to get this sorted today if possible.",
    "Thanks for explaining. I wasn't sure how the process works since it's my first time doing this.",
    "Got it. Will I get a confirmation e-mail once it's done?",
]
ACTIONS_RETAIL = [
    ("I already contacted the carrier", "contacted the carrier"),
    ("I have already checked the tracking page", "checked the tracking page"),
    ("I already emailed your support address last week", "emailed your support address"),
    ("I've already called the store", "called the store"),
    ("I already tried the return form on the website", "tried the return form"),
]


def _variant_listing(product: dict, rng: random.Random, limit: int = 6) -> str:
    variants = list(product["variants"].values())
    rng.shuffle(variants)
    lines = [f"Here are the {product['name'].lower()} options we currently have:"]
    for v in variants[:limit]:
        options = ", ".join(f"{k} {val}" for k, val in v["options"].items())
        stock = "in stock" if v["available"] else "out of stock"
        lines.append(f"- item {v['item_id']}: {options}, ${v['price']:.2f} ({stock})")
    lines.append("Let me know which one you would like, or if you want me to look for something else.")
    return "\n".join(lines)


def retail_conversations(seed: int = 7) -> list[Conversation]:
    db, tasks = _load("db.json.gz"), _load("tasks_train.json.gz")
    products = {p["product_id"]: p for p in db["products"].values()}
    out = []
    for task in tasks:
        rng = random.Random(f"{seed}-{task['id']}")
        user = _user_for(task, db)
        if user is None:
            continue
        orders = _orders_for(task, user, db)
        info = task["user_scenario"]["instructions"]
        name = f"{user['name']['first_name']} {user['name']['last_name']}"
        gold: dict[str, list[str]] = {"names": [name]}
        by_email = "email" in info["known_info"] or rng.random() < 0.4
        if by_email:
            who = f"my email is {user['email']}"
            gold["emails"] = [user["email"]]
        else:
            who = f"zip code {user['address']['zip']}"
            gold["zip"] = [user["address"]["zip"]]
        reason = _first_person(info["reason_for_call"].strip())
        turns = [("customer", f"Hi there, my name is {name}, {who}. {reason}"), ("agent", rng.choice(AGENT_VERIFY))]
        turns.append(("customer", f"Sure. I'm {name} and {who}." if by_email else
                      f"It's {name}, and my zip code is {user['address']['zip']}."))
        turns.append(("agent", rng.choice(AGENT_CHECKING)))
        for order in orders:
            items = order["items"][:2]
            gold.setdefault("order_ids", []).append(order["order_id"])
            names = [i["name"] for i in items]
            gold.setdefault("products", []).extend(n for n in names if n not in gold["products"])
            item = items[0]
            amount = f"${item['price']:.2f}"
            gold.setdefault("amounts", []).append(amount)
            said = (f"The order is {order['order_id']}. It has the {' and the '.join(n.lower() for n in names)}; "
                    f"I paid {amount} for the {item['name'].lower()} alone.")
            tracking = [t for f in order.get("fulfillments", []) for t in f.get("tracking_id", [])]
            if tracking and rng.random() < 0.6:
                said += f" The tracking number you sent me was {tracking[0]}."
                gold.setdefault("tracking_ids", []).append(tracking[0])
            turns.append(("customer", said))
            turns.append(("agent", rng.choice(AGENT_POLICY)))
            product = products.get(item["product_id"])
            if product:
                turns.append(("agent", _variant_listing(product, rng)))
            turns.append(("customer", rng.choice(CUSTOMER_FILLER)))
        statement, gold_action = rng.choice(ACTIONS_RETAIL)
        gold["actions_taken"] = [gold_action]
        turns.append(("customer", f"By the way, {statement}, but nobody got back to me. That's why I'm writing here."))
        turns.append(("agent", rng.choice(AGENT_POLICY)))
        for _ in range(rng.randint(2, 4)):
            turns.append(("customer", rng.choice(CUSTOMER_FILLER)))
            turns.append(("agent", rng.choice(AGENT_CHECKING + AGENT_POLICY)))
        turns.append(("customer", "So can you go ahead with what I asked at the start? Please confirm the details."))
        out.append(Conversation(f"retail-{task['id']}", "retail", turns, gold))
    return out


# -- technical tickets with pasted logs ----------------------------------------------------------------

PEOPLE = ["Amara Okafor", "Lukas Becker", "Priya Raman", "Diego Alvarez", "Hannah Schmidt", "Kenji Watanabe",
          "Sofia Rossi", "Omar Haddad", "Emily Clarke", "Mateo Silva", "Chloe Martin", "Ivan Petrov"]
# (symptom, error codes, exception name or "", what the log's failing lines say)
ISSUES = [
    ("Outlook keeps asking for my password and then fails to sync the mailbox", ["0x800CCC0E"], "",
     "Send/Receive error reported (0x800CCC0E): Cannot connect to the server"),
    ("I cannot sign in to Teams, it says my account is blocked", ["AADSTS50076"], "",
     "AADSTS50076: Due to a configuration change made by your administrator, you must use multi-factor auth"),
    ("Our emails to a partner bounce back", ["5.7.1"], "",
     "Remote server returned '550 5.7.1 Client does not have permissions to send as this sender'"),
    ("The export job in your API fails every night", ["HTTP 503"], "java.net.SocketTimeoutException",
     "HTTP 503 Service Unavailable from upstream after 30000 ms"),
    ("OneDrive stopped syncing my folder", ["0x8004DE40"], "",
     "Sync error 0x8004DE40: there was a problem connecting to OneDrive"),
    ("The integration script crashes when it uploads invoices", ["HTTP 401"], "PermissionError",
     "upload failed with HTTP 401 Unauthorized: token expired"),
    ("Excel add-in does not load since the update", ["0x80070005"], "System.UnauthorizedAccessException",
     "Add-in load failed: Access is denied. (Exception from HRESULT: 0x80070005)"),
    ("Single sign-on to the portal fails for new staff", ["AADSTS700016"], "",
     "AADSTS700016: Application with identifier was not found in the directory"),
    ("The mobile app crashes on checkout", ["HTTP 500"], "java.lang.NullPointerException",
     "POST /api/checkout returned HTTP 500"),
    ("Our webhook receiver stopped getting events", ["HTTP 502"], "ConnectionRefusedError",
     "delivery attempt failed: HTTP 502 Bad Gateway"),
]
ACTIONS_TECH = [
    ("I already restarted Outlook", "restarted Outlook"),
    ("we have already cleared the cache", "cleared the cache"),
    ("I've reinstalled the app", "reinstalled the app"),
    ("I already rebooted the server twice", "rebooted the server"),
    ("We already reset the password", "reset the password"),
    ("I have already updated the client to the latest version", "updated the client"),
    ("I already disabled the firewall on my laptop", "disabled the firewall"),
]
NOISE = ["INFO  scheduler - heartbeat ok", "DEBUG pool - connections active=4 idle=12",
         "INFO  http - GET /health 200 3ms", "DEBUG cache - hit ratio 0.97", "INFO  worker - batch 1182 done",
         "INFO  auth - token refreshed for service account", "DEBUG gc - pause 12ms"]
AGENT_TECH = [
    "Thanks for the details. Could you tell me when this started, whether anything changed on your side around "
    "that time (updates, new policies, a new network), and whether it happens for every user or only some?",
    "Understood. I am going through our knowledge base for this symptom now. In the meantime, please do not "
    "delete the profile or the local data yet, since that can make the investigation harder.",
    "Thank you, that helps. I can see similar reports from other customers; the usual causes are an expired "
    "credential, a conditional access policy or a proxy between the client and our service. Let me check which "
    "one applies to you.",
    "I have escalated the logs to our second-level team. They usually answer within a few hours. Is there a "
    "good time to reach you if they need a remote session?",
]
CUSTOMER_TECH_FILLER = [
    "It started on Monday morning, as far as I can tell. Nothing changed on our side that I know of.",
    "It affects at least three people in the finance team, maybe more.",
    "Okay. This is blocking our month-end close, so it's quite urgent for us.",
    "Sure, I'm available all afternoon. My phone is on the account.",
    "Is there any workaround in the meantime? People are getting frustrated.",
]


def _log_block(rng: random.Random, issue: tuple, lines: int) -> str:
    _, codes, exception, failing = issue
    out = []
    day, second = rng.randint(10, 28), rng.randint(0, 3000)
    for i in range(lines):
        second += rng.randint(1, 40)
        hour, minute = 8 + second // 3600 % 10, second // 60 % 60
        stamp = f"2026-11-{day:02d} {hour:02d}:{minute:02d}:{second % 60:02d}"
        if i % 7 == 3:
            out.append(f"{stamp} ERROR {failing}")
        else:
            out.append(f"{stamp} {rng.choice(NOISE)}")
    if exception.startswith(("java.", "System.")):
        out.append(f"{exception}: {failing.split(':')[0]}")
        out.extend(f"    at {f}" for f in ("com.acme.export.Runner.run(Runner.java:88)",
                                           "com.acme.http.Client.send(Client.java:211)",
                                           "java.base/java.lang.Thread.run(Thread.java:840)"))
    elif exception:
        out.extend(["Traceback (most recent call last):", '  File "/opt/app/upload.py", line 57, in push',
                    "    response.raise_for_status()", f"{exception}: {failing}"])
    return "\n".join(out)


def log_conversations(count: int = 36, seed: int = 11) -> list[Conversation]:
    out = []
    for n in range(count):
        rng = random.Random(f"{seed}-{n}")
        issue = ISSUES[n % len(ISSUES)]
        symptom, codes, exception, _ = issue
        person = PEOPLE[n % len(PEOPLE)]
        email = f"{person.lower().replace(' ', '.')}@{rng.choice(['contoso.com', 'fabrikam.io', 'northwind.org'])}"
        statement, action = rng.choice(ACTIONS_TECH)
        gold = {"names": [person], "emails": [email], "error_codes": list(codes), "actions_taken": [action]}
        if exception:
            gold["exceptions"] = [exception]
        turns = [
            ("customer", f"Hello, this is {person} ({email}). {symptom}. {statement} but it did not help. "
                         f"Here is what the log shows:\n{_log_block(rng, issue, rng.randint(25, 45))}"),
            ("agent", rng.choice(AGENT_TECH)),
            ("customer", rng.choice(CUSTOMER_TECH_FILLER)),
            ("agent", rng.choice(AGENT_TECH)),
            ("customer", f"Here is the log from this morning as well:\n{_log_block(rng, issue, rng.randint(20, 35))}"),
        ]
        for _ in range(rng.randint(3, 6)):
            turns.append(("agent", rng.choice(AGENT_TECH)))
            turns.append(("customer", rng.choice(CUSTOMER_TECH_FILLER)))
        turns.append(("customer", "Any news? We still see the same error."))
        out.append(Conversation(f"logs-{n:02d}", "logs", turns, gold))
    return out


def all_conversations() -> list[Conversation]:
    return retail_conversations() + log_conversations()
