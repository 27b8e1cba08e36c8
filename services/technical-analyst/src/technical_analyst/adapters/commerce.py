"""The commerce gRPC service as the analyst's `CommerceActions`: writes with idempotency keys and deadlines."""

import grpc
from supportmesh.commerce.v1 import commerce_pb2 as pb
from supportmesh.commerce.v1 import commerce_pb2_grpc

from ..domain.execution import CANCEL, DONE, FAILED, NEEDS_APPROVAL, REFUND, REFUSED, Execution, ExecutionResult

# Answers that mean "the store will not do this", with a reason worth telling the customer; anything
# else (unavailable, timeout, internal, auth) is a failure of ours.
_REFUSALS = {grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED,
             grpc.StatusCode.INVALID_ARGUMENT}


class GrpcCommerceActions:
    """Calls CommerceService over a channel the caller owns (a tracing channel carrying the service token)."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = commerce_pb2_grpc.CommerceServiceStub(channel)

    async def execute(self, execution: Execution, customer_id: str, ticket_id: str,
                      timeout_s: float) -> ExecutionResult:
        common = {"idempotency_key": execution.idempotency_key, "ticket_id": ticket_id,
                  "customer_id": customer_id, "order_id": execution.order_id}
        if execution.action not in (CANCEL, REFUND):
            raise ValueError(f"no commerce write for {execution.action}")
        try:
            if execution.action == CANCEL:
                reply = await self._stub.CancelPendingOrder(
                    pb.CancelPendingOrderRequest(**common, reason=execution.reason), timeout=timeout_s)
            else:
                reply = await self._stub.IssueRefund(
                    pb.IssueRefundRequest(**common, amount=execution.amount, reason=execution.reason),
                    timeout=timeout_s)
        except grpc.aio.AioRpcError as exc:
            case_id = next((v for k, v in (exc.trailing_metadata() or ()) if k == "x-case-id"), "")
            if case_id:
                return ExecutionResult(NEEDS_APPROVAL, exc.details() or "", case_id)
            status = REFUSED if exc.code() in _REFUSALS else FAILED
            return ExecutionResult(status, exc.details() or exc.code().name)
        return ExecutionResult(DONE, reply.summary)
