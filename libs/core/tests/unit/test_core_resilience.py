"""ResilientCaller: retries on transient codes within the budget, never on answers, and a breaker that opens."""

import random

import grpc
import pytest
from grpc.aio import AioRpcError, Metadata
from supportmesh_core.resilience import CircuitOpen, ResilienceSettings, ResilientCaller

pytestmark = pytest.mark.unit


def rpc_error(code: grpc.StatusCode) -> AioRpcError:
    return AioRpcError(code, Metadata(), Metadata(), details=code.name.lower())


def caller(**env) -> ResilientCaller:
    settings = ResilienceSettings(GRPC_RETRY_BACKOFF_MS=1, GRPC_RETRY_BACKOFF_CAP_MS=2, **env)
    return ResilientCaller("commerce", settings, rng=random.Random(1))


def flaky(*codes):
    """A call failing with `codes` in turn, then answering; records the timeouts it was given."""
    seen: list[float] = []

    async def call(timeout: float):
        seen.append(timeout)
        if len(seen) <= len(codes):
            raise rpc_error(codes[len(seen) - 1])
        return "answer"
    return call, seen


async def test_unavailable_is_retried_until_it_answers():
    c = caller()
    call, seen = flaky(grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.UNAVAILABLE)
    assert await c.call(call, lambda: 2.0) == "answer"
    assert len(seen) == 3 and c.retries == 2 and seen[0] == 2.0


@pytest.mark.parametrize("code", [grpc.StatusCode.NOT_FOUND, grpc.StatusCode.DEADLINE_EXCEEDED,
                                  grpc.StatusCode.PERMISSION_DENIED])
async def test_answers_and_timeouts_are_not_retried(code):
    c = caller()
    call, seen = flaky(code)
    with pytest.raises(AioRpcError):
        await c.call(call, lambda: 2.0)
    assert len(seen) == 1


async def test_no_retry_when_the_budget_is_spent():
    c = caller()
    call, seen = flaky(grpc.StatusCode.UNAVAILABLE)
    with pytest.raises(AioRpcError):
        await c.call(call, lambda: 0.01)
    assert len(seen) == 1


async def test_the_breaker_opens_after_consecutive_failures_and_short_circuits():
    c = caller(GRPC_RETRY_ATTEMPTS=1, GRPC_BREAKER_FAILURES=3, GRPC_BREAKER_COOLDOWN_S=60)
    for _ in range(3):
        call, _ = flaky(grpc.StatusCode.UNAVAILABLE)
        with pytest.raises(AioRpcError):
            await c.call(call, lambda: 1.0)
    call, seen = flaky()
    with pytest.raises(CircuitOpen):
        await c.call(call, lambda: 1.0)
    assert not seen and c.short_circuits == 1


async def test_not_found_keeps_the_breaker_closed():
    c = caller(GRPC_RETRY_ATTEMPTS=1, GRPC_BREAKER_FAILURES=2)
    for _ in range(5):
        call, _ = flaky(grpc.StatusCode.NOT_FOUND)
        with pytest.raises(AioRpcError):
            await c.call(call, lambda: 1.0)
    assert c.breaker.allow()
