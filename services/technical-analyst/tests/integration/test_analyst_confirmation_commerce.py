"""The confirmation turn against a real commerce process (own database): the proposal is exact, "yes" writes
once, a re-delivered "yes" is replayed by commerce and a second "yes" writes nothing."""

import time

import grpc
import pytest
from supportmesh.commerce.v1 import commerce_pb2, commerce_pb2_grpc
from supportmesh.v1.envelope_pb2 import Envelope, OrderFacts
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh_core.grpcutil import tracing_channel
from technical_analyst.adapters.commerce import GrpcCommerceActions
from technical_analyst.adapters.pending import SqlitePendingStore
from technical_analyst.adapters.store_reads import GrpcStoreReads
from technical_analyst.handlers import AnalystHandler

pytestmark = pytest.mark.integration



def _envelope(ticket_id: str, body: str, intent: str, reply: str = "") -> Envelope:
    env = Envelope()
    env.ticket.ticket_id, env.ticket.conversation_id, env.ticket.body = ticket_id, "C-confirm", body
    env.deadline_unix_ms = int(time.time() * 1000) + 10_000
    env.classification.intent, env.classification.confidence = intent, 0.95
    if reply:
        env.context.facts["confirmation"] = reply
    else:
        env.retrieval.customer_id, env.retrieval.customer_name = "yusuf_rossi_9620", "Yusuf Rossi"
        env.retrieval.orders.append(OrderFacts(
            order_id="#W2378156", status="delivered", total=1819.92, user_id="yusuf_rossi_9620",
            item_names=["Headphones", "Vacuum Cleaner", "Mechanical Keyboard", "Smart Thermostat", "Smart Watch"]))
    return env


async def test_propose_yes_and_yes_again_write_once(commerce_addr, commerce_tokens, tmp_path):
    as_ops = (("x-service-token", commerce_tokens["ops"]),)
    channel = tracing_channel(commerce_addr, "technical-analyst", token=commerce_tokens["technical-analyst"])
    store = SqlitePendingStore(tmp_path / "proposals.db")
    handler = AnalystHandler(500.0, GrpcCommerceActions(channel), reads=GrpcStoreReads(channel), pending=store)
    try:
        first = await handler(_envelope("T-1", "I received order #W2378156 and want to exchange the smart "
                                        "thermostat for one compatible with Google Assistant.", "change_order"),
                              HopRecord())
        (proposed,) = first.envelope.analysis.actions
        assert (proposed.name, proposed.status) == ("exchange_delivered_order_items", "proposed")
        assert proposed.idempotency_key and "Google Assistant" in proposed.detail

        yes = await handler(_envelope("T-2", "yes", "out_of_scope", reply="yes"), HopRecord())
        assert [(a.name, a.status) for a in yes.envelope.analysis.actions] == [
            ("exchange_delivered_order_items", "done")]
        assert "exchange on order #W2378156 has been requested" in yes.envelope.analysis.actions[0].detail
        await handler(_envelope("T-2", "yes", "out_of_scope", reply="yes"), HopRecord())   # redelivered
        again = await handler(_envelope("T-3", "yes", "out_of_scope", reply="yes"), HopRecord())
        assert again.envelope.analysis.policy_code == "proposal_already_answered"

        async with grpc.aio.insecure_channel(commerce_addr) as ops:
            stub = commerce_pb2_grpc.CommerceServiceStub(ops)
            audit = await stub.ListAudit(commerce_pb2.ListAuditRequest(ticket_id="T-1"), metadata=as_ops, timeout=5)
            order = await stub.GetOrder(commerce_pb2.GetOrderRequest(order_id="#W2378156",
                                                                     customer_id="yusuf_rossi_9620"),
                                        metadata=as_ops, timeout=5)
        assert [(e.rpc, e.outcome) for e in audit.entries] == [("ExchangeDeliveredOrderItems", "done")]
        assert audit.entries[0].idempotency_key == proposed.idempotency_key
        assert order.status == "exchange requested" and len(order.exchange_new_item_ids) == 1
    finally:
        store.close()
        await channel.close()
