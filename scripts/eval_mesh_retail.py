"""The retail scenarios through the RUNNING mesh: right facts for lookups, right action or escalation for writes.

THIS EVALUATION MUTATES THE COMMERCE STORE: write requests may cancel, modify, return or exchange orders.
Gold answers come from the seed (data/retail/db.json.gz), so run it on a freshly seeded store: `--reset`
stops commerce, reseeds it (`python -m commerce reset`) and starts it again before publishing.

Builds one lookup and one write-request ticket per scenario (supportmesh_eval/retail_mesh_cases.py says how),
publishes them onto tickets.inbound with fresh ticket ids (lookups first, so no write of this run changes
an order a lookup asks about), collects each outcome from tickets.responses / tickets.escalations. The store
policy wants the customer's explicit "yes" before a write, so every write ticket whose reply proposes actions
gets a second turn in the same conversation, "Yes, please go ahead." (ticket id `<write ticket>-yes`), and
its outcome is collected too. What each write ticket did is then read from commerce's audit (ListAudit, ops
token; both turns' ticket ids) and scored. The main figure is strict (a right write done, a policy refusal by
the store, a right escalation); "lenient" also counts the right action proposed but not carried out, as
information. Shares are printed for the dev and held-out scenarios separately (retail_mesh_cases.split_scenarios)
and for all. Prints a table and one JSON object (the last line).

    uv run python scripts/eval_mesh_retail.py [--reset] [--json] [--check] [--timeout 180] [--rate 5]
        [--fault retriever latency=2s]   # quality under a fault (make chaos runs it)
        [--tasks eval/retail/tasks_heldout2.json]   # other scenarios in the same format, all held out
"""

import argparse
import asyncio
import json
import pathlib
import subprocess
import sys
import uuid
from collections import Counter

from supportmesh_core.settings import REPO_ROOT, ServiceSettings
from supportmesh_eval.mesh import CONFIRMATION, REFUND_LIMIT, audits, eval_ticket, proposes, reset_store, through_mesh
from supportmesh_eval.retail_mesh_cases import (
    DEV,
    HELD_OUT,
    Case,
    build_cases,
    load_data,
    score_lookup,
    score_write,
    split_scenarios,
    summarize,
)
from supportmesh_eval.stats import percentiles

TARGET_LOOKUP = 0.95


def _tickets(cases: dict[str, Case]) -> dict[str, dict]:
    return {tid: eval_ticket(f"C-{tid}", c.body, c.scenario) for tid, c in cases.items()}


def _confirmation_code(outcome: dict) -> str:
    """What the mesh did with a "yes", for the report: the statuses of its actions, or the escalation."""
    if outcome["type"] == "escalation":
        return f"escalated:{outcome.get('reason', '')}"
    statuses = sorted({a.get("status", "") for a in outcome.get("actions", [])})
    return "+".join(statuses) or "no_action"


def _said(outcome: dict | None) -> str:
    """The start of what the customer was told, for reading a run's results."""
    if outcome is None:
        return ""
    text = outcome.get("reply", {}).get("text", "") or outcome.get("customer_message", "")
    return text[:400]


def _degraded(outcome: dict) -> bool:
    return outcome.get("reason") == "degraded" or bool(outcome.get("degradations"))


def chaos(*args: str) -> None:
    """`supportmesh chaos …`: the same flags an operator sets."""
    subprocess.run([str(REPO_ROOT / ".venv" / "bin" / "supportmesh"), "chaos", *args], check=True,
                   stdout=subprocess.DEVNULL)


def _seen(outcome: dict | None) -> dict:
    """How the mesh read the ticket, for diagnosing a miss."""
    if outcome is None:
        return {}
    return {"intent": outcome.get("intent", ""), "confidence": round(float(outcome.get("confidence") or 0), 3)}


def print_table(report: dict, run_id: str) -> None:
    lk, wr = report["lookups"], report["writes"]
    print(f"retail scenarios through the mesh (run {run_id}; this run MUTATED the commerce store)")
    print(f"lookups: {lk['tickets']} tickets, right facts {lk['right']:.1%} (target {TARGET_LOOKUP:.0%})")
    for kind in ("status", "tracking", "amount", "status_tracking"):
        print(f"  {kind:<18}{lk[kind]['tickets']:>4}  {lk[kind]['right']:.1%}")
    print(f"write requests: {wr['tickets']} tickets; right action done / policy refusal / right escalation "
          f"{wr['strict']:.1%} (main figure); info: also counting the right action only proposed "
          f"{wr['lenient']:.1%}")
    conf = report["confirmations"]
    print(f"confirmation turns: {conf['sent']} sent, {conf['answered']} answered: "
          + ", ".join(f"{k} {v}" for k, v in sorted(conf["outcomes"].items())))
    print(f"  {'category':<32}{'n':>4}{'strict':>8}{'lenient':>9}  verdicts")
    for category, row in wr["by_category"].items():
        verdicts = ", ".join(f"{k} {v}" for k, v in row["verdicts"].items())
        print(f"  {category:<32}{row['tickets']:>4}{row['strict']:>8.1%}{row['lenient']:>9.1%}  {verdicts}")
    print(f"  {'split':<10}{'lookups':>9}{'writes strict':>15}{'lenient':>9}")
    for part, row in [*report["splits"].items(), ("all", report)]:
        print(f"  {part:<10}{row['lookups']['right']:>9.1%}{row['writes']['strict']:>15.1%}"
              f"{row['writes']['lenient']:>9.1%}")
    for miss in report["lookup_misses"][:15]:
        print(f"  lookup miss {miss['scenario']} ({miss['question']}): {miss['verdict']}, missing "
              f"{', '.join(miss['missing'])}")
    lat = report["latency_ms"]
    print(f"fault: {report['fault'] or 'none'}; end-to-end latency p50 {lat['p50']} ms, p95 {lat['p95']} ms, max "
          f"{lat['max']} ms; degraded {report['degraded_share']:.1%}")
    print(f"target (lookups >= {TARGET_LOOKUP:.0%}): {'met' if report['targets_met'] else 'MISSED'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reset", action="store_true", help="reseed the commerce store first (restarts commerce)")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for each phase's outcomes")
    parser.add_argument("--json", action="store_true", help="print only the JSON object")
    parser.add_argument("--check", action="store_true", help="exit 1 when the lookup target is missed")
    parser.add_argument("--rate", type=float, default=0.0, help="tickets per second (default 0: all at once)")
    parser.add_argument("--fault", nargs="+", metavar="ARG", default=[],
                        help="a fault held for the whole run, as `supportmesh chaos set` takes it "
                             "(e.g. --fault retriever latency=2s); cleared at the end")
    parser.add_argument("--tasks", default="", help="scenarios in the same format from this file instead, all "
                                                    "held out (e.g. eval/retail/tasks_heldout2.json)")
    args = parser.parse_args()
    settings = ServiceSettings(OTEL_SERVICE_NAME="eval-mesh-retail")
    if args.reset:
        reset_store()
    tasks, db = load_data()
    if args.tasks:
        tasks = json.loads(pathlib.Path(args.tasks).read_text(encoding="utf-8"))
    cases = build_cases(tasks, db)
    run_id = uuid.uuid4().hex[:8]
    lookups = {f"T-retail-{run_id}-{c.scenario}-lookup": c for c in cases if c.kind == "lookup"}
    writes = {f"T-retail-{run_id}-{c.scenario}-write": c for c in cases if c.kind == "write"}
    print(f"publishing {len(lookups)} lookups, then {len(writes)} write requests (mutates the commerce store)",
          file=sys.stderr)
    bootstrap = settings.kafka_bootstrap_servers
    if args.fault:
        chaos("set", *args.fault)
    try:
        got = asyncio.run(through_mesh(bootstrap, _tickets(lookups), args.timeout, args.rate))
        got |= asyncio.run(through_mesh(bootstrap, _tickets(writes), args.timeout, args.rate))
        confirm = {f"{tid}-yes": eval_ticket(f"C-{tid}", CONFIRMATION, c.scenario) for tid, c in writes.items()
                   if proposes(got.get(tid))}
        print(f"confirming {len(confirm)} proposals with {CONFIRMATION!r}", file=sys.stderr)
        confirmed = asyncio.run(through_mesh(bootstrap, confirm, args.timeout, args.rate)) if confirm else {}
    finally:
        if args.fault:
            chaos("clear", args.fault[0])
    audit = asyncio.run(audits(settings.commerce_addr, [*writes, *confirm]))

    scored_lookups = [(c, score_lookup(c, got.get(tid))) for tid, c in lookups.items()]
    scored_writes = [(c, score_write(c, got.get(tid), audit[tid] + audit.get(f"{tid}-yes", []), REFUND_LIMIT))
                     for tid, c in writes.items()]
    split = {c.scenario: HELD_OUT for c in cases} if args.tasks else split_scenarios(cases)
    report = summarize(scored_lookups, scored_writes)
    report["splits"] = {part: summarize([x for x in scored_lookups if split[x[0].scenario] == part],
                                        [x for x in scored_writes if split[x[0].scenario] == part])
                        for part in (DEV, HELD_OUT)}
    report.update(
        run=run_id, mutates_store=True, reset=args.reset, fault=" ".join(args.fault), rate=args.rate,
        latency_ms=percentiles([o["latency_ms"] for o in [*got.values(), *confirmed.values()]]),
        degraded_share=round(sum(_degraded(o) for o in got.values()) / max(1, len(got)), 4),
        outcomes=len(got) + len(confirmed),
        # Seen while collecting (until the last ticket's first outcome), so a late repeat can be missed.
        answered_twice=sum(1 for o in [*got.values(), *confirmed.values()] if o.get("extra_outcomes")),
        published=len(lookups) + len(writes) + len(confirm),
        confirmations={"sent": len(confirm), "answered": len(confirmed),
                       "outcomes": dict(Counter(_confirmation_code(o) for o in confirmed.values()))},
        lookup_misses=[{"scenario": c.scenario, "question": c.question, **s, **_seen(got.get(tid))}
                       for (tid, c), (_, s) in zip(lookups.items(), scored_lookups, strict=True) if not s["right"]],
        write_results=[{"scenario": c.scenario, "split": split[c.scenario], "category": c.category,
                        "verdict": s["verdict"], "confirmed": f"{tid}-yes" in confirm,
                        "said": _said(got.get(tid)), "said_after_yes": _said(confirmed.get(f"{tid}-yes")),
                        "detail": [str(d) for d in s["detail"]], **_seen(got.get(tid))}
                       for (tid, c), (_, s) in zip(writes.items(), scored_writes, strict=True)],
        targets={"lookup_right": TARGET_LOOKUP}, targets_met=report["lookups"]["right"] >= TARGET_LOOKUP)
    if not args.json:
        print_table(report, run_id)
    print(json.dumps(report, sort_keys=True))
    return 1 if args.check and not report["targets_met"] else 0


if __name__ == "__main__":
    sys.exit(main())
