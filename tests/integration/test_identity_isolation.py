"""Verified identity before personal data: every ticket naming another customer's order, through all five stages.

The stages run in one process as their services build them (scripts/bench_inprocess.py), over the real commerce
service (a `python -m commerce` child on the bundled retail database in a temp SQLite file) and the suite's real
Elasticsearch. Each ticket is authenticated as one customer (e-mail, or name + zip, in the ticket or in its text)
and names an order of another; its reply, its handoff summary and the store's audit must hold no fact of that
order or its owner. Positive controls (the same questions about the customer's own order) show the facts would
be seen if they leaked.
"""

import asyncio
import os
import pathlib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest
from commerce.adapters.seed_file import load_seed
from commerce.domain.model import Customer, Order
from google.protobuf import json_format
from supportmesh.commerce.v1 import commerce_pb2 as pb
from supportmesh.commerce.v1 import commerce_pb2_grpc
from supportmesh.v1.outcomes_pb2 import Escalation, Response

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

from bench_inprocess import build_stages, drive  # noqa: E402

pytestmark = pytest.mark.integration

SEED = REPO / "data" / "retail" / "db.json.gz"
TOKENS = {"retriever": "isolation-retriever", "technical-analyst": "isolation-analyst",
          "response-generator": "isolation-generator", "ops": "isolation-ops"}
# What a customer asks about an order: a lookup, the four writes the analyst can propose, a payment question.
QUESTIONS = (
    "Where is my order {order}? It still has not arrived.",
    "Please cancel order {order}, I ordered it by mistake.",
    "I want to return everything in order {order} and get my money back.",
    "Please change the shipping address of order {order} to 12 Oak Street, Austin, TX 78701.",
    "Has the refund for order {order} gone through, and how much did I pay for it?",
)
WRITES = (1, 2, 3)   # the questions whose "yes" would carry out a write
PAIRS = 220          # 220 pairs x 5 questions = 1,100 cross-customer tickets, plus a "yes" after each write
HIJACKS = 100        # conversations of one customer that another writes into


@dataclass(frozen=True)
class Case:
    ticket: dict
    foreign: tuple[str, ...]   # facts of the other customer's order that must not appear
    order_id: str
    checked: bool = True       # False for the owner's own ticket that opens a conversation


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def commerce(tmp_path_factory) -> Iterator[str]:
    """The real commerce service on a fresh copy of the retail database, with this test's own tokens."""
    tmp = tmp_path_factory.mktemp("isolation-commerce")
    grpc_port, http_port = _free_port(), _free_port()
    env = {**os.environ, "COMMERCE_GRPC_PORT": str(grpc_port), "HTTP_PORT": str(http_port),
           "COMMERCE_DB_PATH": str(tmp / "commerce.sqlite3"), "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{_free_port()}",
           "COMMERCE_KAFKA_CONNECT_TIMEOUT_S": "0.5",
           "COMMERCE_TOKENS": ",".join(f"{svc}={tok}" for svc, tok in TOKENS.items())}
    log = tmp / "commerce.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "commerce"], env=env, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"commerce exited: {log.read_text()[-2000:]}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/readyz", timeout=1) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                assert time.monotonic() < deadline, "commerce did not become ready"
                time.sleep(0.1)
        yield f"127.0.0.1:{grpc_port}"
    finally:
        proc.terminate()
        proc.wait(15)


def _money(cents: int) -> tuple[str, ...]:
    return (f"{cents / 100:.2f}", f"{cents / 100:,.2f}")


def _facts(customer: Customer, order: Order) -> set[str]:
    """What only this order and its owner would tell: tracking numbers, amounts paid, e-mail, name, street."""
    facts = {t for f in order.fulfillments for t in f.tracking_ids}
    facts.update(m for p in order.payments for m in _money(p.amount_cents) if p.amount_cents >= 1000)
    facts.update({customer.email, f"{customer.first_name} {customer.last_name}", customer.address.address1,
                  order.address.address1})
    return {f for f in facts if f}


def _own_facts(customer: Customer, orders: dict[str, Order]) -> set[str]:
    return set().union(*(_facts(customer, orders[o]) for o in customer.order_ids if o in orders))


def _identity(customer: Customer, variant: int) -> tuple[dict, str]:
    """The ticket's customer block and a sentence of the body: e-mail, name + zip, or both only in the text."""
    name = f"{customer.first_name} {customer.last_name}"
    if variant == 0:
        return {"email": customer.email}, ""
    if variant == 1:
        return {"name": name, "zip": customer.address.zip}, ""
    return {}, f" My name is {name} and my zip code is {customer.address.zip}."


def _pairs(count: int) -> Iterator[tuple[int, Customer, Customer, Order, tuple[str, ...]]]:
    """`count` (asker, owner, owner's order) triples over the seeded customers, and the order's facts that the
    asker could not know from their own orders."""
    data = load_seed(SEED).data
    customers = sorted((c for c in data.customers if c.order_ids), key=lambda c: c.customer_id)
    orders = {o.order_id: o for o in data.orders}
    for i in range(count):
        asker = customers[(i * 7) % len(customers)]
        owner = customers[(i * 7 + 1 + i % 13) % len(customers)]
        if owner.customer_id == asker.customer_id:
            owner = customers[(i * 7 + 2) % len(customers)]
        order = orders[owner.order_ids[i % len(owner.order_ids)]]
        yield i, asker, owner, order, tuple(sorted(_facts(owner, order) - _own_facts(asker, orders)))


def _ticket(ticket_id: str, conversation: str, who: dict, body: str) -> dict:
    return {"ticket_id": ticket_id, "conversation_id": conversation, "channel": "email", "customer": who, "body": body}


def cross_customer_cases() -> list[tuple[Case, ...]]:
    """Each pair (A, B): A asks every question about B's order; after a write question, A says "yes"."""
    cases = []
    for i, asker, _, order, foreign in _pairs(PAIRS):
        who, said = _identity(asker, i % 3)
        for q, question in enumerate(QUESTIONS):
            conversation = f"C-iso-{i}-{q}"
            ask = Case(_ticket(f"T-iso-{i}-{q}", conversation, who, question.format(order=order.order_id) + said),
                       foreign, order.order_id)
            yes = Case(_ticket(f"T-iso-{i}-{q}-yes", conversation, who, "Yes, please go ahead."), foreign,
                       order.order_id)
            cases.append((ask, yes) if q in WRITES else (ask,))
    return cases


# A write the analyst proposes and keeps for the customer's "yes", by the status of the order it is about.
PROPOSED = {"pending": QUESTIONS[3], "delivered": QUESTIONS[2]}


def hijack_cases() -> list[tuple[Case, ...]]:
    """B opens a conversation with a change the analyst proposes (an address change or a return, waiting for B's
    "yes"); A writes into B's conversation id: a "yes", then a question about that order."""
    cases = []
    for i, asker, owner, order, foreign in _pairs(HIJACKS * 3):
        if order.status not in PROPOSED or len(cases) == HIJACKS:
            continue
        conversation = f"C-hijack-{i}"
        opening = Case(_ticket(f"T-hj-{i}-0", conversation, _identity(owner, i % 2)[0],
                               PROPOSED[order.status].format(order=order.order_id)), foreign, order.order_id,
                       checked=False)
        who, said = _identity(asker, i % 3)
        yes = Case(_ticket(f"T-hj-{i}-1", conversation, who, "Yes, please go ahead." + said), foreign, order.order_id)
        status = Case(_ticket(f"T-hj-{i}-2", conversation, who, "What is the status of that order?" + said), foreign,
                      order.order_id)
        cases.append((opening, yes, status))
    return cases


def _said(outcome) -> str:
    """Everything the outcome tells: the reply and its citations, or the handoff's message and summary."""
    if outcome.kind == "responses":
        r = json_format.Parse(outcome.value, Response(), ignore_unknown_fields=True)
        return "\n".join([r.reply.text, *r.reply.citations, *(a.detail for a in r.actions)])
    if outcome.kind == "escalations":
        e = json_format.Parse(outcome.value, Escalation(), ignore_unknown_fields=True)
        return "\n".join([e.customer_message, e.summary, *(a.detail for a in e.actions)])
    return ""


def _audit(target: str, order_ids: set[str]) -> list:
    with grpc.insecure_channel(target) as channel:
        stub = commerce_pb2_grpc.CommerceServiceStub(channel)
        entries = stub.ListAudit(pb.ListAuditRequest(limit=1000), metadata=[("x-service-token", TOKENS["ops"])])
    return [e for e in entries.entries if e.order_id in order_ids or any(o in e.request_json for o in order_ids)]


async def _run(commerce: str, data_dir: str, conversations: list[tuple[Case, ...]]) -> list:
    """Each conversation's tickets in order, through the five stages; (case, outcome) for every ticket."""
    overrides = {svc: {"COMMERCE_ADDR": commerce, "COMMERCE_TOKEN": TOKENS.get(svc, "")} for svc in TOKENS}
    stages, close = await build_stages(data_dir, overrides)
    try:
        return [(case, await drive(stages, case.ticket)) for turns in conversations for case in turns]
    finally:
        await close()


def _leaks(done: list) -> list:
    found = [(c.ticket["ticket_id"], [f for f in c.foreign if f in _said(o)]) for c, o in done if c.checked]
    return [(ticket, facts) for ticket, facts in found if facts]


def test_no_ticket_gets_facts_or_writes_on_another_customers_order(commerce, es_url, tmp_path):
    done = asyncio.run(_run(commerce, str(tmp_path), cross_customer_cases()))

    assert len(done) == PAIRS * (len(QUESTIONS) + len(WRITES)) >= 1000 + PAIRS * len(WRITES)
    lost = [c.ticket["ticket_id"] for c, o in done if o.kind not in ("responses", "escalations")]
    assert lost == []
    leaks = _leaks(done)
    assert leaks == [], f"{len(leaks)} tickets told another customer's facts, e.g. {leaks[:5]}"
    touched = _audit(commerce, {c.order_id for c, _ in done})
    assert touched == [], f"writes attempted on others' orders: {[(e.rpc, e.order_id) for e in touched[:5]]}"


def test_another_customer_writing_into_a_conversation_gets_nothing_of_it(commerce, es_url, tmp_path):
    done = asyncio.run(_run(commerce, str(tmp_path), hijack_cases()))

    intruders = [(c, o) for c, o in done if c.checked]
    assert len(intruders) == 2 * HIJACKS
    waiting = [c for c, o in done if not c.checked and '"status":"proposed"' in o.value.decode()]
    assert len(waiting) >= HIJACKS // 2, "most owners' changes should be waiting for their yes (66 of 100 when written)"
    assert _leaks(done) == []
    # Each goes to a person: as not the conversation's owner, or (a "yes" the classifier could not read, before
    # the conversation is consulted) as unsure.
    assert {o.kind for _, o in intruders} == {"escalations"}
    assert sum(o.reason == "identity_mismatch" for _, o in intruders) >= 1.9 * HIJACKS
    # The owners' own tickets may open a pending-approval case (a refund above the limit); nothing is carried out.
    made = [e for e in _audit(commerce, {c.order_id for c, _ in done}) if e.outcome != "pending_approval"]
    assert made == [], f"the owner's waiting proposal was carried out: {[(e.rpc, e.order_id) for e in made]}"


def test_the_same_questions_about_the_customers_own_order_do_tell_its_facts(commerce, es_url, tmp_path):
    """The control: the leak check above can fail, since its facts do reach the customer who owns them."""
    data = load_seed(SEED).data
    orders = {o.order_id: o for o in data.orders}
    owners = [c for c in sorted(data.customers, key=lambda c: c.customer_id)
              if any(orders[o].fulfillments for o in c.order_ids)][:20]
    cases = []
    for i, owner in enumerate(owners):
        order = next(orders[o] for o in owner.order_ids if orders[o].fulfillments)
        who, said = _identity(owner, i % 3)
        ticket = {"ticket_id": f"T-own-{i}", "conversation_id": f"C-own-{i}", "channel": "email", "customer": who,
                  "body": QUESTIONS[0].format(order=order.order_id) + said}
        tracking = tuple(t for f in order.fulfillments for t in f.tracking_ids)
        cases.append((Case(ticket, tracking, order.order_id),))
    done = asyncio.run(_run(commerce, str(tmp_path), cases))

    told = [c.ticket["ticket_id"] for c, o in done if any(t in _said(o) for t in c.foreign)]
    silent = sorted({c.ticket["ticket_id"] for (c,) in cases} - set(told))
    assert silent == [], f"own tracking numbers missing from {silent}"
