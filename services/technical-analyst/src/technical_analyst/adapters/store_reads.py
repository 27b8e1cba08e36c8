"""Commerce reads a proposal needs: the order's lines, the product's variants, the customer's payment methods."""

from typing import Protocol

import grpc
from supportmesh.commerce.v1 import commerce_pb2 as pb
from supportmesh.commerce.v1 import commerce_pb2_grpc

from ..domain.planned_writes import ADDRESS_PARTS, CustomerDetail, OrderDetail, OrderLine, PaymentOption, Variant


class StoreReads(Protocol):
    """Raises LookupError when commerce cannot answer (the proposal then leaves the choice to the customer)."""

    async def order(self, order_id: str, customer_id: str, timeout_s: float) -> OrderDetail: ...
    async def variants(self, product_id: str, timeout_s: float) -> list[Variant]: ...
    async def customer(self, customer_id: str, timeout_s: float) -> CustomerDetail: ...


class GrpcStoreReads:
    """Calls CommerceService over a channel the caller owns; commerce checks the order is the customer's."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = commerce_pb2_grpc.CommerceServiceStub(channel)

    async def order(self, order_id: str, customer_id: str, timeout_s: float) -> OrderDetail:
        o = await self._call(self._stub.GetOrder, pb.GetOrderRequest(order_id=order_id, customer_id=customer_id),
                             timeout_s)
        original = next((p.payment_method_id for p in o.payment_history if p.transaction_type == "payment"), "")
        return OrderDetail(o.order_id, o.status, [OrderLine(i.item_id, i.product_id, i.name, i.price, dict(i.options))
                                                  for i in o.items], original, _address(o.address))

    async def variants(self, product_id: str, timeout_s: float) -> list[Variant]:
        p = await self._call(self._stub.GetProduct, pb.GetProductRequest(product_id=product_id), timeout_s)
        return [Variant(v.item_id, dict(v.options), v.available, v.price) for v in p.variants]

    async def customer(self, customer_id: str, timeout_s: float) -> CustomerDetail:
        c = await self._call(self._stub.GetCustomer, pb.GetCustomerRequest(customer_id=customer_id), timeout_s)
        return CustomerDetail([PaymentOption(m.id, m.source) for m in c.payment_methods], _address(c.address))

    @staticmethod
    async def _call(method, request, timeout_s: float):
        try:
            return await method(request, timeout=max(0.05, timeout_s))
        except grpc.aio.AioRpcError as exc:
            raise LookupError(f"{type(request).__name__}: {exc.details() or exc.code().name}") from exc


def _address(a: pb.Address) -> tuple[str, ...]:
    return tuple(getattr(a, part) for part in ADDRESS_PARTS) if a.address1 else ()
