"""The retail write scenarios through the analyst in-process, against a private commerce on a fresh store.

A fast stand-in for scripts/eval_mesh_retail.py when tuning the technical analyst: no Kafka, no shared mesh.
Per write case it runs the stages as the mesh would, in one process: the trained intent classifier and its
routing (an escalation there ends the ticket), the retriever's identity and order lookups (its own domain code
and gRPC adapter), the analyst's handler with its real commerce adapters and a temporary proposals store, and
the response generator's composer. A reply that proposes actions gets the "yes" turn (the context-compressor's
reading `confirmation=yes`, nothing verified), and the writes are read back from commerce's audit and scored
with retail_mesh_cases.score_write. Commerce runs as `python -m commerce` on free ports over a temporary
database, so the shared store is never touched.

    .venv/bin/python scripts/analyst_offline_retail.py [--split dev|held-out|all] [--only 1,3,8] [-v] [--json F]
        [--tasks eval/retail/tasks_extra.json]

Tune on `--split dev` only (the default); the held-out scenarios are for the final figure. `--tasks` runs
scenarios of our own (eval/retail/tasks_extra.json: 40 written for this project against the same store), all
of them development data.
"""

import argparse
import asyncio
import json
import pathlib
import sys
import tempfile
import time
from collections import Counter

from supportmesh.v1.envelope_pb2 import Envelope
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh_core.grpcutil import tracing_channel
from supportmesh_core.stage import Escalate
from supportmesh_eval.commerce_server import TOKENS, start_server
from supportmesh_eval.mesh import CONFIRMATION, REFUND_LIMIT, audits
from supportmesh_eval.retail_mesh_cases import DEV, build_cases, load_data, score_write, split_scenarios


class Mesh:
    """The stages a write ticket passes, wired in-process."""

    def __init__(self, addr: str, tmp: pathlib.Path) -> None:
        from intent_classifier.app import load_workflows
        from intent_classifier.config import Settings as ClassifierSettings
        from retriever.adapters.commerce import GrpcCommerce
        from supportmesh_intent import artifacts
        from supportmesh_intent.classifier import Classifier
        from technical_analyst.adapters.commerce import GrpcCommerceActions
        from technical_analyst.adapters.pending import SqlitePendingStore
        from technical_analyst.adapters.store_reads import GrpcStoreReads
        from technical_analyst.handlers import AnalystHandler

        cs = ClassifierSettings()
        # The saved model as it is, never retrained here (the artifact is shared with the running service).
        model, meta = artifacts.load(cs.model_dir)
        self.classifier = Classifier(model, meta.get("products", ()))
        self.workflows = load_workflows(cs)
        self.min_confidence = cs.min_confidence
        self.retriever_channel = tracing_channel(addr, "retriever", token=TOKENS["retriever"])
        self.analyst_channel = tracing_channel(addr, "technical-analyst", token=TOKENS["technical-analyst"])
        self.lookups = GrpcCommerce(self.retriever_channel)
        self.analyst = AnalystHandler(REFUND_LIMIT, GrpcCommerceActions(self.analyst_channel),
                                      reads=GrpcStoreReads(self.analyst_channel),
                                      pending=SqlitePendingStore(tmp / "proposals.db"))
        self.addr = addr

    def _envelope(self, tid: str, conversation: str, body: str) -> tuple[Envelope, object]:
        from intent_classifier.handlers import _to_proto
        env = Envelope()
        env.ticket.ticket_id, env.ticket.conversation_id, env.ticket.body = tid, conversation, body
        env.deadline_unix_ms = int(time.time() * 1000) + 5000
        c = self.classifier.classify(body)
        route = self.workflows.route(c, self.min_confidence)
        env.classification.CopyFrom(_to_proto(c, route.workflow, "local"))
        if route.family:   # as the classifier's handler does
            env.classification.family, env.classification.family_score = route.family, route.family_score
        return env, route

    async def _retrieve(self, env: Envelope) -> None:
        from retriever.domain.lookups import identity, look_up
        from retriever.domain.query import STORE_CATEGORIES
        cls = env.classification
        who = identity("", "", "", [(e.type, e.value) for e in cls.entities])
        from retriever.handlers import RetrieverHandler
        res = await look_up(self.lookups, who, cls.category.upper() in STORE_CATEGORIES, lambda: 3.0)
        RetrieverHandler._write(env, [], res)   # the facts exactly as the retriever writes them (payments too)

    async def turn(self, tid: str, conversation: str, body: str, confirmation: str = "") -> dict:
        """One ticket through classifier → (compressor) → retriever → analyst → generator: the outcome dict."""
        from response_generator.domain.compose import Handoff, compose
        env, route = self._envelope(tid, conversation, body)
        if confirmation:
            env.context.facts["confirmation"] = confirmation
        elif route.workflow == "escalate":
            return {"type": "escalation", "reason": route.reason, "actions": [], "intent": env.classification.intent}
        elif "technical-analyst" not in route.stages:
            await self._retrieve(env)
            result = compose(env, 0.6, 10)
            return _outcome(env, result, Handoff)
        if not confirmation:
            await self._retrieve(env)
        hop = HopRecord()
        out = await self.analyst(env, hop)
        if isinstance(out, Escalate):
            return {"type": "escalation", "reason": out.escalation.reason, "intent": env.classification.intent,
                    "actions": [_action(a) for a in out.escalation.actions],
                    "customer_message": out.escalation.customer_message, "labels": dict(hop.labels)}
        outcome = _outcome(out.envelope, compose(out.envelope, 0.6, 10), Handoff)
        outcome["labels"] = dict(hop.labels)
        return outcome

    async def audit(self, ticket_ids: list[str]) -> dict[str, list[dict]]:
        return await audits(self.addr, ticket_ids)


def _action(a) -> dict:
    return {"name": a.name, "status": a.status, "detail": a.detail, "idempotency_key": a.idempotency_key}


def _outcome(env: Envelope, result, handoff_type) -> dict:
    actions = [_action(a) for a in env.analysis.actions]
    base = {"intent": env.classification.intent, "actions": actions,
            "policy": f"{env.analysis.policy_decision}/{env.analysis.policy_code}"}
    if isinstance(result, handoff_type):
        return {**base, "type": "escalation", "reason": result.reason, "customer_message": result.customer_message}
    return {**base, "type": "response", "reply": {"text": result.text}}


async def run(cases, split, verbose: bool) -> list[dict]:
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="analyst-offline-"))
    proc, addr = start_server(tmp)
    rows = []
    try:
        mesh = Mesh(addr, tmp)
        # As the mesh evaluation does: every write ticket first, then the "yes" turns, then the audit.
        firsts = {}
        for c in cases:
            tid = f"T-off-{c.scenario}-write"
            firsts[tid] = (c, await mesh.turn(tid, f"C-{tid}", c.body))
        yeses = {}
        for tid, (_, first) in firsts.items():
            if first["type"] == "response" and any(a["status"] == "proposed" for a in first["actions"]):
                yeses[tid] = await mesh.turn(f"{tid}-yes", f"C-{tid}", CONFIRMATION, confirmation="yes")
        audit = await mesh.audit([x for tid in firsts for x in (tid, f"{tid}-yes")])
        for tid, (c, first) in firsts.items():
            done = audit[tid] + audit[f"{tid}-yes"]
            s = score_write(c, first, done, REFUND_LIMIT)
            row = {"scenario": c.scenario, "split": split[c.scenario], "category": c.category,
                   "verdict": s["verdict"], "strict": s["strict"], "detail": [str(d) for d in s["detail"]],
                   "gold": [list(w) for w in c.writes], "intent": first.get("intent", ""),
                   "first": first, "yes": yeses.get(tid), "audit": done}
            rows.append(row)
            if verbose:
                _print_row(row, c.body)
        await mesh.retriever_channel.close()
        await mesh.analyst_channel.close()
    finally:
        proc.terminate()
        proc.wait(15)
    return rows


def _print_row(row: dict, body: str) -> None:
    mark = "OK " if row["strict"] else "-- "
    print(f"{mark}{row['scenario']:>4} {row['category']:<32} {row['verdict']:<16} intent={row['intent']}")
    print(f"      body: {body}")
    print(f"      gold: {row['gold']}")
    f = row["first"]
    said = f.get("reply", {}).get("text", "") or f.get("customer_message", "") or f.get("reason", "")
    print(f"      said: {said[:700]!r}")
    print(f"      labels: {f.get('labels', {})}")
    print(f"      audit: {[(a['rpc'], a['outcome'], a['order_id'], a['detail'][:120]) for a in row['audit']]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "held-out", "all"), default=DEV)
    parser.add_argument("--only", default="", help="comma-separated scenario ids")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--json", default="", help="write the rows to this file")
    parser.add_argument("--tasks", default="", help="scenarios of our own in the same format instead (all dev), "
                                                    "e.g. eval/retail/tasks_extra.json")
    args = parser.parse_args()
    tasks, db = load_data()
    if args.tasks:
        tasks = json.loads(pathlib.Path(args.tasks).read_text(encoding="utf-8"))
    all_cases = build_cases(tasks, db)
    split = {c.scenario: DEV for c in all_cases} if args.tasks else split_scenarios(all_cases)
    cases = [c for c in all_cases if c.kind == "write" and (args.split == "all" or split[c.scenario] == args.split)]
    if args.only:
        wanted = set(args.only.split(","))
        cases = [c for c in cases if c.scenario in wanted]
    rows = asyncio.run(run(cases, split, args.verbose))
    n = len(rows)
    strict = sum(r["strict"] for r in rows)
    wrong = sum(r["verdict"] == "wrong_write" for r in rows)
    print(f"{args.split}: {n} write tickets, strict {strict}/{n} = {strict / max(1, n):.1%}, wrong writes {wrong}")
    by_cat: dict[str, list[dict]] = {}
    for r in rows:
        by_cat.setdefault(r["category"], []).append(r)
    for cat, rs in sorted(by_cat.items()):
        verdicts = ", ".join(f"{k} {v}" for k, v in sorted(Counter(r["verdict"] for r in rs).items()))
        print(f"  {cat:<32}{len(rs):>4}  {sum(r['strict'] for r in rs) / len(rs):>6.1%}  {verdicts}")
    if not args.verbose:
        print("misses: " + ", ".join(f"{r['scenario']}:{r['verdict']}" for r in rows if not r["strict"]))
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(rows, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
