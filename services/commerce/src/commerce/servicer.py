"""The CommerceService gRPC servicer: authorises the caller, then translates between requests, the domain and
status codes.

Lookups run inline on the event loop rather than in `asyncio.to_thread`: each is a handful of indexed
point queries on a local SQLite file (tens of microseconds; README has measured latencies), cheaper
than the thread hand-off itself. Writes wait for an fsync, so they run in a worker thread on their own
connection, one at a time per process (SQLite has one writer anyway; BEGIN IMMEDIATE orders writers
across processes).
"""

import asyncio
from collections.abc import Callable
from typing import TypeVar

import grpc
import structlog
from google.protobuf.message import Message
from opentelemetry import trace
from supportmesh.commerce.v1 import commerce_pb2 as pb
from supportmesh.commerce.v1 import commerce_pb2_grpc
from supportmesh_core.tls import peer_common_name

from . import mapping
from .auth import Authorizer, Forbidden, Unauthenticated
from .domain import ids
from .domain.errors import (
    Ambiguous,
    CommerceError,
    InvalidArgument,
    KeyReused,
    NotFound,
    PermissionDenied,
    PolicyViolation,
)
from .domain.queries import CommerceQueries
from .write_service import OK, Answer, CommerceWrites, WriteCall

log = structlog.get_logger()
T = TypeVar("T")
MAX_AUDIT_LIMIT = 1000

_STATUS: dict[type[CommerceError], grpc.StatusCode] = {
    InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    NotFound: grpc.StatusCode.NOT_FOUND,
    PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    Ambiguous: grpc.StatusCode.FAILED_PRECONDITION,
    PolicyViolation: grpc.StatusCode.FAILED_PRECONDITION,
    KeyReused: grpc.StatusCode.ALREADY_EXISTS,
}


def _status_of(exc: CommerceError) -> grpc.StatusCode:
    return next(code for kind, code in _STATUS.items() if isinstance(exc, kind))


class CommerceServicer(commerce_pb2_grpc.CommerceServiceServicer):
    """Answers CommerceService RPCs; UNAVAILABLE until the store is attached.

    gRPC services must be registered before the server starts, while the store opens (and perhaps
    migrates and seeds) after health is already being served; queries and writes are attached once ready.
    """

    def __init__(self, authorizer: Authorizer, queries: CommerceQueries | None = None,
                 writes: CommerceWrites | None = None) -> None:
        self._auth = authorizer
        self._queries = queries
        self._writes = writes
        self._write_lock = asyncio.Lock()

    def attach(self, queries: CommerceQueries, writes: CommerceWrites) -> None:
        self._queries, self._writes = queries, writes

    # --- lookups ----------------------------------------------------------------------------------

    async def FindCustomerByEmail(self, request: pb.FindCustomerByEmailRequest, context) -> pb.Customer:
        customer = await self._read(context, "FindCustomerByEmail", lambda q: q.find_customer_by_email(request.email))
        return mapping.customer_pb(customer)

    async def FindCustomerByNameZip(self, request: pb.FindCustomerByNameZipRequest, context) -> pb.Customer:
        customer = await self._read(context, "FindCustomerByNameZip", lambda q: q.find_customer_by_name_zip(
            request.first_name, request.last_name, request.zip))
        return mapping.customer_pb(customer)

    async def GetCustomer(self, request: pb.GetCustomerRequest, context) -> pb.Customer:
        customer = await self._read(context, "GetCustomer", lambda q: q.get_customer(request.customer_id))
        return mapping.customer_pb(customer)

    async def GetOrder(self, request: pb.GetOrderRequest, context) -> pb.Order:
        order = await self._read(context, "GetOrder", lambda q: q.get_order(request.order_id, request.customer_id))
        return mapping.order_pb(order)

    async def ListOrders(self, request: pb.ListOrdersRequest, context) -> pb.ListOrdersResponse:
        orders = await self._read(context, "ListOrders", lambda q: q.list_orders(request.customer_id))
        return pb.ListOrdersResponse(orders=[mapping.order_pb(o) for o in orders])

    async def GetTracking(self, request: pb.GetTrackingRequest, context) -> pb.Tracking:
        tracking = await self._read(context, "GetTracking",
                                    lambda q: q.get_tracking(request.order_id, request.customer_id))
        return mapping.tracking_pb(tracking)

    async def GetProduct(self, request: pb.GetProductRequest, context) -> pb.Product:
        product = await self._read(context, "GetProduct", lambda q: q.get_product(request.product_id))
        return mapping.product_pb(product)

    async def ListProducts(self, request: pb.ListProductsRequest, context) -> pb.ListProductsResponse:
        products = await self._read(context, "ListProducts", lambda q: q.list_products())
        return pb.ListProductsResponse(products=[pb.ProductSummary(product_id=p.product_id, name=p.name)
                                                 for p in products])

    async def GetCase(self, request: pb.GetCaseRequest, context) -> pb.Case:
        case = await self._read(context, "GetCase", lambda q: q.get_case(request.case_id))
        return mapping.case_pb(case)

    async def ListAudit(self, request: pb.ListAuditRequest, context) -> pb.ListAuditResponse:
        if request.limit < 0 or request.limit > MAX_AUDIT_LIMIT:
            await self._caller(context, "ListAudit")  # authorise before saying anything
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"limit must be 0..{MAX_AUDIT_LIMIT}")
        rows = await self._read(context, "ListAudit", lambda q: q.list_audit(
            ticket_id=request.ticket_id.strip(), idempotency_key=request.idempotency_key.strip(),
            order_id=ids.order_id(request.order_id) if request.order_id.strip() else "",
            customer_id=request.customer_id.strip(), limit=request.limit or 100))
        return pb.ListAuditResponse(entries=[mapping.audit_pb(r) for r in rows])

    # --- writes -----------------------------------------------------------------------------------

    async def CancelPendingOrder(self, request, context) -> pb.ActionResult:
        return await self._write(context, "CancelPendingOrder", request, CommerceWrites.cancel_pending_order,
                                 pb.ActionResult)

    async def ModifyPendingOrderAddress(self, request, context) -> pb.ActionResult:
        return await self._write(context, "ModifyPendingOrderAddress", request,
                                 CommerceWrites.modify_pending_order_address, pb.ActionResult)

    async def ModifyPendingOrderItems(self, request, context) -> pb.ActionResult:
        return await self._write(context, "ModifyPendingOrderItems", request,
                                 CommerceWrites.modify_pending_order_items, pb.ActionResult)

    async def ModifyPendingOrderPayment(self, request, context) -> pb.ActionResult:
        return await self._write(context, "ModifyPendingOrderPayment", request,
                                 CommerceWrites.modify_pending_order_payment, pb.ActionResult)

    async def ModifyCustomerAddress(self, request, context) -> pb.ActionResult:
        return await self._write(context, "ModifyCustomerAddress", request,
                                 CommerceWrites.modify_customer_address, pb.ActionResult)

    async def ReturnDeliveredOrderItems(self, request, context) -> pb.ActionResult:
        return await self._write(context, "ReturnDeliveredOrderItems", request,
                                 CommerceWrites.return_delivered_order_items, pb.ActionResult)

    async def ExchangeDeliveredOrderItems(self, request, context) -> pb.ActionResult:
        return await self._write(context, "ExchangeDeliveredOrderItems", request,
                                 CommerceWrites.exchange_delivered_order_items, pb.ActionResult)

    async def IssueRefund(self, request, context) -> pb.ActionResult:
        return await self._write(context, "IssueRefund", request, CommerceWrites.issue_refund, pb.ActionResult)

    async def CreateCase(self, request, context) -> pb.Case:
        return await self._write(context, "CreateCase", request, CommerceWrites.create_case, pb.Case)

    async def ApproveCase(self, request, context) -> pb.ActionResult:
        return await self._write(context, "ApproveCase", request, CommerceWrites.approve_case, pb.ActionResult)

    # --- machinery --------------------------------------------------------------------------------

    async def _caller(self, context: grpc.aio.ServicerContext, rpc: str) -> str:
        try:
            return self._auth.caller(context.invocation_metadata(), rpc, peer_common_name(context))
        except Unauthenticated as exc:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, str(exc))
        except Forbidden as exc:
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, str(exc))
        raise AssertionError("unreachable: abort raises")

    async def _read(self, context: grpc.aio.ServicerContext, rpc: str, query: Callable[[CommerceQueries], T]) -> T:
        """Authorise, run a domain query; refusals become their status code, failures INTERNAL (logged)."""
        await self._caller(context, rpc)
        if self._queries is None:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "the commerce store is starting; retry shortly")
        try:
            return query(self._queries)
        except CommerceError as exc:
            code, details = _status_of(exc), str(exc)
        except Exception:
            log.exception("commerce query failed", rpc=rpc)
            code, details = grpc.StatusCode.INTERNAL, "the commerce store failed to answer; see its logs"
        await context.abort(code, details)

    async def _write(self, context: grpc.aio.ServicerContext, rpc: str, request: Message,
                     method: Callable[[CommerceWrites, WriteCall], Answer], response_type: type[Message]) -> Message:
        caller = await self._caller(context, rpc)
        if self._writes is None:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "the commerce store is starting; retry shortly")
        span = trace.get_current_span().get_span_context()
        call = WriteCall(caller=caller, rpc=rpc, request=request,
                         trace_id=format(span.trace_id, "032x") if span.is_valid else "")
        async with self._write_lock:
            # A caller whose deadline passed while it queued gets nothing done: it has given up.
            remaining = context.time_remaining()
            expired = remaining is not None and remaining <= 0
            if not expired:
                try:
                    answer = await asyncio.to_thread(method, self._writes, call)
                except CommerceError as exc:
                    answer = exc
                except Exception:
                    log.exception("commerce write failed", rpc=rpc, caller=caller)
                    answer = None
        if expired:
            await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "the deadline passed before the write could run")
        if isinstance(answer, CommerceError):
            await context.abort(_status_of(answer), str(answer))
        if answer is None:
            await context.abort(grpc.StatusCode.INTERNAL, "the commerce store failed to write; see its logs")
        trailing = []
        if answer.replayed:
            trailing.append(("x-idempotent-replay", "1"))
        if answer.case_id:
            trailing.append(("x-case-id", answer.case_id))
        if answer.status_code == OK:
            context.set_trailing_metadata(tuple(trailing))
            return response_type.FromString(answer.response)
        await context.abort(grpc.StatusCode[answer.status_code], answer.details, tuple(trailing))
        raise AssertionError("unreachable: abort raises")
