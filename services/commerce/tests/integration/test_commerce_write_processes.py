"""Writes against real `python -m commerce` processes: permissions, idempotency under concurrency, across two
processes on one database file and across a kill -9, and the refund approval limit."""

import asyncio

import grpc
import pytest
from supportmesh.commerce.v1 import commerce_pb2 as pb
from supportmesh.commerce.v1 import commerce_pb2_grpc
from supportmesh_core import local_tokens
from supportmesh_core.grpcutil import tracing_channel

pytestmark = pytest.mark.integration

TOKENS = local_tokens.generate()   # this module's own, given to every server it starts
ANALYST, RETRIEVER, OPS = TOKENS["technical-analyst"], TOKENS["retriever"], TOKENS["ops"]
SPEC = local_tokens.tokens_spec(TOKENS)
YUSUF, ORDER = "yusuf_rossi_9620", "#W2378156"   # delivered, paid 1,247.31 with credit_card_9513926
SMALL = 342.81   # the price of item 4202497723 in that order (under the limit)


def _refund(key: str, **over) -> pb.IssueRefundRequest:
    fields = {"idempotency_key": key, "ticket_id": "T-1", "customer_id": YUSUF, "order_id": ORDER,
              "item_ids": ["4202497723"], "reason": "damaged"}
    return pb.IssueRefundRequest(**{**fields, **over})


def _metadata(metadata, key: str) -> str | None:
    return next((v for k, v in (metadata or ()) if k == key), None)


async def _refunds(target: str) -> list[pb.Payment]:
    async with tracing_channel(target, "test", token=OPS) as channel:
        order = await commerce_pb2_grpc.CommerceServiceStub(channel).GetOrder(
            pb.GetOrderRequest(order_id=ORDER, customer_id=YUSUF), timeout=5)
    return [p for p in order.payment_history if p.transaction_type == "refund"]


async def _audit(target: str, key: str) -> list[pb.AuditEntry]:
    async with tracing_channel(target, "test", token=OPS) as channel:
        reply = await commerce_pb2_grpc.CommerceServiceStub(channel).ListAudit(
            pb.ListAuditRequest(idempotency_key=key), timeout=5)
    return list(reply.entries)


async def _call_many(targets: list[str], request: pb.IssueRefundRequest, n: int) -> list[tuple]:
    """n identical IssueRefund calls at once, spread over the targets; (response, replayed) each."""
    channels = [tracing_channel(t, "technical-analyst", token=ANALYST) for t in targets]
    try:
        stubs = [commerce_pb2_grpc.CommerceServiceStub(c) for c in channels]

        async def one(i: int) -> tuple:
            call = stubs[i % len(stubs)].IssueRefund(request, timeout=20)
            response = await call
            return response, _metadata(await call.trailing_metadata(), "x-idempotent-replay") == "1"

        return await asyncio.gather(*(one(i) for i in range(n)))
    finally:
        for c in channels:
            await c.close()


async def test_callers_must_identify_themselves_and_only_the_analyst_writes(commerce_processes):
    proc = await asyncio.to_thread(commerce_processes, COMMERCE_TOKENS=SPEC)
    for token, code in ((None, grpc.StatusCode.UNAUTHENTICATED), ("forged", grpc.StatusCode.UNAUTHENTICATED),
                        (RETRIEVER, grpc.StatusCode.PERMISSION_DENIED)):
        async with tracing_channel(proc.target, "test", token=token) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as exc:
                await commerce_pb2_grpc.CommerceServiceStub(channel).IssueRefund(_refund("k-auth"), timeout=5)
            assert exc.value.code() == code
    async with tracing_channel(proc.target, "test", token=RETRIEVER) as channel:
        stub = commerce_pb2_grpc.CommerceServiceStub(channel)
        assert (await stub.GetOrder(pb.GetOrderRequest(order_id=ORDER, customer_id=YUSUF), timeout=5)).status
        with pytest.raises(grpc.aio.AioRpcError) as exc:
            await stub.ListAudit(pb.ListAuditRequest(), timeout=5)
        assert exc.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert await _refunds(proc.target) == [] and await _audit(proc.target, "k-auth") == []


async def test_fifty_concurrent_identical_refunds_refund_once(commerce_processes):
    proc = await asyncio.to_thread(commerce_processes, COMMERCE_TOKENS=SPEC)
    results = await _call_many([proc.target], _refund("k-fifty"), 50)
    first = results[0][0]
    assert first.amount == pytest.approx(SMALL) and first.payment_method_id == "credit_card_9513926"
    assert all(r == first for r, _ in results)
    assert sorted(replayed for _, replayed in results) == [False] + [True] * 49
    refunds = await _refunds(proc.target)
    assert [(p.amount, p.payment_method_id) for p in refunds] == [(pytest.approx(SMALL), "credit_card_9513926")]
    (entry,) = await _audit(proc.target, "k-fifty")
    assert (entry.caller, entry.rpc, entry.outcome, entry.ticket_id) == ("technical-analyst", "IssueRefund", "done",
                                                                         "T-1")
    assert '"refund"' in entry.after_json and '"refund"' not in entry.before_json


async def test_two_processes_on_one_database_refund_once(commerce_processes):
    first = await asyncio.to_thread(commerce_processes, COMMERCE_TOKENS=SPEC)
    second = await asyncio.to_thread(commerce_processes, COMMERCE_TOKENS=SPEC)
    results = await _call_many([first.target, second.target], _refund("k-two"), 40)
    assert len({r.SerializeToString(deterministic=True) for r, _ in results}) == 1
    assert sum(not replayed for _, replayed in results) == 1
    assert len(await _refunds(first.target)) == 1 and len(await _refunds(second.target)) == 1
    assert len(await _audit(second.target, "k-two")) == 1


async def test_kill_and_restart_between_identical_calls_refunds_once(commerce_processes):
    proc = await asyncio.to_thread(commerce_processes, COMMERCE_TOKENS=SPEC)
    (before, replayed), = await _call_many([proc.target], _refund("k-kill"), 1)
    assert not replayed
    await asyncio.to_thread(proc.kill)
    restarted = await asyncio.to_thread(commerce_processes, COMMERCE_TOKENS=SPEC)
    (after, replayed), = await _call_many([restarted.target], _refund("k-kill"), 1)
    assert replayed and after == before
    assert len(await _refunds(restarted.target)) == 1
    assert len(await _audit(restarted.target, "k-kill")) == 1


async def test_refund_above_the_limit_opens_one_pending_approval_case(commerce_processes):
    proc = await asyncio.to_thread(commerce_processes, COMMERCE_TOKENS=SPEC, COMMERCE_REFUND_APPROVAL_LIMIT="500")
    request = _refund("k-big", item_ids=[], amount=700)
    async with tracing_channel(proc.target, "technical-analyst", token=ANALYST) as channel:
        stub = commerce_pb2_grpc.CommerceServiceStub(channel)
        case_ids = []
        for _ in range(2):
            with pytest.raises(grpc.aio.AioRpcError) as exc:
                await stub.IssueRefund(request, timeout=5)
            assert exc.value.code() == grpc.StatusCode.FAILED_PRECONDITION
            assert "above the $500.00 limit" in exc.value.details()
            case_ids.append(_metadata(exc.value.trailing_metadata(), "x-case-id"))
            assert case_ids[-1] in exc.value.details()
        assert case_ids[0] == case_ids[1]
        case = await stub.GetCase(pb.GetCaseRequest(case_id=case_ids[0]), timeout=5)
    assert (case.status, case.reason, case.priority, case.amount, case.order_id, case.ticket_id) == (
        "pending_approval", "refund_above_limit", "high", 700.0, ORDER, "T-1")
    assert await _refunds(proc.target) == []
    (entry,) = await _audit(proc.target, "k-big")
    assert entry.outcome == "pending_approval" and case_ids[0] in entry.after_json


async def test_a_key_reused_for_another_request_is_refused(commerce_processes):
    proc = await asyncio.to_thread(commerce_processes, COMMERCE_TOKENS=SPEC)
    async with tracing_channel(proc.target, "technical-analyst", token=ANALYST) as channel:
        stub = commerce_pb2_grpc.CommerceServiceStub(channel)
        await stub.IssueRefund(_refund("k-reuse"), timeout=5)
        with pytest.raises(grpc.aio.AioRpcError) as exc:
            await stub.IssueRefund(_refund("k-reuse", item_ids=["4602305039"]), timeout=5)
    assert exc.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert len(await _refunds(proc.target)) == 1
