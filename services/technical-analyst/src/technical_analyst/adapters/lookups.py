"""Commerce reads the model's lookup tools run: GetOrder and GetTracking, always for the verified customer."""

from typing import Any, Protocol

import grpc
from google.protobuf.json_format import MessageToDict
from supportmesh.commerce.v1 import commerce_pb2 as pb
from supportmesh.commerce.v1 import commerce_pb2_grpc

from ..domain.tool_calls import GET_ORDER, GET_TRACKING


class CommerceLookups(Protocol):
    """Answers a lookup tool with JSON-ready facts, or {"error": ...} the model can read."""

    async def lookup(self, tool: str, order_id: str, customer_id: str, timeout_s: float) -> dict[str, Any]: ...


class GrpcCommerceLookups:
    """Calls CommerceService over a channel the caller owns; commerce itself checks the order is the customer's."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = commerce_pb2_grpc.CommerceServiceStub(channel)

    async def lookup(self, tool: str, order_id: str, customer_id: str, timeout_s: float) -> dict[str, Any]:
        try:
            if tool == GET_ORDER:
                order = await self._stub.GetOrder(pb.GetOrderRequest(order_id=order_id, customer_id=customer_id),
                                                  timeout=timeout_s)
                return {"order_id": order.order_id, "status": order.status, "total": order.total,
                        "items": [{"name": i.name, "price": i.price, "options": dict(i.options)}
                                  for i in order.items],
                        "tracking_ids": [t for f in order.fulfillments for t in f.tracking_ids]}
            if tool == GET_TRACKING:
                tracking = await self._stub.GetTracking(
                    pb.GetTrackingRequest(order_id=order_id, customer_id=customer_id), timeout=timeout_s)
                return MessageToDict(tracking, preserving_proto_field_name=True)
        except grpc.aio.AioRpcError as exc:
            return {"error": exc.details() or exc.code().name}
        raise ValueError(f"no commerce lookup for {tool}")
