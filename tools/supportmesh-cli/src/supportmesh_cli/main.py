"""The `supportmesh` command: publish a ticket, tail the outcomes of the mesh, show a ticket's trace."""

import argparse
import asyncio
import getpass
import json
import logging
import os
import shutil
import sys
from collections.abc import Callable
from typing import TextIO

from aiokafka.errors import KafkaError
from supportmesh_core import topics
from supportmesh_core.chaos import BadFlags
from supportmesh_core.codec import JSON_TYPE, BadMessage, to_json_bytes
from supportmesh_core.elastic import ElasticsearchConfigError, client_options

from . import chaos, kafka_provision
from .classify import ModelUnavailable
from .es_security import ProvisionFailed
from .evaluate import BadEvalData
from .kafka_io import KafkaUnavailable, started_producer
from .reply import NothingToApprove, UnknownTicket, build_reply, find_outcome, send_reply
from .tail import follow
from .tickets import build_ticket, parse_metadata
from .trace import NotFound, TraceUnavailable

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
                    "Prints only the ticket id on stdout, so scripts can capture it (--json: the ticket sent and "
                    "where it went).")
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
    publish.add_argument("--json", action="store_true",
                         help="print one JSON object: the ticket as sent, and its topic, partition and offset")

    reply = commands.add_parser(
        "reply", parents=[common], help="answer a ticket as a human agent, optionally approving its case's action",
        description="Find the ticket's escalation (else its answer) on the output topics, and publish an agent reply "
                    "onto tickets.agent-replies keyed by its conversation: the mesh records it as the agent's turn, "
                    "makes what --approve approves (the action the escalation's case awaits, e.g. a refund above "
                    "the limit) and sends the text to the customer. Prints the record it sent.")
    reply.add_argument("ticket_id", metavar="TICKET_ID", help="the ticket answered, e.g. T-3f2a9c1d0b7e")
    reply.add_argument("--text", required=True, help="what the customer reads; '-' reads it from stdin")
    reply.add_argument("--approve", action="store_true",
                       help="approve the action the ticket's escalation case awaits (refund_above_limit: the refund)")
    reply.add_argument("--agent", default=os.environ.get("SUPPORTMESH_AGENT_ID", ""),
                       help="who answers (default: $SUPPORTMESH_AGENT_ID or agent:<login name>)")
    reply.add_argument("--reply-id", default="", help="default: AR- and 12 random hex digits")
    reply.add_argument("--since-hours", type=_positive, default=168.0, metavar="H",
                       help="how far back to look for the ticket's outcome (default: %(default)s)")

    tail = commands.add_parser(
        "tail", parents=[common], help="print what arrives on tickets.responses, .escalations and .dlq",
        description="Follow tickets.responses, tickets.escalations and tickets.dlq (committed records only, "
                    "no consumer group). Ctrl-C stops.")
    tail.add_argument("--from-beginning", action="store_true", help="start at the oldest record, not the end")
    tail.add_argument("--json", action="store_true", help="one JSON object per line, with a `topic` field")
    tail.add_argument("--ticket", default="", metavar="ID", help="only records about this ticket")
    tail.add_argument("--timeout", type=_positive, default=None, metavar="S",
                      help="exit after S seconds without a new record")

    trace = commands.add_parser(
        "trace", help="show a ticket's path through the mesh as a waterfall, read from Elasticsearch",
        description="Find every hop of a ticket (or of a W3C trace id) in the supportmesh-hops-* indices, "
                    "including the gRPC calls it made and served, and print them as a waterfall: service, "
                    "stage, start offset, duration bar, outcome, error, fault.")
    trace.add_argument("id", metavar="TICKET_OR_TRACE_ID", help="a ticket id (T-…) or a 32-hex trace id")
    trace.add_argument("--json", action="store_true", help="print one JSON object with the ids and a `hops` list")
    trace.add_argument("--es", default=os.environ.get("ELASTICSEARCH_URL", "http://127.0.0.1:9200"),
                       help="Elasticsearch URL (default: $ELASTICSEARCH_URL or http://127.0.0.1:9200)")
    trace.add_argument("--index", default="supportmesh-hops-*", help="index pattern (default: %(default)s)")
    trace.add_argument("--ca-file", default=os.environ.get("ELASTICSEARCH_CA_FILE", ""), metavar="PEM",
                       help="CA that signed Elasticsearch's certificate (default: $ELASTICSEARCH_CA_FILE; "
                            "unset: the system trust store). Credentials come from $ELASTICSEARCH_API_KEY or "
                            "$ELASTICSEARCH_USERNAME/$ELASTICSEARCH_PASSWORD, never from the command line")

    provision = commands.add_parser(
        "es-provision", help="create the roles, API keys and read-only user of a secured Elasticsearch",
        description="As a superuser (ELASTICSEARCH_USERNAME/PASSWORD, default supportmesh-admin with the password "
                    "`ES_SECURITY=1 deploy/infra.sh` keeps in $SUPPORTMESH_HOME/secrets), write the roles "
                    "supportmesh-hop-indexer, supportmesh-retriever and supportmesh-trace, the read-only user "
                    "supportmesh-trace, and a new API key for hop-indexer and for the retriever; then one env "
                    "file per caller (mode 600). Prints the files' paths.")
    provision.add_argument("--es", default=os.environ.get("ELASTICSEARCH_URL", "https://127.0.0.1:9200"),
                           help="Elasticsearch URL (default: $ELASTICSEARCH_URL or https://127.0.0.1:9200)")
    provision.add_argument("--ca-file", default=os.environ.get("ELASTICSEARCH_CA_FILE", ""), metavar="PEM",
                           help="CA that signed Elasticsearch's certificate (default: $ELASTICSEARCH_CA_FILE)")
    provision.add_argument("--kb-index", default=os.environ.get("KB_INDEX", "supportmesh-kb"),
                           help="the retriever's knowledge-base index (default: $KB_INDEX or supportmesh-kb)")
    provision.add_argument("--out", default="", metavar="DIR",
                           help="where the env files go (default: $SUPPORTMESH_HOME/secrets/elasticsearch)")
    provision.add_argument("--rotate", action="store_true",
                           help="invalidate the API keys an earlier run made (running services lose access)")

    classify = commands.add_parser(
        "classify", help="classify one text with the trained intent classifier and print its JSON",
        description="Run the intent classifier (the model `make train` saved) on TEXT and print intent, "
                    "confidence, alternatives, category, sentiment, flags, priority and entities as JSON.")
    classify.add_argument("text", help="the ticket text; '-' reads it from stdin")
    classify.add_argument("--model-dir", default="", metavar="DIR",
                          help="default: $SUPPORTMESH_MODEL_DIR or artifacts/intent-classifier")

    evaluation = commands.add_parser("eval", help="measure an agent on a labelled file")
    targets = evaluation.add_subparsers(dest="target", required=True, metavar="TARGET")
    intents = targets.add_parser(
        "intents", help="accuracy, macro-F1, per-intent P/R/F1 and worst confusions on a labelled CSV",
        description="Classify every row of a CSV file and compare with its label. Labels outside the "
                    "classifier's taxonomy are an error (exit 2), not a silent zero.")
    intents.add_argument("--data", required=True, metavar="FILE.csv", help="CSV with a header row")
    intents.add_argument("--text-col", default="text", metavar="C", help="text column (default: %(default)s)")
    intents.add_argument("--label-col", default="intent", metavar="C",
                         help="label column (default: %(default)s)")
    intents.add_argument("--json", action="store_true",
                         help="one JSON object: accuracy, macro_f1, per_intent, confusions, ece, ...")
    intents.add_argument("--min-confidence", type=float, default=0.6, metavar="P",
                         help="the escalation floor the report splits on (default: %(default)s)")
    intents.add_argument("--model-dir", default="", metavar="DIR",
                         help="default: $SUPPORTMESH_MODEL_DIR or artifacts/intent-classifier")
    chaos.add_parser(commands, common)
    kafka_provision.add_parser(commands, common)
    return parser


def _classify(args: argparse.Namespace, out: TextIO) -> int:
    from .classify import classify

    text = sys.stdin.read() if args.text == "-" else args.text
    if not text.strip():
        raise BadEvalData("the text is empty")
    classify(text, args.model_dir, out)
    return EXIT_OK


def _eval(args: argparse.Namespace, out: TextIO) -> int:
    from .evaluate import eval_intents

    eval_intents(args.data, args.text_col, args.label_col, args.json, args.model_dir, args.min_confidence, out)
    return EXIT_OK


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
    if args.json:
        sent = {"ticket": json.loads(to_json_bytes(ticket)), "topic": meta.topic, "partition": meta.partition,
                "offset": meta.offset}
        print(json.dumps(sent, ensure_ascii=False), file=out, flush=True)
        return EXIT_OK
    print(ticket.ticket_id, file=out, flush=True)
    if sys.stderr.isatty():
        print(f"published to {meta.topic} partition {meta.partition} offset {meta.offset}", file=sys.stderr)
    return EXIT_OK


async def _reply(args: argparse.Namespace, out: TextIO) -> int:
    text = sys.stdin.read() if args.text == "-" else args.text
    topic, outcome = await find_outcome(args.bootstrap, args.ticket_id, args.since_hours)
    reply = build_reply(args.ticket_id, topic, outcome, text, args.agent or f"agent:{getpass.getuser()}",
                        args.approve, args.reply_id)
    await send_reply(args.bootstrap, reply)
    print(to_json_bytes(reply).decode(), file=out, flush=True)
    if sys.stderr.isatty():
        approved = ", ".join(f"{a.action} on {a.case_id}" for a in reply.approved_actions) or "nothing"
        print(f"sent {reply.reply_id} to {topics.AGENT_REPLIES} (conversation {reply.conversation_id}), approving "
              f"{approved}", file=sys.stderr)
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


async def _trace(args: argparse.Namespace, out: TextIO) -> int:
    from elasticsearch import AsyncElasticsearch

    from .trace import as_json, fetch, render

    options = client_options(args.es, api_key=os.environ.get("ELASTICSEARCH_API_KEY", ""),
                             username=os.environ.get("ELASTICSEARCH_USERNAME", ""),
                             password=os.environ.get("ELASTICSEARCH_PASSWORD", ""), ca_file=args.ca_file or None)
    # A person at a prompt wants an answer or a reason within seconds, not the client's retries.
    es = AsyncElasticsearch(args.es, request_timeout=10, max_retries=0, **options)
    try:
        trace = await fetch(es, args.index, args.id)
    finally:
        await es.close()
    if args.json:
        print(json.dumps(as_json(trace), ensure_ascii=False), file=out, flush=True)
    else:
        width = shutil.get_terminal_size((120, 24)).columns
        print(render(trace, width), file=out, flush=True)
    return EXIT_OK


async def _es_provision(args: argparse.Namespace, out: TextIO) -> int:
    import pathlib

    from elasticsearch import AsyncElasticsearch

    from . import es_security

    username = os.environ.get("ELASTICSEARCH_USERNAME", "") or es_security.ADMIN_USER
    options = client_options(args.es, username=username, password=es_security.admin_password(),
                             ca_file=args.ca_file or None)
    es = AsyncElasticsearch(args.es, request_timeout=30, max_retries=0, **options)
    try:
        creds = await es_security.provision(es, kb_index=args.kb_index, rotate=args.rotate)
    finally:
        await es.close()
    out_dir = pathlib.Path(args.out) if args.out else es_security.default_out_dir()
    for path in es_security.write_env_files(out_dir, creds, args.es, args.ca_file):
        print(path, file=out, flush=True)
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
        if args.command == "reply":
            return await _reply(args, out)
        if args.command == "trace":
            return await _trace(args, out)
        if args.command == "es-provision":
            return await _es_provision(args, out)
        if args.command == "classify":
            return _classify(args, out)
        if args.command == "eval":
            return _eval(args, out)
        if args.command == "kafka-provision":
            await kafka_provision.run(args, out)
            return EXIT_OK
        if args.command == "chaos":
            await chaos.run(args, out)
            return EXIT_OK
        return await _tail(args, out, on_ready)
    except BadMessage as exc:
        print(f"supportmesh {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE_OR_UNREACHABLE
    except (ModelUnavailable, BadEvalData, BadFlags) as exc:
        print(f"supportmesh {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE_OR_UNREACHABLE
    except (KafkaUnavailable, TraceUnavailable, ElasticsearchConfigError, ProvisionFailed) as exc:
        print(f"supportmesh {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE_OR_UNREACHABLE
    except NothingToApprove as exc:
        print(f"supportmesh {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE_OR_UNREACHABLE
    except (NotFound, UnknownTicket) as exc:
        print(f"supportmesh {args.command}: {exc}", file=sys.stderr)
        return EXIT_FAILED


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
