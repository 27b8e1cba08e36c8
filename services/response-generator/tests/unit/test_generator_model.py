"""The generator's model path against the scripted OpenAI-compatible double (supportmesh_llm.testing).

The double is not a model: it replays scripted completions, so these tests pin down the facts check and the
fallback to the template draft, not any model's writing.
"""

import socket
import time

import pytest
from pydantic import ValidationError
from response_generator.adapters.model import ModelWriter
from response_generator.config import Settings
from response_generator.domain.compose import compose
from response_generator.domain.grounding import problems
from response_generator.handlers import GeneratorHandler
from supportmesh.v1.envelope_pb2 import Action, Envelope, OrderFacts
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh_core.hops import ListHopSink
from supportmesh_core.stage import Respond
from supportmesh_llm import BreakerRegistry, ModelClient, ModelConfig

pytestmark = pytest.mark.unit

DONE = ("Order #W2378156 has been cancelled (reason: no longer needed). The refund of $10.00 goes back to credit card "
        "cc_1 within 5 to 7 business days.")


def envelope(done: bool = True) -> Envelope:
    env = Envelope()
    env.ticket.ticket_id, env.ticket.conversation_id = "T-5", "C-5"
    env.ticket.body = "Please cancel #W2378156, I'm Ada Lovelace, ada@example.com, call 555-201-3344"
    env.ticket.customer.name, env.ticket.customer.email = "Ada Lovelace", "ada@example.com"
    env.deadline_unix_ms = int(time.time() * 1000) + 5000
    env.classification.intent, env.classification.confidence = "cancel_order", 0.9
    env.retrieval.customer_id, env.retrieval.customer_name = "u_1", "Ada Lovelace"
    env.retrieval.orders.append(OrderFacts(order_id="#W2378156", status="pending", total=10.0, user_id="u_1",
                                           tracking_ids=["843053632392"]))
    a = env.analysis
    if done:
        a.policy_decision, a.policy_code = "allowed", "cancel_pending_order_done"
        a.actions.append(Action(name="cancel_pending_order", status="done", detail=DONE, idempotency_key="a" * 32))
    else:
        a.policy_decision, a.policy_code = "allowed", "cancel_pending"
        a.policy_reason = "Order #W2378156 is pending, so it can be cancelled (policy: Cancel pending order)."
        a.actions.append(Action(name="cancel_pending_order", status="proposed", detail="cancel order #W2378156",
                                idempotency_key="a" * 32))
    return env


def handler(server, hops=None, **config) -> GeneratorHandler:
    cfg = ModelConfig(base_url=server.base_url if server else "", api_key="test-key" if server else "",
                      backoff_base_s=0.01, backoff_max_s=0.02, **config)
    client = ModelClient(cfg, service="response-generator", hop_sink=hops or ListHopSink(),
                         breakers=BreakerRegistry())
    return GeneratorHandler(0.6, 10, ModelWriter(client))


async def test_a_grounded_rewrite_is_sent_with_the_greeting_and_citations(scripted_openai):
    body = ("Good news: order #W2378156 has been cancelled as you asked. The refund of $10.00 goes back to your "
            "credit card within 5 to 7 business days.")
    scripted_openai.then(scripted_openai.completion(body, prompt_tokens=300, completion_tokens=40))
    hops, hop = ListHopSink(), HopRecord()
    result = await handler(scripted_openai, hops)(envelope(), hop)
    assert isinstance(result, Respond)
    reply = result.response.reply
    assert reply.text == f"Hi Ada,\n\n{body}" and list(reply.citations) == ["order:#W2378156"]
    assert result.response.engine == "openai" and hop.engine == "openai"
    assert not any(k.startswith("model.") for k in hop.labels)
    sent = str(scripted_openai.requests[0]["messages"])
    assert "Ada" not in sent and "ada@example.com" not in sent and "555-201-3344" not in sent
    assert DONE in sent and "#W2378156" in sent
    [model_hop] = hops.hops
    assert (model_hop.action, model_hop.tokens_in, model_hop.tokens_out) == ("model reply", 300, 40)


@pytest.mark.parametrize(("done", "body", "why"), [
    (True, "Order #W2378156 has been cancelled; refund of $10.00 within 5 to 7 business days. Tracking 1234567890123.",
     "tracking ids not in the facts: 1234567890123"),
    (True, "Order #W2378156 has been cancelled and $12.00 is on its way back to you.",
     "amounts not in the facts: 12.00"),
    (True, "Order #W2378157 has been cancelled; the refund of $10.00 goes back within 5 to 7 business days.",
     "order ids not in the facts: #W2378157"),
    (False, "Order #W2378156 has been cancelled.", "claims an action the draft does not report done: cancelled"),
    (True, "Order #W2378156 has been cancelled and has shipped a refund of $10.00.",
     "statuses not in the facts: shipped"),
    (True, "Your order has been cancelled.", "order ids of the draft missing: #W2378156"),
])
async def test_a_rewrite_stating_an_unfounded_fact_falls_back_to_the_draft(scripted_openai, done, body, why):
    scripted_openai.then(scripted_openai.completion(body))
    env, hop = envelope(done), HopRecord()
    draft = compose(envelope(done), 0.6, 10)
    result = await handler(scripted_openai)(env, hop)
    assert result.response.reply.text == draft.text and result.response.engine == "local"
    assert hop.labels["model.fallback_reason"] == "rejected" and why in hop.labels["model.fallback_detail"]
    assert hop.engine == "local"


async def test_an_open_breaker_sends_the_draft_without_asking(scripted_openai):
    scripted_openai.then(scripted_openai.error(500))
    h = handler(scripted_openai, max_attempts=1, breaker_failures=1)
    first, second = HopRecord(), HopRecord()
    await h(envelope(), first)
    result = await h(envelope(), second)
    assert first.labels["model.fallback_reason"] == "server_error"
    assert second.labels["model.fallback_reason"] == "breaker_open" and len(scripted_openai.requests) == 1
    assert result.response.reply.text == compose(envelope(), 0.6, 10).text


async def test_without_a_key_nothing_calls_the_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket.socket, "connect_ex", no_network)
    hop = HopRecord()
    result = await handler(None)(envelope(), hop)
    assert result.response.engine == "local" and hop.engine == "local"
    assert result.response.reply.text == compose(envelope(), 0.6, 10).text
    assert not any(k.startswith("model.") for k in hop.labels)


def test_the_draft_itself_passes_the_facts_check():
    for done in (True, False):
        env = envelope(done)
        draft = compose(env, 0.6, 10)
        assert problems(draft.body, env, draft.body) == []


@pytest.mark.parametrize(("name", "bad"), [("GENERATOR_ENGINE", "gpt"), ("GENERATOR_MODEL_BUDGET_SHARE", "0"),
                                           ("GENERATOR_MODEL_MAX_TOKENS", "10")])
def test_bad_model_settings_fail_fast(monkeypatch, name, bad):
    monkeypatch.setenv(name, bad)
    with pytest.raises(ValidationError):
        Settings()
