"""Per-call resilience for gRPC dependencies: deadlines from the ticket budget, jittered retries, a breaker."""

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

import grpc
import structlog
from opentelemetry import trace
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from .breaker import CircuitBreaker

log = structlog.get_logger()
T = TypeVar("T")

# Codes that say "the server did not get to it": safe to try again (writes carry idempotency keys).
RETRYABLE = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED})
# Codes that say the dependency is unwell, as opposed to a healthy answer such as NOT_FOUND.
UNHEALTHY = RETRYABLE | {grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}


class ResilienceSettings(BaseSettings):
    """How gRPC clients retry and when their breaker opens; the same variables for every service."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    attempts: int = Field(3, ge=1, le=10, validation_alias="GRPC_RETRY_ATTEMPTS")
    backoff_base_ms: int = Field(50, ge=1, validation_alias="GRPC_RETRY_BACKOFF_MS")
    backoff_cap_ms: int = Field(500, ge=1, validation_alias="GRPC_RETRY_BACKOFF_CAP_MS")
    breaker_failures: int = Field(5, ge=1, validation_alias="GRPC_BREAKER_FAILURES")
    breaker_cooldown_s: float = Field(5.0, gt=0, validation_alias="GRPC_BREAKER_COOLDOWN_S")


class CircuitOpen(Exception):
    """The breaker is open: the call was not made."""


class ResilientCaller:
    """Runs one dependency's calls with a deadline, retries on transient codes, and a shared breaker.

    `call(fn, budget)` passes each attempt the seconds left (`budget()`, normally what is left of the
    ticket's latency budget); a retry is skipped when its backoff would eat what is left.
    """

    def __init__(self, name: str, settings: ResilienceSettings | None = None,
                 breaker: CircuitBreaker | None = None, rng: random.Random | None = None) -> None:
        self.name = name
        self.settings = settings or ResilienceSettings()
        self.breaker = breaker or CircuitBreaker(self.settings.breaker_failures, self.settings.breaker_cooldown_s)
        self._rng = rng or random.Random()
        self.retries = 0
        self.short_circuits = 0

    def _backoff(self, attempt: int) -> float:
        # Full jitter: callers that failed together do not come back together.
        cap = min(self.settings.backoff_cap_ms, self.settings.backoff_base_ms * 2 ** (attempt - 1)) / 1000
        return self._rng.uniform(0, cap)

    async def call(self, fn: Callable[[float], Awaitable[T]], budget: Callable[[], float]) -> T:
        attempts = self.settings.attempts
        for attempt in range(1, attempts + 1):
            if not self.breaker.allow():
                self.short_circuits += 1
                trace.get_current_span().add_event("circuit open", {"dependency": self.name})
                raise CircuitOpen(f"{self.name}: circuit open after repeated failures")
            try:
                result = await fn(budget())
            except grpc.aio.AioRpcError as exc:
                code = exc.code()
                if code not in UNHEALTHY:
                    self.breaker.record_success()   # a clear answer (NOT_FOUND, …) from a healthy server
                    raise
                self.breaker.record_failure()
                pause = self._backoff(attempt)
                if code not in RETRYABLE or attempt == attempts or budget() <= pause + 0.05:
                    raise
                self.retries += 1
                log.info("retrying call", dependency=self.name, code=code.name, attempt=attempt,
                         backoff_ms=int(pause * 1000))
                trace.get_current_span().add_event("retry", {"dependency": self.name, "code": code.name})
                await asyncio.sleep(pause)
            else:
                self.breaker.record_success()
                return result
        raise AssertionError("unreachable: the last attempt returns or raises")
