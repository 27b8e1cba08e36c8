"""The circuit breaker's states on a fake clock, the price table and reading settings from the environment."""

import pytest
from supportmesh_llm import BreakerRegistry, BreakerState, CircuitBreaker, ModelConfig, Price, cost_usd

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_after_threshold_and_probes_once_when_half_open():
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=2, cooldown_s=10, clock=clock)
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED and breaker.allow()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN and not breaker.allow()
    clock.now += 10
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow() and not breaker.allow()     # one probe only
    breaker.record_failure()                            # the probe failed: open for another cool-down
    assert breaker.state is BreakerState.OPEN and not breaker.allow()
    clock.now += 10
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED and breaker.consecutive_failures == 0


def test_success_resets_the_consecutive_count():
    breaker = CircuitBreaker(failure_threshold=2, cooldown_s=1, clock=Clock())
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED


def test_registry_keeps_one_breaker_per_endpoint_and_model():
    registry = BreakerRegistry(clock=Clock())
    a = registry.get("http://x/v1", "m1", 1, 5)
    assert registry.get("http://x/v1", "m1", 1, 5) is a and registry.get("http://x/v1", "m2", 1, 5) is not a
    a.record_failure()
    assert registry.states() == {"http://x/v1 m1": "open", "http://x/v1 m2": "closed"}
    with pytest.raises(ValueError, match="failure_threshold"):
        CircuitBreaker(0, 1)


def test_cost_uses_the_table_and_flags_unknown_models():
    table = {"gpt-4o": Price(input_per_mtok=2.5, output_per_mtok=10), "gpt-4o-mini": Price(input_per_mtok=0.15,
                                                                                          output_per_mtok=0.6)}
    assert cost_usd("gpt-4o-mini-2024-07-18", 2_000_000, 0, table) == (pytest.approx(0.30), True)
    assert cost_usd("gpt-4o-2024-08-06", 0, 100_000, table) == (pytest.approx(1.0), True)
    assert cost_usd("qwen2.5:0.5b", 1000, 1000, table) == (0.0, False)


def test_config_reads_the_service_model_and_overrides():
    env = {"OPENAI_BASE_URL": "http://127.0.0.1:8000/v1/", "OPENAI_MODEL": "general",
           "CONTEXT_COMPRESSOR_MODEL": "summarizer", "CONTEXT_COMPRESSOR_FALLBACK_MODELS": "small, tiny",
           "LLM_MAX_ATTEMPTS": "2", "LLM_BREAKER_FAILURES": "4", "LLM_PRICES": '{"summarizer": [1, 2]}'}
    config = ModelConfig.from_env("context-compressor", env)
    assert config.configured and config.base_url == "http://127.0.0.1:8000/v1"
    assert config.models == ("summarizer", "small", "tiny")
    assert (config.max_attempts, config.breaker_failures) == (2, 4)
    assert config.prices["summarizer"] == Price(input_per_mtok=1, output_per_mtok=2)
    assert "gpt-4o-mini" in config.prices
    assert ModelConfig.from_env("retriever", env).model == "general"


def test_config_without_key_or_url_is_local_only():
    config = ModelConfig.from_env("response-generator", {"RESPONSE_GENERATOR_MODEL": "x"})
    assert not config.configured


@pytest.mark.parametrize(("env", "message"), [
    ({"OPENAI_BASE_URL": "localhost:8000"}, "OPENAI_BASE_URL"),
    ({"LLM_MAX_ATTEMPTS": "zero"}, "LLM_MAX_ATTEMPTS"),
    ({"LLM_BREAKER_FAILURES": "0"}, "LLM_BREAKER_FAILURES"),
    ({"LLM_PRICES": "[1, 2]"}, "LLM_PRICES"),
])
def test_config_fails_fast_naming_the_variable(env, message):
    with pytest.raises(ValueError, match=message):
        ModelConfig.from_env("context-compressor", env)
