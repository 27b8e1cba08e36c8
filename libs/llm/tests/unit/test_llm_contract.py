"""Contract tests of the model client against the scripted OpenAI-compatible double (see tests/conftest.py)."""

import asyncio
import json
import random
import time

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import BaseModel
from supportmesh_core.hops import ListHopSink
from supportmesh_llm import BreakerRegistry, BreakerState, ModelClient, ModelConfig, ToolAnswer

pytestmark = pytest.mark.unit


class Verdict(BaseModel):
    intent: str
    confidence: float


@pytest.fixture
def spans():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter, provider.get_tracer("test")


def make_client(server, spans, hops: ListHopSink, **overrides) -> ModelClient:
    settings = {"base_url": server.base_url if server else "", "api_key": "test-key" if server else "",
                "model": "gpt-4o-mini", "backoff_base_s": 0.01, "backoff_max_s": 0.05, **overrides}
    return ModelClient(ModelConfig(**settings), service="test-service", hop_sink=hops, tracer=spans[1],
                       breakers=BreakerRegistry(), rng=random.Random(7))


MESSAGES = [{"role": "user", "content": "hello"}]


async def test_success_counts_tokens_cost_and_records_span_and_hop(scripted_openai, spans):
    scripted_openai.then(scripted_openai.completion("Hi there", prompt_tokens=1000, completion_tokens=500))
    hops = ListHopSink()
    client = make_client(scripted_openai, spans, hops)
    result = await client.chat("reply", MESSAGES, local=lambda: "local answer", budget_s=5,
                               ticket_id="T-1", conversation_id="C-1")
    await client.aclose()

    assert (result.value, result.engine, result.model) == ("Hi there", "openai", "gpt-4o-mini")
    assert (result.tokens_in, result.tokens_out, result.retries, result.fallback_reason) == (1000, 500, 0, "")
    # gpt-4o-mini: $0.15 per 1M input, $0.60 per 1M output; the dated snapshot name is priced by prefix.
    assert result.cost_usd == pytest.approx(1000 * 0.15e-6 + 500 * 0.60e-6) and result.cost_known
    request = scripted_openai.requests[0]
    assert request["model"] == "gpt-4o-mini" and request["messages"] == MESSAGES

    [span] = spans[0].get_finished_spans()
    attrs = span.attributes
    assert span.kind is SpanKind.CLIENT and span.name == "chat gpt-4o-mini"
    assert attrs["gen_ai.system"] == "openai" and attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.request.model"] == "gpt-4o-mini"
    assert attrs["gen_ai.response.model"] == "gpt-4o-mini-2024-07-18"
    assert attrs["gen_ai.usage.input_tokens"] == 1000 and attrs["gen_ai.usage.output_tokens"] == 500
    assert tuple(attrs["gen_ai.response.finish_reasons"]) == ("stop",)
    assert attrs["server.address"] == "127.0.0.1" and attrs["gen_ai.request.temperature"] == 0.0

    [hop] = hops.hops
    assert (hop.action, hop.service, hop.engine, hop.model, hop.outcome) == (
        "model reply", "test-service", "openai", "gpt-4o-mini", "success")
    assert (hop.tokens_in, hop.tokens_out, hop.retries, hop.span_kind) == (1000, 500, 0, "client")
    assert hop.cost_usd == pytest.approx(result.cost_usd) and (hop.ticket_id, hop.conversation_id) == ("T-1", "C-1")
    assert hop.span_id == format(span.context.span_id, "016x") and hop.duration_ns > 0


async def test_429_is_retried_then_succeeds(scripted_openai, spans):
    scripted_openai.then(scripted_openai.error(429, "slow down", {"retry-after": "0.02"}),
                         scripted_openai.completion("second time lucky"))
    hops = ListHopSink()
    client = make_client(scripted_openai, spans, hops)
    result = await client.chat("reply", MESSAGES, local=lambda: "local", budget_s=5)
    await client.aclose()
    assert result.value == "second time lucky" and result.engine == "openai"
    assert result.retries == 1 and len(scripted_openai.requests) == 2
    assert hops.hops[0].retries == 1 and hops.hops[0].outcome == "success"
    assert spans[0].get_finished_spans()[0].attributes["supportmesh.model.retries"] == 1


async def test_500s_open_the_breaker_which_half_opens_after_cooldown(scripted_openai, spans):
    e500 = scripted_openai.error(500)
    scripted_openai.then(e500, e500, e500)
    hops = ListHopSink()
    client = make_client(scripted_openai, spans, hops, max_attempts=3, breaker_failures=3, breaker_cooldown_s=0.3)

    first = await client.chat("reply", MESSAGES, local=lambda: "local", budget_s=5)
    assert (first.value, first.engine, first.fallback_reason) == ("local", "local", "server_error")
    assert first.retries == 2 and len(scripted_openai.requests) == 3
    assert client.breaker_state() is BreakerState.OPEN
    assert hops.hops[0].outcome == "failure" and hops.hops[0].error_message.startswith("server_error")
    assert hops.hops[0].labels["model.breaker_state"] == "open"
    span = spans[0].get_finished_spans()[0]
    assert span.status.status_code is StatusCode.ERROR and span.attributes["error.type"] == "server_error"

    # Open: the next call does not reach the server at all.
    second = await client.chat("reply", MESSAGES, local=lambda: "local", budget_s=5)
    assert second.fallback_reason == "breaker_open" and len(scripted_openai.requests) == 3

    await asyncio.sleep(0.35)
    assert client.breaker_state() is BreakerState.HALF_OPEN
    scripted_openai.then(scripted_openai.completion("back"))
    probe = await client.chat("reply", MESSAGES, local=lambda: "local", budget_s=5)
    await client.aclose()
    assert probe.engine == "openai" and probe.value == "back"
    assert client.breaker_state() is BreakerState.CLOSED and len(scripted_openai.requests) == 4


async def test_slow_model_times_out_within_the_budget_and_local_answers(scripted_openai, spans):
    slow = scripted_openai.completion("too late")
    slow.delay_s = 2.0
    scripted_openai.then(slow, slow, slow)
    hops = ListHopSink()
    client = make_client(scripted_openai, spans, hops, max_attempts=3)
    started = time.monotonic()
    result = await client.chat("reply", MESSAGES, local=lambda: "local in time", budget_s=0.4)
    elapsed = time.monotonic() - started
    await client.aclose()
    assert result.value == "local in time" and result.engine == "local"
    assert result.fallback_reason in {"timeout", "deadline"}
    # The first attempt's timeout is the whole budget; no retry can start past the deadline.
    assert elapsed < 0.8 and len(scripted_openai.requests) == 1


async def test_structured_output_invalid_json_is_asked_again_once(scripted_openai, spans):
    scripted_openai.then(scripted_openai.completion("{not json"),
                         scripted_openai.completion(json.dumps({"intent": "track_order", "confidence": 0.9})))
    client = make_client(scripted_openai, spans, ListHopSink())
    result = await client.structured("classify", MESSAGES, Verdict,
                                     local=lambda: Verdict(intent="local", confidence=0.5), budget_s=5)
    assert result.value == Verdict(intent="track_order", confidence=0.9) and result.retries == 1
    response_format = scripted_openai.requests[0]["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["schema"]["required"] == ["intent", "confidence"]

    scripted_openai.then(scripted_openai.completion("{not json"),
                         scripted_openai.completion(json.dumps({"intent": "x"})))
    fallback = await client.structured("classify", MESSAGES, Verdict,
                                       local=lambda: Verdict(intent="local", confidence=0.5), budget_s=5)
    await client.aclose()
    assert fallback.engine == "local" and fallback.value.intent == "local"
    assert fallback.fallback_reason == "invalid_output" and "Verdict" in fallback.fallback_detail
    # Both answers came back, so their tokens were spent and are counted.
    assert fallback.tokens_in == 24 and len(scripted_openai.requests) == 4


async def test_tool_calls_are_returned_parsed(scripted_openai, spans):
    call = {"id": "call_1", "type": "function",
            "function": {"name": "get_order", "arguments": json.dumps({"order_id": "#W2378156"})}}
    scripted_openai.then(scripted_openai.completion(None, tool_calls=[call], finish_reason="tool_calls"))
    tools = [{"type": "function", "function": {
        "name": "get_order", "description": "Look an order up",
        "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}}}]
    client = make_client(scripted_openai, spans, ListHopSink())
    result = await client.tools("analyse", MESSAGES, tools, local=lambda: ToolAnswer([], "local plan"), budget_s=5)
    await client.aclose()
    assert result.engine == "openai"
    [tool_call] = result.value.tool_calls
    assert (tool_call.id, tool_call.name, tool_call.arguments) == ("call_1", "get_order", {"order_id": "#W2378156"})
    assert scripted_openai.requests[0]["tools"] == tools and scripted_openai.requests[0]["tool_choice"] == "auto"
    assert tuple(spans[0].get_finished_spans()[0].attributes["gen_ai.response.finish_reasons"]) == ("tool_calls",)


async def test_unknown_tool_is_invalid_output(scripted_openai, spans):
    call = {"id": "c", "type": "function", "function": {"name": "drop_tables", "arguments": "{}"}}
    reply = scripted_openai.completion(None, tool_calls=[call], finish_reason="tool_calls")
    scripted_openai.then(reply, reply)
    tools = [{"type": "function", "function": {"name": "get_order", "parameters": {"type": "object"}}}]
    client = make_client(scripted_openai, spans, ListHopSink())
    result = await client.tools("analyse", MESSAGES, tools, local=lambda: ToolAnswer([], "local"), budget_s=5)
    await client.aclose()
    assert result.engine == "local" and result.fallback_reason == "invalid_output"
    assert "drop_tables" in result.fallback_detail


async def test_fallback_chain_tries_the_next_model_before_local(scripted_openai, spans):
    scripted_openai.then(scripted_openai.error(503), scripted_openai.completion("from the small model"))
    hops = ListHopSink()
    client = make_client(scripted_openai, spans, hops, max_attempts=1, fallback_models=("small-model",))
    result = await client.chat("reply", MESSAGES, local=lambda: "local", budget_s=5)
    await client.aclose()
    assert [r["model"] for r in scripted_openai.requests] == ["gpt-4o-mini", "small-model"]
    assert (result.engine, result.model, result.fallback_reason) == ("openai", "small-model", "server_error")
    assert result.path == ["gpt-4o-mini: server_error"]
    assert hops.hops[0].outcome == "success" and hops.hops[0].labels["model.fallback_reason"] == "server_error"


async def test_check_rejection_falls_back_with_the_reason(scripted_openai, spans):
    scripted_openai.then(scripted_openai.completion("a summary without the order id"))
    client = make_client(scripted_openai, spans, ListHopSink())
    result = await client.chat("summarize", MESSAGES, local=lambda: "extractive", budget_s=5,
                               check=lambda text: None if "#W2378156" in text else "missing #W2378156")
    await client.aclose()
    assert (result.value, result.engine, result.fallback_reason) == ("extractive", "local", "rejected")
    assert result.fallback_detail == "missing #W2378156" and result.tokens_in == 12


async def test_unknown_model_costs_zero_and_is_flagged(scripted_openai, spans):
    scripted_openai.then(scripted_openai.completion("hi", model="llama-3.2-1b-instruct"))
    hops = ListHopSink()
    client = make_client(scripted_openai, spans, hops, model="llama-3.2-1b-instruct")
    result = await client.chat("reply", MESSAGES, local=lambda: "local", budget_s=5)
    await client.aclose()
    assert result.engine == "openai" and result.cost_usd == 0.0 and result.cost_known is False
    assert hops.hops[0].labels["model.cost_known"] == "false"


async def test_client_errors_are_not_retried(scripted_openai, spans):
    scripted_openai.then(scripted_openai.error(400, "response_format json_schema not supported"))
    client = make_client(scripted_openai, spans, ListHopSink())
    result = await client.chat("reply", MESSAGES, local=lambda: "local", budget_s=5)
    await client.aclose()
    assert result.fallback_reason == "client_error" and len(scripted_openai.requests) == 1
    assert client.breaker_state() is BreakerState.CLOSED


async def test_without_configuration_the_local_engine_answers_without_network(spans):
    hops = ListHopSink()
    client = make_client(None, spans, hops)

    async def local() -> str:
        return "async local"

    result = await client.chat("reply", MESSAGES, local=local, budget_s=5)
    assert not client.configured
    assert (result.value, result.engine, result.fallback_reason) == ("async local", "local", "not_configured")
    [span] = spans[0].get_finished_spans()
    assert span.kind is SpanKind.INTERNAL and "gen_ai.request.model" not in span.attributes
    assert hops.hops[0].outcome == "success" and hops.hops[0].engine == "local" and hops.hops[0].model == ""
