"""The commerce gRPC service as the analyst's `CommerceActions`: writes with idempotency keys and deadlines.

Writes are retried on UNAVAILABLE (safe: the idempotency key makes a repeat a no-op) and a breaker stops
calling a commerce service that keeps failing, so the action fails fast and the ticket escalates. A write
whose deadline passed is asked once more with the same key, so its reply reflects what the store did.
"""

import time

import grpc
from supportmesh.commerce.v1 import commerce_pb2 as pb
from supportmesh.commerce.v1 import commerce_pb2_grpc
from supportmesh_core.resilience import CircuitOpen, ResilientCaller

from ..domain.billing import CaseRequest
from ..domain.execution import CANCEL, DONE, FAILED, NEEDS_APPROVAL, REFUND, REFUSED, Execution, ExecutionResult
from ..domain.planned_writes import (
    ADDRESS_PARTS,
    EXCHANGE,
    MODIFY_ADDRESS,
    MODIFY_ITEMS,
    MODIFY_USER_ADDRESS,
    RETURN,
    PlannedWrite,
)
from ..handback import CaseFacts

# Answers that mean "the store will not do this", with a reason worth telling the customer; anything
# else (unavailable, timeout, internal, auth) is a failure of ours.
_REFUSALS = {grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED,
             grpc.StatusCode.INVALID_ARGUMENT}
# Answers after which the write may or may not have happened.
_OUTCOME_UNKNOWN = {grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED}
SETTLE_TIMEOUT_S = 2.0


class GrpcCommerceActions:
    """Calls CommerceService over a channel the caller owns (a tracing channel carrying the service token)."""

    def __init__(self, channel: grpc.aio.Channel, resilience: ResilientCaller | None = None) -> None:
        self._stub = commerce_pb2_grpc.CommerceServiceStub(channel)
        self._resilience = resilience or ResilientCaller("commerce")

    async def execute(self, execution: Execution, customer_id: str, ticket_id: str,
                      timeout_s: float) -> ExecutionResult:
        common = {"idempotency_key": execution.idempotency_key, "ticket_id": ticket_id,
                  "customer_id": customer_id, "order_id": execution.order_id}
        if execution.action not in (CANCEL, REFUND):
            raise ValueError(f"no commerce write for {execution.action}")
        if execution.action == CANCEL:
            method, request = self._stub.CancelPendingOrder, pb.CancelPendingOrderRequest(
                **common, reason=execution.reason)
        else:
            method, request = self._stub.IssueRefund, pb.IssueRefundRequest(
                **common, amount=execution.amount, reason=execution.reason)
        return await self._call(method, request, timeout_s)

    async def write(self, write: PlannedWrite, customer_id: str, ticket_id: str, timeout_s: float) -> ExecutionResult:
        """A confirmed proposal's write, exactly as proposed (domain/planned_writes.py)."""
        common = {"idempotency_key": write.idempotency_key, "ticket_id": ticket_id,
                  "customer_id": customer_id, "order_id": write.order_id}
        if write.action == CANCEL:
            method, request = self._stub.CancelPendingOrder, pb.CancelPendingOrderRequest(**common, reason=write.reason)
        elif write.action == RETURN:
            method, request = self._stub.ReturnDeliveredOrderItems, pb.ReturnDeliveredOrderItemsRequest(
                **common, item_ids=write.item_ids, payment_method_id=write.payment_method_id)
        elif write.action == EXCHANGE:
            method, request = self._stub.ExchangeDeliveredOrderItems, pb.ExchangeDeliveredOrderItemsRequest(
                **common, item_ids=write.item_ids, new_item_ids=write.new_item_ids,
                payment_method_id=write.payment_method_id)
        elif write.action == MODIFY_ITEMS:
            method, request = self._stub.ModifyPendingOrderItems, pb.ModifyPendingOrderItemsRequest(
                **common, item_ids=write.item_ids, new_item_ids=write.new_item_ids,
                payment_method_id=write.payment_method_id)
        elif write.action == MODIFY_ADDRESS:
            method, request = self._stub.ModifyPendingOrderAddress, pb.ModifyPendingOrderAddressRequest(
                **common, address=pb.Address(**dict(zip(ADDRESS_PARTS, write.address, strict=True))))
        elif write.action == MODIFY_USER_ADDRESS:
            method, request = self._stub.ModifyCustomerAddress, pb.ModifyCustomerAddressRequest(
                idempotency_key=write.idempotency_key, ticket_id=ticket_id, customer_id=customer_id,
                address=pb.Address(**dict(zip(ADDRESS_PARTS, write.address, strict=True))))
        else:
            raise ValueError(f"no commerce write for {write.action}")
        return await self._call(method, request, timeout_s)

    async def open_case(self, case: CaseRequest, customer_id: str, ticket_id: str,
                        timeout_s: float) -> ExecutionResult:
        """A case for a person, with the evidence as its summary; DONE carries the case id."""
        request = pb.CreateCaseRequest(idempotency_key=case.idempotency_key, ticket_id=ticket_id,
                                       customer_id=customer_id, order_id=case.order_id, reason=case.reason,
                                       priority=case.priority, summary=case.summary)
        return await self._call(self._stub.CreateCase, request, timeout_s)

    async def get_case(self, case_id: str, timeout_s: float) -> CaseFacts | ExecutionResult:
        """The case an agent's approval names, or why it cannot be read (refused: not found; failed: unavailable)."""
        deadline = time.monotonic() + timeout_s
        try:
            case = await self._resilience.call(
                lambda t: self._stub.GetCase(pb.GetCaseRequest(case_id=case_id), timeout=t),
                lambda: max(0.05, deadline - time.monotonic()))
        except CircuitOpen as exc:
            return ExecutionResult(FAILED, str(exc))
        except grpc.aio.AioRpcError as exc:
            return ExecutionResult(REFUSED if exc.code() in _REFUSALS else FAILED, exc.details() or exc.code().name)
        return CaseFacts(case.case_id, case.ticket_id, case.reason, case.status)

    async def approve_case(self, case_id: str, action: str, ticket_id: str, approved_by: str, idempotency_key: str,
                           timeout_s: float) -> ExecutionResult:
        """A person's approval of the action the case awaits: commerce makes exactly the case's action."""
        request = pb.ApproveCaseRequest(idempotency_key=idempotency_key, ticket_id=ticket_id, case_id=case_id,
                                        action=action, approved_by=approved_by)
        return await self._call(self._stub.ApproveCase, request, timeout_s)

    async def _call(self, method, request, timeout_s: float) -> ExecutionResult:
        deadline = time.monotonic() + timeout_s
        try:
            try:
                reply = await self._resilience.call(lambda t: method(request, timeout=t),
                                                    lambda: max(0.05, deadline - time.monotonic()))
            except grpc.aio.AioRpcError as exc:
                if exc.code() not in _OUTCOME_UNKNOWN:
                    raise
                # The store may have done it after our deadline passed: ask again with the same key, which
                # replays the first answer, so the reply never tells the customer the opposite of what happened.
                reply = await method(request, timeout=SETTLE_TIMEOUT_S)
        except CircuitOpen as exc:
            return ExecutionResult(FAILED, str(exc))
        except grpc.aio.AioRpcError as exc:
            case_id = next((v for k, v in (exc.trailing_metadata() or ()) if k == "x-case-id"), "")
            if case_id:
                return ExecutionResult(NEEDS_APPROVAL, exc.details() or "", case_id)
            status = REFUSED if exc.code() in _REFUSALS else FAILED
            return ExecutionResult(status, exc.details() or exc.code().name)
        if isinstance(reply, pb.Case):
            return ExecutionResult(DONE, f"case {reply.case_id} opened", reply.case_id)
        return ExecutionResult(DONE, reply.summary)
