"""Unit tests of the commerce adapter: a write whose deadline passed is settled by asking again with its key."""

import grpc
import pytest
from supportmesh.commerce.v1 import commerce_pb2 as pb
from technical_analyst.adapters.commerce import GrpcCommerceActions
from technical_analyst.domain.execution import CANCEL, DONE, FAILED, Execution

pytestmark = pytest.mark.unit

CANCEL_W1 = Execution(CANCEL, "#W1", "T-1:cancel_pending_order", "no longer needed")


def rpc_error(code: grpc.StatusCode) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=code.name)


class ScriptedStub:
    """CancelPendingOrder answering from a script (an exception or a reply per call), recording each request."""

    def __init__(self, *answers) -> None:
        self.answers, self.requests = list(answers), []

    async def CancelPendingOrder(self, request, timeout):  # noqa: N802 - the gRPC method's name
        self.requests.append((request, timeout))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def adapter_with(stub: ScriptedStub) -> GrpcCommerceActions:
    # A channel is needed to build the real stub, which is then replaced; it never connects.
    adapter = GrpcCommerceActions(grpc.aio.insecure_channel("127.0.0.1:9"))
    adapter._stub = stub
    return adapter


async def test_a_write_past_its_deadline_is_settled_with_the_same_key():
    stub = ScriptedStub(rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED), pb.ActionResult(summary="cancelled #W1"))
    result = await adapter_with(stub).execute(CANCEL_W1, "u1", "T-1", timeout_s=0.01)
    assert (result.status, result.detail) == (DONE, "cancelled #W1")
    first, again = stub.requests
    assert first[0] == again[0] and again[0].idempotency_key == CANCEL_W1.idempotency_key
    assert again[1] > first[1]   # the settling call is not bound by the spent ticket budget


async def test_a_write_that_cannot_be_settled_is_a_failure_not_a_success():
    stub = ScriptedStub(rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED), rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED))
    result = await adapter_with(stub).execute(CANCEL_W1, "u1", "T-1", timeout_s=0.01)
    assert result.status == FAILED and len(stub.requests) == 2


async def test_a_refusal_is_not_asked_again():
    stub = ScriptedStub(rpc_error(grpc.StatusCode.FAILED_PRECONDITION))
    result = await adapter_with(stub).execute(CANCEL_W1, "u1", "T-1", timeout_s=1)
    assert result.status == "refused" and len(stub.requests) == 1
