"""Token buckets at the intake: per customer, per channel and one for the whole intake, in bounded memory."""

from collections import OrderedDict
from dataclasses import dataclass

from supportmesh_core.identity import customer_key

CUSTOMER, CHANNEL, GLOBAL = "customer", "channel", "global"


@dataclass(frozen=True)
class Rate:
    """A bucket's shape: `per_s` tokens come back each second, at most `burst` are kept."""

    per_s: float
    burst: float

    def __post_init__(self) -> None:
        if self.per_s <= 0 or self.burst < 1:
            raise ValueError(f"a rate needs per_s > 0 and burst >= 1, not {self.per_s}/s burst {self.burst}")


class Bucket:
    """One token bucket. It starts full; `flooding` is set when it first refuses and cleared once it is full again,
    so one refusal per flood can be told apart from the rest."""

    __slots__ = ("tokens", "at", "flooding")

    def __init__(self, rate: Rate, now: float) -> None:
        self.tokens = rate.burst
        self.at = now
        self.flooding = False

    def refill(self, rate: Rate, now: float) -> None:
        if now > self.at:
            self.tokens = min(rate.burst, self.tokens + (now - self.at) * rate.per_s)
            self.at = now
        if self.tokens >= rate.burst:
            self.flooding = False

    def full_at(self, rate: Rate) -> float:
        """When it will be full again if nothing is taken: until then it holds state a new bucket would not."""
        return self.at + (rate.burst - self.tokens) / rate.per_s


class Buckets:
    """Buckets by key, least recently used first. A bucket that has refilled completely equals a new one, so it
    is forgotten; past `max_keys` the least recently used goes even if it is not full (its customer then starts
    again with a full burst: the cap bounds memory against a flood of distinct identities)."""

    def __init__(self, rate: Rate, max_keys: int) -> None:
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self.rate = rate
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def get(self, key: str, now: float) -> Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = Bucket(self.rate, now)
        else:
            self._buckets.move_to_end(key)
            bucket.refill(self.rate, now)
        self._evict(now, keep=key)
        return bucket

    def _evict(self, now: float, keep: str) -> None:
        # Only the front (the longest unused) is looked at, so a call costs about nothing; a bucket behind one
        # still refilling waits for it, and the cap bounds them all.
        while self._buckets:
            key, oldest = next(iter(self._buckets.items()))
            if key == keep:
                break
            if len(self._buckets) <= self.max_keys and oldest.full_at(self.rate) > now:
                break
            del self._buckets[key]


@dataclass(frozen=True)
class Decision:
    """What the intake does with one ticket.

    `held` names the limit that refused it ('' when admitted); `first` is set on the first refusal of a flood
    (the bucket was full before it began), so a person can be told once; `wait_s` is how long an admitted ticket
    waits for the intake-wide pace.
    """

    held: str = ""
    first: bool = False
    wait_s: float = 0.0


class Limits:
    """The intake's three limits. The customer's bucket is asked first and a refused ticket takes nothing from the
    others, so one customer's flood cannot use up the channel's or the intake's tokens and hold back anyone else.
    Over the customer or channel limit a ticket is refused; over the intake-wide one it waits its turn (that limit
    protects the mesh's capacity, and the tickets under it are legitimate)."""

    def __init__(self, customer: Rate, channel: Rate, intake: Rate, max_keys: int = 100_000,
                 exempt: frozenset[str] = frozenset()) -> None:
        self.customers = Buckets(customer, max_keys)
        self.channels = Buckets(channel, max(1, min(max_keys, 1000)))
        self.intake = intake
        self._intake = Bucket(intake, 0.0)
        # `channel:<name>` exempts a whole channel (a load test's, an internal one) from both refusing limits.
        self.exempt_channels = frozenset(e[len("channel:"):] for e in exempt if e.startswith("channel:"))
        self.exempt = frozenset(identity_key_of(e) for e in exempt if not e.startswith("channel:"))

    def decide(self, identity: str, channel: str, now: float) -> Decision:
        """Take the tokens one ticket needs, or say which limit refuses it. `now` is monotonic seconds."""
        channel = channel or "unknown"
        if channel in self.exempt_channels:
            return Decision(wait_s=self._pace(now))
        scoped = [] if identity in self.exempt else [(CUSTOMER, self.customers.get(identity, now),
                                                       self.customers.rate)]
        scoped.append((CHANNEL, self.channels.get(channel, now), self.channels.rate))
        for scope, bucket, _ in scoped:
            if bucket.tokens < 1:
                first = not bucket.flooding
                bucket.flooding = True
                return Decision(held=scope, first=first)
        for _, bucket, _ in scoped:
            bucket.tokens -= 1
        return Decision(wait_s=self._pace(now))

    def _pace(self, now: float) -> float:
        """Take the intake-wide token, into debt if need be: the debt is the wait (tickets keep their order)."""
        self._intake.refill(self.intake, now)
        self._intake.tokens -= 1
        return 0.0 if self._intake.tokens >= 0 else -self._intake.tokens / self.intake.per_s


def identity_key(email: str, name: str, zip_code: str, conversation_id: str) -> str:
    """Who a ticket is from, for its customer bucket: the e-mail, else name and zip, else the conversation."""
    return customer_key(email, name, zip_code) or f"conversation:{conversation_id}"


def identity_key_of(written: str) -> str:
    """The key of an identity as a setting names it: an e-mail address, or `name|zip`."""
    if "@" in written:
        return identity_key(written, "", "", "")
    name, _, zip_code = written.partition("|")
    return identity_key("", name, zip_code, "")
