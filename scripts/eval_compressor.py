"""Measure the context compressor's fidelity: key facts retained and compression, on long conversations.

Builds the retail conversations (from data/retail) and the pasted-log tickets
(supportmesh_eval.compressor_conversations), plays each through the compressor's stage handler
(context_compressor.fidelity), and prints a table and one JSON object (the last line). Targets: facts retained
>= 98% at compression >= 4x.

    uv run python scripts/eval_compressor.py [--budget 512] [--json] [--check]
"""

import argparse
import asyncio
import json
import sys

from context_compressor.fidelity import evaluate, summarize
from supportmesh_eval.compressor_conversations import all_conversations

TARGET_RETAINED, TARGET_RATIO = 0.98, 4.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=512, help="the compressor's token budget (default 512)")
    parser.add_argument("--json", action="store_true", help="print only the JSON object")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    if args.budget < 64:
        parser.error("--budget must be at least 64 tokens")

    report = summarize(asyncio.run(evaluate(all_conversations(), args.budget)))
    overall = report["all"]
    report["budget"] = args.budget
    report["targets"] = {"facts_retained": TARGET_RETAINED, "compression": TARGET_RATIO}
    report["targets_met"] = (overall["facts_retained"] >= TARGET_RETAINED
                             and overall["compression_overall"] >= TARGET_RATIO)
    if not args.json:
        print(f"context compressor fidelity (budget {args.budget} tokens, cl100k_base)")
        print(f"{'set':<8}{'convs':>6}{'turns':>7}{'orig tok':>10}{'ctx tok':>9}{'facts':>7}"
              f"{'retained':>10}{'ratio':>7}{'median':>8}{'min':>6}")
        for name in [k for k in report if k in ("all", "retail", "logs")]:
            r = report[name]
            print(f"{name:<8}{r['conversations']:>6}{r['turns_mean']:>7}{r['original_tokens_mean']:>10}"
                  f"{r['context_tokens_mean']:>9}{r['gold_facts']:>7}{r['facts_retained']:>10.2%}"
                  f"{r['compression_overall']:>7.2f}{r['compression_median']:>8.2f}{r['compression_min']:>6.2f}")
        for conversation, missing in report["missing"].items():
            print(f"  missing in {conversation}: {', '.join(missing)}")
        print(f"targets (>= {TARGET_RETAINED:.0%} retained at >= {TARGET_RATIO:.0f}x): "
              f"{'met' if report['targets_met'] else 'MISSED'}")
    print(json.dumps(report, sort_keys=True))
    return 1 if args.check and not report["targets_met"] else 0


if __name__ == "__main__":
    sys.exit(main())
