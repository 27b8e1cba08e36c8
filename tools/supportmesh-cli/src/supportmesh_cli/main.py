"""The `supportmesh` command: publish a ticket onto tickets.inbound, tail the outcomes of the mesh."""

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable
from typing import TextIO

from aiokafka.errors import KafkaError
from supportmesh_core import topics
from supportmesh_core.codec import JSON_TYPE, BadMessage, to_json_bytes

from .kafka_io import KafkaUnavailable, started_producer
from .tail import follow
from .tickets import build_ticket, parse_metadata

EXIT_OK, EXIT_FAILED, EXIT_USAGE_OR_UNREACHABLE = 0, 1, 2


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="supportmesh", description="Publish support tickets into supportmesh and watch what comes out.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
                        help="Kafka bootstrap servers (default: $KAFKA_BOOTSTRAP_SERVERS or 127.0.0.1:9092)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    publish = commands.add_parser(
        "publish", parents=[common], help="publish a ticket onto tickets.inbound and print its id",
        description="Publish one ticket (canonical JSON) onto tickets.inbound, keyed by conversation id. "
                    "Prints only the ticket id on stdout, so scripts can capture it.")
    publish.add_argument("--body", required=True, help="what the customer wrote; '-' reads it from stdin")
    publish.add_argument("--subject", default="")
    publish.add_argument("--email", default="", help="the customer's e-mail address")
    publish.add_argument("--name", default="", help="the customer's name")
    publish.add_argument("--zip", dest="zip_code", default="", metavar="ZIP", help="the customer's zip code")
    publish.add_argument("--ticket-id", default="", help="default: T- and 12 random hex digits")
    publish.add_argument("--conversation-id", default="", help="default: the ticket id")
    publish.add_argument("--channel", default="cli")
    publish.add_argument("--locale", default="")
    publish.add_argument("--meta", action="append", default=[], metavar="KEY=VALUE",
                         help="a metadata entry; repeat for more")

    tail = commands.add_parser(
        "tail", parents=[common], help="print what arrives on tickets.responses, .escalations and .dlq",
        description="Follow tickets.responses, tickets.escalations and tickets.dlq (committed records only, "
                    "no consumer group). Ctrl-C stops.")
    tail.add_argument("--from-beginning", action="store_true", help="start at the oldest record, not the end")
    tail.add_argument("--json", action="store_true", help="one JSON object per line, with a `topic` field")
    tail.add_argument("--ticket", default="", metavar="ID", help="only records about this ticket")
    tail.add_argument("--timeout", type=_positive, default=None, metavar="S",
                      help="exit after S seconds without a new record")
    return parser


async def _publish(args: argparse.Namespace, out: TextIO) -> int:
    body = sys.stdin.read() if args.body == "-" else args.body
    ticket = build_ticket(
        body, subject=args.subject, email=args.email, name=args.name, zip_code=args.zip_code,
        ticket_id=args.ticket_id, conversation_id=args.conversation_id, channel=args.channel,
        locale=args.locale, metadata=parse_metadata(args.meta))
    producer = await started_producer(args.bootstrap)
    try:
        meta = await producer.send_and_wait(
            topics.INBOUND, to_json_bytes(ticket), key=ticket.conversation_id.encode(),
            headers=[("content-type", JSON_TYPE.encode()), ("ticket-id", ticket.ticket_id.encode())])
    except KafkaError as exc:
        raise KafkaUnavailable(
            f"{topics.INBOUND} at {args.bootstrap} did not take the ticket: {exc}") from None
    finally:
        await producer.stop()
    print(ticket.ticket_id, file=out, flush=True)
    if sys.stderr.isatty():
        print(f"published to {meta.topic} partition {meta.partition} offset {meta.offset}", file=sys.stderr)
    return EXIT_OK


async def _tail(args: argparse.Namespace, out: TextIO, on_ready: Callable[[], None] | None) -> int:
    def ready() -> None:
        if sys.stderr.isatty() or on_ready is None:
            print(f"following {', '.join(('tickets.responses', 'tickets.escalations', 'tickets.dlq'))} "
                  f"at {args.bootstrap} (Ctrl-C stops)", file=sys.stderr, flush=True)
        if on_ready is not None:
            on_ready()

    await follow(args.bootstrap, out, from_beginning=args.from_beginning, as_json=args.json,
                 ticket=args.ticket, idle_timeout_s=args.timeout, on_ready=ready)
    return EXIT_OK


async def run_async(argv: list[str] | None = None, out: TextIO | None = None,
                    on_ready: Callable[[], None] | None = None) -> int:
    """Parse `argv` and run the command; returns the exit code. `on_ready` fires once tail is positioned."""
    parser = build_parser()
    args = parser.parse_args(argv)
    out = out or sys.stdout
    try:
        if args.command == "publish":
            return await _publish(args, out)
        return await _tail(args, out, on_ready)
    except BadMessage as exc:
        print(f"supportmesh {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE_OR_UNREACHABLE
    except KafkaUnavailable as exc:
        print(f"supportmesh {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE_OR_UNREACHABLE


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `supportmesh` script."""
    # The client library logs every reconnect attempt; the command reports the one failure that matters.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    try:
        code = asyncio.run(run_async(argv))
    except KeyboardInterrupt:
        code = EXIT_OK  # Ctrl-C is how a person stops `tail`
    except BrokenPipeError:
        # The reader went away (`supportmesh tail | head`): not an error of ours.
        sys.stderr.close()
        code = EXIT_OK
    sys.exit(code)
