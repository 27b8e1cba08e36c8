"""The analyst's model path: tool calls proposed through the scripted OpenAI-compatible double, checked, run.

The double (supportmesh_llm.testing) is not a model; it replays scripted completions, so these are contract
tests of what the analyst does with a model's proposals, not of any model's judgement.
"""

import json
import socket
import time

import pytest
from supportmesh.v1.envelope_pb2 import Entity, Envelope, OrderFacts
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh_core.hops import ListHopSink
from supportmesh_core.stage import Escalate, Forward
from supportmesh_llm import BreakerRegistry, ModelClient, ModelConfig
from technical_analyst.adapters.tool_agent import ModelToolAgent
from technical_analyst.domain.execution import ExecutionResult
from technical_analyst.domain.order_rules import idempotency_key
from technical_analyst.domain.tool_calls import ApprovedWrite, Refusal, ToolContext, check_write
from technical_analyst.handlers import AnalystHandler

pytestmark = pytest.mark.unit

CUSTOMER = "yusuf_rossi_9620"
PENDING = OrderFacts(order_id="#W2378156", status="pending", total=80.0, user_id=CUSTOMER, item_names=["Desk Lamp"])
DELIVERED = OrderFacts(order_id="#W5", status="delivered", total=80.0, user_id=CUSTOMER, item_names=["Office Chair"])


class FakeCommerce:
    def __init__(self, result: ExecutionResult | None = None) -> None:
        self.result = result or ExecutionResult("done", "Order #W2378156 has been cancelled.")
        self.calls: list[tuple] = []

    async def execute(self, execution, customer_id, ticket_id, timeout_s):
        self.calls.append((execution, customer_id, ticket_id, timeout_s))
        return self.result


class FakeLookups:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    async def lookup(self, tool, order_id, customer_id, timeout_s):
        self.calls.append((tool, order_id, customer_id))
        return {"order_id": order_id, "status": "pending", "total": 80.0, "tracking_ids": []}


def envelope(intent: str, orders, body: str, entities=()) -> Envelope:
    env = Envelope()
    env.ticket.ticket_id, env.ticket.conversation_id = "T-9", "C-9"
    env.ticket.subject, env.ticket.body = "Help", body
    env.ticket.customer.name, env.ticket.customer.email = "Yusuf Rossi", "yusuf@example.com"
    env.deadline_unix_ms = int(time.time() * 1000) + 5000
    env.classification.intent, env.classification.category, env.classification.confidence = intent, "ORDER", 0.9
    env.retrieval.customer_id, env.retrieval.customer_name = CUSTOMER, "Yusuf Rossi"
    env.retrieval.orders.extend(orders)
    env.classification.entities.extend(Entity(type=t, value=v) for t, v in entities)
    return env


def cancel_envelope(orders=(PENDING,)) -> Envelope:
    return envelope("cancel_order", orders, "Hi, I'm Yusuf Rossi (yusuf@example.com). I bought #W2378156 by "
                    "accident, please cancel it.", [("order_id", "#W2378156")])


def build(server, commerce, lookups=None, hops=None, **config) -> AnalystHandler:
    cfg = ModelConfig(base_url=server.base_url if server else "", api_key="test-key" if server else "",
                      backoff_base_s=0.01, backoff_max_s=0.02, **config)
    client = ModelClient(cfg, service="technical-analyst", hop_sink=hops or ListHopSink(), breakers=BreakerRegistry())
    agent = ModelToolAgent(client, lookups or FakeLookups(), refund_limit=500.0)
    return AnalystHandler(500.0, commerce, agent, model_budget_share=0.5)


def calls(server, *tool_calls):
    return server.completion(None, tool_calls=list(tool_calls), finish_reason="tool_calls")


async def test_lookup_then_an_allowed_cancel_is_executed_for_the_verified_customer(scripted_openai):
    s = scripted_openai
    s.then(calls(s, s.tool_call("get_order", {"order_id": "#W2378156"}, "c1")),
           calls(s, s.tool_call("cancel_pending_order", {"order_id": "W2378156", "reason": "ordered by mistake"},
                                "c2")))
    commerce, lookups, hops, hop = FakeCommerce(), FakeLookups(), ListHopSink(), HopRecord()
    result = await build(s, commerce, lookups, hops)(cancel_envelope(), hop)

    assert isinstance(result, Forward)
    assert lookups.calls == [("get_order", "#W2378156", CUSTOMER)]
    [(execution, customer, ticket, timeout)] = commerce.calls
    assert (execution.action, execution.order_id, execution.reason) == (
        "cancel_pending_order", "#W2378156", "ordered by mistake")
    assert execution.idempotency_key == idempotency_key("T-9", "cancel_pending_order")
    assert (customer, ticket) == (CUSTOMER, "T-9") and 0 < timeout <= 5
    a = result.envelope.analysis
    assert a.policy_code == "cancel_pending_order_done" and [x.status for x in a.actions] == ["done"]
    assert hop.engine == "openai" and hop.labels["model.outcome"] == "write" and hop.labels["model.lookups"] == "1"

    first, second = s.requests
    sent = json.dumps(first["messages"])
    assert "Yusuf" not in sent and "yusuf@example.com" not in sent and CUSTOMER not in sent and "#W2378156" in sent
    assert {t["function"]["name"] for t in first["tools"]} == {
        "get_order", "get_tracking", "cancel_pending_order", "issue_refund"}
    tool_reply = second["messages"][-1]
    assert tool_reply["role"] == "tool" and tool_reply["tool_call_id"] == "c1"
    assert json.loads(tool_reply["content"])["status"] == "pending"
    assert [h.action for h in hops.hops] == ["model analyse", "model analyse"]
    assert all(h.tokens_in == 12 and h.engine == "openai" for h in hops.hops)


async def test_a_policy_violating_cancel_is_refused_and_the_rules_decide(scripted_openai):
    s = scripted_openai
    s.then(calls(s, s.tool_call("cancel_pending_order", {"order_id": "#W5", "reason": "no longer needed"})))
    commerce, hop = FakeCommerce(), HopRecord()
    env = envelope("cancel_order", [DELIVERED], "Cancel order #W5 please", [("order_id", "#W5")])
    result = await build(s, commerce)(env, hop)
    assert commerce.calls == []
    assert hop.labels["model.refused"] == "cancel_pending_order:cancel_not_pending" and hop.engine == "rules"
    a = result.envelope.analysis
    assert (a.policy_decision, a.policy_code) == ("refused", "cancel_not_pending")


async def test_a_call_for_another_customer_is_refused_not_redirected(scripted_openai):
    s = scripted_openai
    s.then(calls(s, s.tool_call("cancel_pending_order", {"order_id": "#W2378156", "reason": "no longer needed",
                                                         "customer_id": "mallory_1"})))
    commerce, hop = FakeCommerce(), HopRecord()
    await build(s, commerce)(cancel_envelope(), hop)
    assert hop.labels["model.refused"] == "cancel_pending_order:customer_mismatch"
    # The rules engine then cancels the verified customer's order, with the reason it reads in the ticket.
    [(execution, customer, _, _)] = commerce.calls
    assert customer == CUSTOMER and execution.reason == "ordered by mistake" and hop.engine == "rules"


async def test_an_invented_refund_amount_never_reaches_commerce(scripted_openai):
    s = scripted_openai
    s.then(calls(s, s.tool_call("issue_refund", {"order_id": "#W5", "amount": 5000})))
    commerce, hop = FakeCommerce(), HopRecord()
    env = envelope("get_refund", [DELIVERED], "I want my money back for #W5", [("order_id", "#W5")])
    result = await build(s, commerce)(env, hop)
    assert commerce.calls == [] and hop.labels["model.refused"] == "issue_refund:amount_not_grounded"
    assert result.envelope.analysis.policy_code == "return_delivered"


async def test_a_refund_above_the_limit_only_opens_a_case(scripted_openai):
    s = scripted_openai
    big = OrderFacts(order_id="#W7", status="delivered", total=812.4, user_id=CUSTOMER, item_names=["Office Chair"])
    s.then(calls(s, s.tool_call("issue_refund", {"order_id": "#W7", "amount": 812.4})))
    commerce = FakeCommerce(ExecutionResult("needs_approval", "Refund of 812.40 needs approval", "CASE-1"))
    hop = HopRecord()
    env = envelope("get_refund", [big], "Refund order #W7 please", [("order_id", "#W7")])
    result = await build(s, commerce)(env, hop)
    assert isinstance(result, Escalate) and result.escalation.case_id == "CASE-1"
    [(execution, _, _, _)] = commerce.calls
    assert (execution.action, execution.amount) == ("issue_refund", pytest.approx(812.4))
    assert result.escalation.reason == "refund_above_limit" and hop.engine == "openai"


async def test_invalid_output_falls_back_to_the_rules_engine(scripted_openai):
    s = scripted_openai
    bad = calls(s, s.tool_call("drop_tables", {}))
    s.then(bad, bad)
    commerce, hop = FakeCommerce(), HopRecord()
    result = await build(s, commerce)(cancel_envelope(), hop)
    assert isinstance(result, Forward) and hop.labels["model.outcome"] == "invalid_output" and hop.engine == "rules"
    [(execution, _, _, _)] = commerce.calls
    assert execution.idempotency_key == idempotency_key("T-9", "cancel_pending_order")


async def test_an_open_breaker_sends_tickets_straight_to_the_rules(scripted_openai):
    s = scripted_openai
    s.then(s.error(503))
    h = build(s, FakeCommerce(), max_attempts=1, breaker_failures=1)
    first, second = HopRecord(), HopRecord()
    await h(cancel_envelope(), first)
    await h(cancel_envelope(), second)
    assert first.labels["model.outcome"] == "server_error"
    assert second.labels["model.outcome"] == "breaker_open" and len(s.requests) == 1


async def test_without_a_key_nothing_calls_the_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket.socket, "connect_ex", no_network)
    commerce, lookups, hop = FakeCommerce(), FakeLookups(), HopRecord()
    h = build(None, commerce, lookups)
    result = await h(cancel_envelope(), hop)
    assert isinstance(result, Forward) and hop.engine == "rules" and "model.outcome" not in hop.labels
    assert lookups.calls == [] and len(commerce.calls) == 1


def context(intent="cancel_order", orders=(PENDING,), order_ids=("#W2378156",), amounts=(), text="cancel it"):
    return ToolContext("T-1", intent, CUSTOMER, list(orders), text, list(order_ids), list(amounts))


@pytest.mark.parametrize(("name", "args", "ctx", "code"), [
    ("cancel_pending_order", {"order_id": "#W2378156", "reason": "no longer needed"},
     context(intent="track_order"), "not_requested"),
    ("cancel_pending_order", {"order_id": "#W2378156", "reason": "because"}, context(), "bad_arguments"),
    ("cancel_pending_order", {"order_id": "#W9999999", "reason": "no longer needed"}, context(),
     "order_not_grounded"),
    ("cancel_pending_order", {"order_id": "#W5", "reason": "no longer needed"},
     context(orders=(PENDING, DELIVERED), order_ids=()), "order_not_grounded"),
    ("issue_refund", {"order_id": "#W5", "amount": 80.0},
     context(intent="get_refund", orders=(DELIVERED,), order_ids=("#W5",)), "return_delivered"),
    ("issue_refund", {"order_id": "#W5", "amount": True},
     context(intent="get_refund", orders=(DELIVERED,), order_ids=("#W5",)), "bad_arguments"),
])
def test_check_write_refuses(name, args, ctx, code):
    refusal = check_write(name, args, ctx, 500.0)
    assert isinstance(refusal, Refusal) and refusal.code == code


def test_check_write_accepts_the_order_whose_item_the_ticket_mentions():
    ctx = context(orders=(PENDING, DELIVERED), order_ids=(), text="please cancel the desk lamp I ordered")
    approved = check_write("cancel_pending_order", {"order_id": "#W2378156", "reason": "no longer needed"}, ctx, 500)
    assert isinstance(approved, ApprovedWrite)
    assert approved.execution.idempotency_key == idempotency_key("T-1", "cancel_pending_order")
