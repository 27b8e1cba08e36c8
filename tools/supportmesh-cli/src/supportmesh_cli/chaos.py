"""`supportmesh chaos set|clear|status`: write and read the fault flags on the `chaos.flags` control topic."""

import argparse
import asyncio
import json
import time
from dataclasses import asdict
from typing import TextIO

from aiokafka.errors import KafkaError
from supportmesh_core import chaos, topics
from supportmesh_core.kafka_security import KafkaSecurityError

from .kafka_io import KafkaUnavailable, security, started_producer

# Every service that reads flags: the five stages, commerce (gRPC) and the hop indexer.
SERVICES = (*topics.STAGES, "commerce", "hop-indexer")


def add_parser(commands, common: argparse.ArgumentParser) -> None:
    """Register `chaos` and its three actions on the top-level subcommands."""
    parser = commands.add_parser(
        "chaos", help="inject faults into a running service (latency, errors, hang, lag, gRPC unavailable)",
        description="Fault flags in the flagd style, delivered on the compacted chaos.flags topic; services pick "
                    "them up within a second, without a restart.")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    set_ = actions.add_parser(
        "set", parents=[common], help="switch faults on for one service (replaces its current faults)",
        description="Faults: latency=2s jitter=200ms pct=50 (share of messages) error=20 (%% of attempts) hang "
                    "lag=500ms (per consumed batch) unavailable=100 (%% of gRPC calls, commerce) for=60s "
                    "(expiry; default: until cleared).")
    set_.add_argument("service", choices=SERVICES)
    set_.add_argument("faults", nargs="+", metavar="KEY=VALUE")
    set_.add_argument("--json", action="store_true", help="print the flags document written")
    clear = actions.add_parser("clear", parents=[common], help="switch the faults off (one service or all)")
    clear.add_argument("service", nargs="?", choices=SERVICES)
    status = actions.add_parser("status", parents=[common], help="the faults active now, per service")
    status.add_argument("--json", action="store_true", help="one JSON object: service → faults")


async def _write(bootstrap: str, records: dict[str, bytes | None]) -> None:
    producer = await started_producer(bootstrap)   # fails fast with a clear reason when Kafka is away
    try:
        await chaos.ensure_flags_topic(bootstrap, security=security())
    except (KafkaError, KafkaSecurityError) as exc:
        await producer.stop()
        raise KafkaUnavailable(f"cannot create {chaos.TOPIC} at {bootstrap}: {exc}") from None
    try:
        for service, value in records.items():
            await producer.send_and_wait(chaos.TOPIC, value, key=service.encode())
    except KafkaError as exc:
        raise KafkaUnavailable(f"{chaos.TOPIC} at {bootstrap} did not take the flags: {exc}") from None
    finally:
        await producer.stop()


async def _read(bootstrap: str) -> dict[str, chaos.Faults]:
    try:
        return await asyncio.wait_for(chaos.read_all(bootstrap, security=security()), 20)
    except (KafkaError, KafkaSecurityError, OSError, TimeoutError) as exc:
        raise KafkaUnavailable(f"cannot read {chaos.TOPIC} at {bootstrap}: {exc or type(exc).__name__}") from None


def _until(faults: chaos.Faults) -> str:
    if not faults.expires_unix_ms:
        return "until cleared"
    return f"for {max(0, faults.expires_unix_ms / 1000 - time.time()):.0f}s more"


async def run(args: argparse.Namespace, out: TextIO) -> None:
    """Carry out `chaos <action>`; raises chaos.BadFlags on a bad spec, KafkaUnavailable without Kafka."""
    if args.action == "set":
        faults = chaos.parse_spec(args.faults)
        await _write(args.bootstrap, {args.service: chaos.encode(args.service, faults)})
        if args.json:
            print(json.dumps(faults.to_document(args.service)), file=out, flush=True)
        else:
            print(f"{args.service}: {faults.describe()} ({_until(faults)})", file=out, flush=True)
    elif args.action == "clear":
        names = [args.service] if args.service else sorted(set(SERVICES) | set(await _read(args.bootstrap)))
        await _write(args.bootstrap, {name: None for name in names})
        print(f"cleared: {', '.join(names)}", file=out, flush=True)
    else:
        active = await _read(args.bootstrap)
        if args.json:
            print(json.dumps({name: asdict(f) for name, f in sorted(active.items())}), file=out, flush=True)
        elif not active:
            print("no faults active", file=out, flush=True)
        else:
            for name, faults in sorted(active.items()):
                print(f"{name:20s} {faults.describe()} ({_until(faults)})", file=out, flush=True)
