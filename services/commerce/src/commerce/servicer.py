"""The CommerceService gRPC servicer: thin translation between requests, the domain queries and status codes.

Lookups run inline on the event loop rather than in `asyncio.to_thread`: each is a handful of indexed
point queries on a local SQLite file (tens of microseconds; README has measured latencies), cheaper
than the thread hand-off itself. Anything that can take long (seeding, and the writes with their fsync
that a later issue adds) belongs in a worker thread.
"""

from collections.abc import Callable
from typing import TypeVar

import grpc
import structlog
from supportmesh.commerce.v1 import commerce_pb2 as pb
from supportmesh.commerce.v1 import commerce_pb2_grpc

from . import mapping
from .domain.errors import Ambiguous, CommerceError, InvalidArgument, NotFound, PermissionDenied
from .domain.queries import CommerceQueries

log = structlog.get_logger()
T = TypeVar("T")

_STATUS: dict[type[CommerceError], grpc.StatusCode] = {
    InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    NotFound: grpc.StatusCode.NOT_FOUND,
    PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    Ambiguous: grpc.StatusCode.FAILED_PRECONDITION,
}


class CommerceServicer(commerce_pb2_grpc.CommerceServiceServicer):
    """Answers CommerceService RPCs from a CommerceQueries; UNAVAILABLE until one is attached.

    gRPC services must be registered before the server starts, while the store opens (and perhaps
    migrates and seeds) after health is already being served; the queries are attached once it is ready.
    """

    def __init__(self, queries: CommerceQueries | None = None) -> None:
        self._queries = queries

    def attach(self, queries: CommerceQueries) -> None:
        self._queries = queries

    async def FindCustomerByEmail(self, request: pb.FindCustomerByEmailRequest, context) -> pb.Customer:
        customer = await self._run(context, lambda q: q.find_customer_by_email(request.email))
        return mapping.customer_pb(customer)

    async def FindCustomerByNameZip(self, request: pb.FindCustomerByNameZipRequest, context) -> pb.Customer:
        customer = await self._run(context, lambda q: q.find_customer_by_name_zip(
            request.first_name, request.last_name, request.zip))
        return mapping.customer_pb(customer)

    async def GetCustomer(self, request: pb.GetCustomerRequest, context) -> pb.Customer:
        customer = await self._run(context, lambda q: q.get_customer(request.customer_id))
        return mapping.customer_pb(customer)

    async def GetOrder(self, request: pb.GetOrderRequest, context) -> pb.Order:
        order = await self._run(context, lambda q: q.get_order(request.order_id, request.customer_id))
        return mapping.order_pb(order)

    async def ListOrders(self, request: pb.ListOrdersRequest, context) -> pb.ListOrdersResponse:
        orders = await self._run(context, lambda q: q.list_orders(request.customer_id))
        return pb.ListOrdersResponse(orders=[mapping.order_pb(o) for o in orders])

    async def GetTracking(self, request: pb.GetTrackingRequest, context) -> pb.Tracking:
        tracking = await self._run(context, lambda q: q.get_tracking(request.order_id, request.customer_id))
        return mapping.tracking_pb(tracking)

    async def _run(self, context: grpc.aio.ServicerContext, query: Callable[[CommerceQueries], T]) -> T:
        """Run a domain query; refusals become their status code, failures INTERNAL (and are logged)."""
        if self._queries is None:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "the commerce store is starting; retry shortly")
        try:
            return query(self._queries)
        except CommerceError as exc:
            code, details = _STATUS[type(exc)], str(exc)
        except Exception:
            log.exception("commerce query failed")
            code, details = grpc.StatusCode.INTERNAL, "the commerce store failed to answer; see its logs"
        await context.abort(code, details)
