"""The commerce gRPC service as the lookup flow's `Commerce`: status codes become `LookupFailed`.

Every call goes through a `ResilientCaller`: UNAVAILABLE is retried with jittered backoff inside the
caller's timeout, and after repeated failures the breaker opens so lookups fail at once ("unavailable")
instead of each ticket waiting on a dead service.
"""

import time

import grpc
from supportmesh.commerce.v1 import commerce_pb2 as pb
from supportmesh.commerce.v1 import commerce_pb2_grpc
from supportmesh_core.resilience import CircuitOpen, ResilientCaller

from ..domain.lookups import METHOD_KINDS, CustomerRef, LookupFailed, OrderRef, Payment, PaymentMethod

_KINDS = {
    grpc.StatusCode.NOT_FOUND: "not_found",
    grpc.StatusCode.PERMISSION_DENIED: "permission_denied",
    grpc.StatusCode.UNAVAILABLE: "unavailable",
    grpc.StatusCode.DEADLINE_EXCEEDED: "timeout",
    grpc.StatusCode.INVALID_ARGUMENT: "invalid",
}


def _failure(exc: grpc.aio.AioRpcError) -> LookupFailed:
    return LookupFailed(_KINDS.get(exc.code(), exc.code().name.lower()), exc.details() or "")





def method_description(method: pb.PaymentMethod) -> str:
    """A payment method as the customer knows it: "Mastercard credit card ending in 9212"."""
    kind = METHOD_KINDS.get(method.source, method.source.replace("_", " "))
    if method.source == "credit_card":
        brand = f"{method.brand.title()} " if method.brand else ""
        return f"{brand}{kind}" + (f" ending in {method.last_four}" if method.last_four else "")
    if method.source == "gift_card":
        return f"{kind} (balance ${method.balance:,.2f})"
    return kind


def _customer(msg: pb.Customer) -> CustomerRef:
    a = msg.address
    address = ", ".join(x for x in (a.address1, a.address2, a.city, f"{a.state} {a.zip}".strip(), a.country) if x)
    return CustomerRef(customer_id=msg.customer_id, first_name=msg.first_name, last_name=msg.last_name,
                       payment_methods=tuple(PaymentMethod(m.id, method_description(m))
                                             for m in msg.payment_methods),
                       address=address)


def order_ref(msg: pb.Order) -> OrderRef:
    tracking = [t for f in msg.fulfillments for t in f.tracking_ids]
    # The order names payment methods by id; the customer reads their kind (the card's digits come from the
    # customer's profile, which the reply joins in when it has it).
    payments = tuple(Payment(p.transaction_type, p.amount, p.payment_method_id) for p in msg.payment_history)
    return OrderRef(order_id=msg.order_id, status=msg.status, tracking_ids=list(dict.fromkeys(tracking)),
                    item_names=[i.name for i in msg.items], total=msg.total, user_id=msg.customer_id,
                    payments=payments)


class GrpcCommerce:
    """Calls CommerceService over a channel the caller owns (a tracing channel in the service)."""

    def __init__(self, channel: grpc.aio.Channel, resilience: ResilientCaller | None = None) -> None:
        self._stub = commerce_pb2_grpc.CommerceServiceStub(channel)
        self._resilience = resilience or ResilientCaller("commerce")

    async def _call(self, method, request, timeout_s: float):
        deadline = time.monotonic() + timeout_s
        try:
            return await self._resilience.call(lambda t: method(request, timeout=t),
                                               lambda: max(0.05, deadline - time.monotonic()))
        except grpc.aio.AioRpcError as exc:
            raise _failure(exc) from exc
        except CircuitOpen as exc:
            raise LookupFailed("unavailable", str(exc)) from exc

    async def find_by_email(self, email: str, timeout_s: float) -> CustomerRef:
        return _customer(await self._call(self._stub.FindCustomerByEmail,
                                          pb.FindCustomerByEmailRequest(email=email), timeout_s))

    async def find_by_name_zip(self, first: str, last: str, zip_code: str, timeout_s: float) -> CustomerRef:
        return _customer(await self._call(
            self._stub.FindCustomerByNameZip,
            pb.FindCustomerByNameZipRequest(first_name=first, last_name=last, zip=zip_code), timeout_s))

    async def get_order(self, order_id: str, customer_id: str, timeout_s: float) -> OrderRef:
        return order_ref(await self._call(self._stub.GetOrder,
                                          pb.GetOrderRequest(order_id=order_id, customer_id=customer_id), timeout_s))

    async def list_orders(self, customer_id: str, timeout_s: float) -> list[OrderRef]:
        reply = await self._call(self._stub.ListOrders, pb.ListOrdersRequest(customer_id=customer_id), timeout_s)
        return [order_ref(o) for o in reply.orders]
