"""Follows the outcome topics and renders each record for a person, or as one JSON line for a script."""

import asyncio
import base64
import binascii
import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import TextIO

from aiokafka import ConsumerRecord, TopicPartition
from google.protobuf.message import DecodeError, Message
from supportmesh.v1.outcomes_pb2 import DlqRecord, Escalation, Response
from supportmesh_core import topics
from supportmesh_core.codec import PROTOBUF_TYPE, to_dict

from .kafka_io import KafkaUnavailable, started_reader

FOLLOWED = (topics.RESPONSES, topics.ESCALATIONS, topics.DLQ)
_PROTO_TYPES: dict[str, type[Message]] = {
    topics.RESPONSES: Response, topics.ESCALATIONS: Escalation, topics.DLQ: DlqRecord,
}


class Unreadable(ValueError):
    """A record on an outcome topic that is neither its JSON nor its protobuf form."""


def _header(rec: ConsumerRecord, name: str) -> str:
    for key, value in rec.headers or ():
        if key.lower() == name:
            return value.decode(errors="replace")
    return ""


def decode_record(rec: ConsumerRecord) -> dict:
    """The record as a dict, whether the mesh wrote it as JSON (the default) or protobuf."""
    if _header(rec, "content-type").split(";")[0].strip() == PROTOBUF_TYPE:
        msg = _PROTO_TYPES[rec.topic]()
        try:
            msg.ParseFromString(rec.value or b"")
        except DecodeError as exc:
            raise Unreadable(f"not a protobuf {msg.DESCRIPTOR.name}: {exc}") from None
        return to_dict(msg)
    try:
        data = json.loads(rec.value or b"")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise Unreadable(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise Unreadable(f"JSON {type(data).__name__}, not an object")
    return data


def ticket_of(rec: ConsumerRecord, data: dict) -> str:
    """The ticket a record is about; for a dead letter, read from the original message when it was JSON."""
    ticket_id = data.get("ticket_id") or _header(rec, "ticket-id")
    if not ticket_id and data.get("original_base64"):
        try:
            original = json.loads(base64.b64decode(data["original_base64"]))
            ticket_id = original.get("ticket_id", "") if isinstance(original, dict) else ""
        except (binascii.Error, ValueError):
            ticket_id = ""
    return str(ticket_id or "")


def _indent(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line if line.strip() else "" for line in text.strip().splitlines())


def render(rec: ConsumerRecord, data: dict) -> str:
    """A headline (time, kind, ticket, key facts), then the text a person reads, indented."""
    clock = datetime.fromtimestamp(rec.timestamp / 1000).strftime("%H:%M:%S")
    ticket = data.get("ticket_id") or "-"
    if rec.topic == topics.RESPONSES:
        confidence = float(data.get("confidence") or 0)
        head = (f"{clock} RESPONSE {ticket} {data.get('intent') or '?'} ({confidence:.2f}) "
                f"{data.get('latency_ms', 0)} ms")
        if data.get("agent_id"):   # a human agent's reply: who wrote it, to which ticket
            head = (f"{clock} AGENT REPLY {ticket} to {data.get('in_reply_to') or '?'} by {data['agent_id']} "
                    f"{data.get('latency_ms', 0)} ms")
        if data.get("engine"):
            head += f" engine={data['engine']}"
        if data.get("degradations"):
            head += f" degraded={','.join(data['degradations'])}"
        reply = data.get("reply") or {}
        lines = [head, _indent(reply.get("text") or "(no reply text)")]
        if reply.get("citations"):
            lines.append(f"  cites: {', '.join(reply['citations'])}")
        if data.get("actions"):
            done = ", ".join(f"{a.get('name')}={a.get('status')}" for a in data["actions"])
            lines.append(f"  actions: {done}")
        return "\n".join(lines)
    if rec.topic == topics.ESCALATIONS:
        head = (f"{clock} ESCALATION {ticket} reason={data.get('reason') or '?'} "
                f"intent={data.get('intent') or '?'} priority={data.get('priority') or '?'}")
        if data.get("case_id"):
            head += f" case={data['case_id']}"
        lines = [head, _indent(data.get("summary") or "(no summary)")]
        # The mesh's summaries say what the customer was told ("Customer told:"); another producer's may not.
        if data.get("customer_message") and "Customer told:" not in (data.get("summary") or ""):
            lines.append(_indent(f"told the customer: {data['customer_message']}"))
        return "\n".join(lines)
    source = data.get("source") or {}
    head = (f"{clock} DLQ error={data.get('error') or '?'} "
            f"source={source.get('topic', '?')}/{source.get('partition', '?')}/{source.get('offset', '?')}")
    if data.get("service"):
        head += f" by={data['service']}"
    return head


async def follow(bootstrap: str, out: TextIO, *, from_beginning: bool = False, as_json: bool = False,
                 ticket: str = "", idle_timeout_s: float | None = None,
                 on_ready: Callable[[], None] | None = None) -> int:
    """Print records from the outcome topics until interrupted, or until `idle_timeout_s` passes without one.

    Returns the number of records printed. Raises KafkaUnavailable when no broker answers.
    """
    consumer = await started_reader(bootstrap)
    try:
        # topics() returns a fresh snapshot without updating the consumer's own metadata, which
        # partitions_for_topic reads; refreshing it is the one way aiokafka offers a group-less reader.
        await consumer._client.force_metadata_update()
        parts = [TopicPartition(t, p) for t in FOLLOWED
                 for p in sorted(consumer.partitions_for_topic(t) or ())]
        if not parts:
            raise KafkaUnavailable(
                f"none of {', '.join(FOLLOWED)} exist at {bootstrap} yet: is the mesh running?")
        consumer.assign(parts)
        if from_beginning:
            await consumer.seek_to_beginning(*parts)
        else:
            await consumer.seek_to_end(*parts)
        for tp in parts:
            await consumer.position(tp)  # resolve the start now, so nothing produced after "ready" is skipped
        if on_ready is not None:
            on_ready()
        printed = 0
        last = time.monotonic()
        while idle_timeout_s is None or time.monotonic() - last < idle_timeout_s:
            batch = await consumer.getmany(timeout_ms=250)
            records = sorted((r for recs in batch.values() for r in recs), key=lambda r: r.timestamp)
            for rec in records:
                try:
                    data = decode_record(rec)
                except Unreadable as exc:
                    if not ticket:
                        _print_unreadable(out, rec, str(exc), as_json)
                        printed += 1
                        last = time.monotonic()
                    continue
                if ticket and ticket not in (ticket_of(rec, data), data.get("in_reply_to")):
                    continue
                if as_json:
                    print(json.dumps({"topic": rec.topic, **data}, ensure_ascii=False), file=out, flush=True)
                else:
                    print(render(rec, data), file=out, flush=True)
                printed += 1
                last = time.monotonic()
            await asyncio.sleep(0)
        return printed
    finally:
        await consumer.stop()


def _print_unreadable(out: TextIO, rec: ConsumerRecord, reason: str, as_json: bool) -> None:
    where = f"{rec.topic}/{rec.partition}/{rec.offset}"
    if as_json:
        print(json.dumps({"topic": rec.topic, "unreadable": reason, "partition": rec.partition,
                          "offset": rec.offset}), file=out, flush=True)
    else:
        print(f"?? unreadable record at {where}: {reason}", file=out, flush=True)
