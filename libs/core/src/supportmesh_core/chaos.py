"""Fault flags in the flagd style, delivered at runtime on the compacted `chaos.flags` topic, used at the handler edge.

One JSON document per service, keyed by the service name on `chaos.flags` (compacted, one partition):

    {"service": "retriever", "expiresUnixMs": 1763730000000, "flags": {
       "latencyMs": {"state": "ENABLED", "variants": {"on": 2000, "off": 0}, "defaultVariant": "on"}, ...}}

Each flag is evaluated like an OpenFeature/flagd flag: the value of its default variant while ENABLED,
its `off` variant otherwise. Every service reads the topic from the beginning with no consumer group in
a background task and keeps the newest document for its own name, so `supportmesh chaos set` takes
effect within a second and without a restart; a tombstone (or an expired document) clears the faults.
Only the stage runner, the gRPC server interceptor and the hop indexer's loop consult these flags: domain
code never knows a fault exists.
"""

import asyncio
import json
import random
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass

import structlog
from aiokafka import TopicPartition
from aiokafka.admin import NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from .kafka_security import KafkaSecurity, check_created, new_admin, new_consumer, start_client

log = structlog.get_logger()

TOPIC = "chaos.flags"

# Flag name in the document → Faults field.
_FLAG_FIELDS = {
    "latencyMs": "latency_ms", "latencyJitterMs": "jitter_ms", "latencyPct": "pct", "errorPct": "error_pct",
    "hang": "hang", "lagMs": "lag_ms", "unavailablePct": "unavailable_pct",
}
_OFF = {"latency_ms": 0, "jitter_ms": 0, "pct": 100.0, "error_pct": 0.0, "hang": False, "lag_ms": 0,
        "unavailable_pct": 0.0}


class BadFlags(ValueError):
    """A flags document or a `key=value` fault spec that cannot be understood."""


@dataclass(frozen=True)
class Faults:
    """The faults switched on for one service. `pct` is the share of messages latency and hang apply to."""

    latency_ms: int = 0
    jitter_ms: int = 0
    pct: float = 100.0
    error_pct: float = 0.0
    hang: bool = False
    lag_ms: int = 0
    unavailable_pct: float = 0.0
    expires_unix_ms: int = 0   # 0: until cleared

    def __post_init__(self) -> None:
        for name in ("pct", "error_pct", "unavailable_pct"):
            if not 0 <= getattr(self, name) <= 100:
                raise BadFlags(f"{name} must be between 0 and 100, got {getattr(self, name)}")
        for name in ("latency_ms", "jitter_ms", "lag_ms", "expires_unix_ms"):
            if getattr(self, name) < 0:
                raise BadFlags(f"{name} must not be negative, got {getattr(self, name)}")

    def any(self) -> bool:
        """Is any fault switched on? (`pct` alone only scopes latency and hang.)"""
        return any(getattr(self, f) != _OFF[f] for f in _OFF if f != "pct")

    def expired(self, now_ms: float | None = None) -> bool:
        now_ms = time.time() * 1000 if now_ms is None else now_ms
        return bool(self.expires_unix_ms) and now_ms >= self.expires_unix_ms

    def describe(self) -> str:
        """`latency=2000ms±100 pct=50 error=10% …` for the CLI and logs."""
        parts = []
        if self.latency_ms or self.jitter_ms:
            parts.append(f"latency={self.latency_ms}ms" + (f"±{self.jitter_ms}" if self.jitter_ms else ""))
        if self.hang:
            parts.append("hang")
        if (self.latency_ms or self.jitter_ms or self.hang) and self.pct != 100:
            parts.append(f"pct={self.pct:g}")
        if self.error_pct:
            parts.append(f"error={self.error_pct:g}%")
        if self.lag_ms:
            parts.append(f"lag={self.lag_ms}ms/batch")
        if self.unavailable_pct:
            parts.append(f"unavailable={self.unavailable_pct:g}%")
        return " ".join(parts) or "none"

    def to_document(self, service: str) -> dict:
        """The flagd-style document for `service` (every flag present, ENABLED only when not off)."""
        flags = {}
        for flag, name in _FLAG_FIELDS.items():
            value, off = getattr(self, name), _OFF[name]
            flags[flag] = {"state": "ENABLED" if value != off else "DISABLED",
                           "variants": {"on": value, "off": off}, "defaultVariant": "on"}
        return {"service": service, "expiresUnixMs": self.expires_unix_ms, "flags": flags}

    @classmethod
    def from_document(cls, doc: Mapping) -> "Faults":
        if not isinstance(doc, Mapping) or not isinstance(doc.get("flags", {}), Mapping):
            raise BadFlags("a flags document is an object with a `flags` object")
        values: dict = {}
        for flag, spec in doc.get("flags", {}).items():
            name = _FLAG_FIELDS.get(flag)
            if name is None:
                raise BadFlags(f"unknown flag {flag!r}; known: {', '.join(_FLAG_FIELDS)}")
            if not isinstance(spec, Mapping) or not isinstance(spec.get("variants"), Mapping):
                raise BadFlags(f"flag {flag!r} needs `variants`")
            variants = spec["variants"]
            chosen = spec.get("defaultVariant", "on") if spec.get("state", "ENABLED") == "ENABLED" else "off"
            value = variants.get(chosen, _OFF[name])
            values[name] = _coerce(name, value)
        values["expires_unix_ms"] = int(doc.get("expiresUnixMs") or 0)
        return cls(**values)


def _coerce(name: str, value):
    kind = type(_OFF[name])
    if kind is bool:
        if not isinstance(value, bool):
            raise BadFlags(f"{name} must be true or false, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadFlags(f"{name} must be a number, got {value!r}")
    return kind(value)


def _duration_ms(text: str) -> int:
    """`2s`, `250ms`, `1.5s`, `2m`, or a bare number of milliseconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*", text)
    if not match:
        raise BadFlags(f"not a duration: {text!r} (use e.g. 2s, 250ms, 1m)")
    return int(float(match.group(1)) * {"ms": 1, "s": 1000, "m": 60_000}[match.group(2) or "ms"])


def _percent(text: str) -> float:
    try:
        return float(text.rstrip("%"))
    except ValueError:
        raise BadFlags(f"not a percentage: {text!r}") from None


def parse_spec(items: list[str], now_ms: float | None = None) -> Faults:
    """`latency=2s jitter=100ms pct=50 error=10 hang lag=500ms unavailable=100 for=60s` → Faults."""
    values: dict = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip().lower()
        if key == "hang" and not sep:
            values["hang"] = True
        elif not sep or not raw:
            raise BadFlags(f"expected key=value, got {item!r}")
        elif key == "latency":
            values["latency_ms"] = _duration_ms(raw)
        elif key == "jitter":
            values["jitter_ms"] = _duration_ms(raw)
        elif key == "pct":
            values["pct"] = _percent(raw)
        elif key in ("error", "errors"):
            values["error_pct"] = _percent(raw)
        elif key == "hang":
            values["hang"] = raw.lower() in ("1", "true", "yes", "on")
        elif key == "lag":
            values["lag_ms"] = _duration_ms(raw)
        elif key == "unavailable":
            values["unavailable_pct"] = _percent(raw)
        elif key == "for":
            now_ms = time.time() * 1000 if now_ms is None else now_ms
            values["expires_unix_ms"] = int(now_ms + _duration_ms(raw))
        else:
            raise BadFlags(f"unknown fault {key!r}; known: latency, jitter, pct, error, hang, lag, unavailable, for")
    faults = Faults(**values)
    if not faults.any():
        raise BadFlags("no fault given (e.g. latency=2s, error=20, hang, lag=500ms, unavailable=100)")
    return faults


@dataclass(frozen=True)
class Draw:
    """What one message or call meets: decided once, so the span and hop say exactly what was injected."""

    delay_ms: int = 0
    hang: bool = False
    unavailable: bool = False

    def attributes(self, faults: Faults | None) -> dict[str, str]:
        """The `fault.*` keys (without the prefix) for the span and the hop document."""
        faults = faults or Faults()
        out = {"spec": faults.describe()}
        if self.delay_ms:
            out["latency_ms"] = str(self.delay_ms)
        if self.hang:
            out["hang"] = "true"
        if self.unavailable:
            out["unavailable"] = "true"
        if faults.error_pct:
            out["error_pct"] = f"{faults.error_pct:g}"
        return out


def mark_fault(span, hop, attributes: dict[str, str]) -> None:
    """Make an injected fault visible: `fault.*` on the span, the hop record's `fault` map (→ Elasticsearch)."""
    for key, value in attributes.items():
        span.set_attribute(f"fault.{key}", value)
        hop.fault[key] = value


class InjectedError(RuntimeError):
    """The error a handler attempt fails with when the `errorPct` flag hits."""


class FaultFlags:
    """The newest flags of one service, kept current by a background reader of `chaos.flags`.

    Reading never blocks the service: until the topic has been read (or while Kafka is away) no fault is
    active, and the reader keeps retrying in the background.
    """

    def __init__(self, service: str, bootstrap: str | None, rng: random.Random | None = None, *,
                 security: KafkaSecurity | None = None) -> None:
        self.service = service
        self._bootstrap = bootstrap
        self._security = security
        self._rng = rng or random.Random()
        self._faults: Faults | None = None
        self._task: asyncio.Task | None = None

    def set(self, faults: Faults | None, announce: bool = True) -> None:
        """Replace the flags (the reader does this; tests call it directly)."""
        if announce and faults != self._faults:
            log.warning("fault flags changed", service=self.service,
                        faults=faults.describe() if faults else "none")
        self._faults = faults

    def current(self) -> Faults | None:
        faults = self._faults
        if faults is None or faults.expired():
            return None
        return faults

    def draw(self) -> Draw | None:
        """Roll the dice for one message or call; None when nothing is injected into it."""
        faults = self.current()
        if faults is None:
            return None
        hit = self._rng.random() * 100 < faults.pct
        delay = 0
        if hit and (faults.latency_ms or faults.jitter_ms):
            delay = max(0, int(faults.latency_ms + self._rng.uniform(-faults.jitter_ms, faults.jitter_ms)))
        unavailable = faults.unavailable_pct > 0 and self._rng.random() * 100 < faults.unavailable_pct
        drawn = Draw(delay_ms=delay, hang=hit and faults.hang, unavailable=unavailable)
        if drawn == Draw() and not faults.error_pct:
            return None
        return drawn

    def error_hits(self) -> bool:
        """Should this handler attempt fail? Drawn per attempt, so retries can get through at pct < 100."""
        faults = self.current()
        return faults is not None and faults.error_pct > 0 and self._rng.random() * 100 < faults.error_pct

    def lag_seconds(self) -> float:
        faults = self.current()
        return faults.lag_ms / 1000 if faults else 0.0

    async def hang(self, drawn: Draw) -> None:
        """Wait until the hang flag is cleared or expires; the caller's deadline ends it sooner."""
        while drawn.hang and (f := self.current()) is not None and f.hang:
            await asyncio.sleep(0.2)

    async def during_attempt(self, drawn: Draw) -> None:
        """Inside a handler attempt: the hang, then a failure when the `errorPct` flag hits."""
        await self.hang(drawn)
        if self.error_hits():
            raise InjectedError(f"chaos: error injected into {self.service}")

    def start(self) -> None:
        """Start the background reader (no-op without a bootstrap address)."""
        if self._bootstrap and self._task is None:
            self._task = asyncio.create_task(self._read_forever(), name=f"chaos-flags-{self.service}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _read_forever(self) -> None:
        while True:
            try:
                await self._read()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a broken flag reader must never take the service down
                log.warning("chaos flags unreadable; retrying", error=str(exc))
                await asyncio.sleep(2.0)

    async def _read(self) -> None:
        await ensure_flags_topic(self._bootstrap, security=self._security)
        consumer = new_consumer(self._bootstrap, security=self._security, enable_auto_commit=False,
                                group_id=None, auto_offset_reset="earliest")
        await start_client(consumer, self._bootstrap, self._security)
        try:
            parts = [TopicPartition(TOPIC, p) for p in consumer.partitions_for_topic(TOPIC) or {0}]
            consumer.assign(parts)
            await consumer.seek_to_beginning(*parts)
            caught_up = False   # replaying history is not news; only the state reached and later changes are
            while True:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    for rec in records:
                        if (rec.key or b"").decode(errors="replace") == self.service:
                            self.set(_decode(rec.value, self.service), announce=caught_up)
                if not batch and not caught_up:
                    caught_up = True
                    if self.current() is not None:
                        log.warning("fault flags active", service=self.service, faults=self.current().describe())
        finally:
            await consumer.stop()


def _decode(value: bytes | None, service: str) -> Faults | None:
    if not value:
        return None   # a tombstone: `chaos clear`
    try:
        return Faults.from_document(json.loads(value))
    except (ValueError, TypeError) as exc:
        log.error("ignoring a bad chaos flags document", service=service, error=str(exc))
        return None


async def ensure_flags_topic(bootstrap: str, *, security: KafkaSecurity | None = None) -> None:
    """Create `chaos.flags` compacted with one partition, so the newest document per service is kept forever."""
    admin = new_admin(bootstrap, security=security)
    await start_client(admin, bootstrap, security)
    try:
        if TOPIC not in set(await admin.list_topics()):
            try:
                check_created(await admin.create_topics(
                    [NewTopic(TOPIC, 1, 1, topic_configs={"cleanup.policy": "compact"})]), bootstrap, security)
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()


def encode(service: str, faults: Faults | None) -> bytes | None:
    """The record value for `service`: its document, or a tombstone to clear it."""
    return json.dumps(faults.to_document(service)).encode() if faults else None


async def read_all(bootstrap: str, timeout_s: float = 5.0, *,
                   security: KafkaSecurity | None = None) -> dict[str, Faults]:
    """Every service's newest flags (cleared and expired ones left out), for `supportmesh chaos status`."""
    await ensure_flags_topic(bootstrap, security=security)
    consumer = new_consumer(bootstrap, security=security, enable_auto_commit=False, group_id=None)
    await start_client(consumer, bootstrap, security)
    latest: dict[str, Faults | None] = {}
    try:
        parts = [TopicPartition(TOPIC, p) for p in consumer.partitions_for_topic(TOPIC) or {0}]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        pending = {tp for tp in parts if ends[tp] > 0}
        deadline = time.monotonic() + timeout_s
        while pending and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            for tp, records in batch.items():
                for rec in records:
                    name = (rec.key or b"").decode(errors="replace")
                    latest[name] = _decode(rec.value, name)
                    if rec.offset + 1 >= ends[tp]:
                        pending.discard(tp)
        if pending:
            raise KafkaError(f"could not read {TOPIC} to its end within {timeout_s}s")
    finally:
        await consumer.stop()
    return {name: f for name, f in latest.items() if f is not None and not f.expired()}
