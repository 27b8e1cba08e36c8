"""The model client: one call through a chain of OpenAI-compatible models that ends in the caller's local engine.

Each call gets its timeouts from the caller's remaining budget, retries 429/5xx/timeouts with jittered
exponential backoff (never past the deadline), skips a model whose circuit breaker is open, counts
tokens and cost, records one CLIENT span with the OpenTelemetry GenAI attributes and one hop record.
"""

import asyncio
import inspect
import json
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

import openai
from openai import AsyncOpenAI
from opentelemetry import trace
from pydantic import BaseModel, ValidationError
from supportmesh_core.hops import HopSink, finish_hop, start_hop

from .breaker import PROCESS_BREAKERS, BreakerRegistry, BreakerState
from .config import ModelConfig
from .pricing import cost_usd

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

LOCAL = "local"
REMOTE = "openai"
# Below this much budget a request cannot come back in time; the local engine answers instead.
MIN_ATTEMPT_S = 0.05
# Placeholder key for keyless OpenAI-compatible servers (vLLM, Ollama, llama.cpp): the client insists on one.
_NO_KEY = "not-needed"

LocalEngine = Callable[[], T | Awaitable[T]]
# Returns why an answer is unacceptable (e.g. a key fact missing), or None to accept it.
Check = Callable[[T], str | None]


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class ToolAnswer:
    """What a tool-calling turn produced: the calls the model asks for, and any text beside them."""

    tool_calls: list[ToolCall]
    text: str = ""


@dataclass
class ModelResult(Generic[T]):
    """The answer and how it was obtained.

    `engine` is "openai" (an OpenAI-compatible endpoint) or "local". When the local engine (or a later
    model) answered, `fallback_reason` says why the first choice did not: not_configured, breaker_open,
    timeout, rate_limited, server_error, connection_error, client_error, invalid_output, deadline or
    rejected; `fallback_detail` has the error text.
    """

    value: T
    engine: str
    model: str = ""
    fallback_reason: str = ""
    fallback_detail: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    cost_known: bool = True
    retries: int = 0
    finish_reasons: list[str] = field(default_factory=list)
    path: list[str] = field(default_factory=list)   # "model: reason" for each engine given up on

    @property
    def fell_back(self) -> bool:
        return bool(self.fallback_reason)


class _InvalidOutput(Exception):
    """The model answered, but not in the shape asked for."""


class _GiveUp(Exception):
    """This model will not answer this call; the chain moves on."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.detail = reason, detail


@dataclass
class _Tally:
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    cost_known: bool = True
    retries: int = 0
    response_model: str = ""
    response_id: str = ""
    finish_reasons: list[str] = field(default_factory=list)


def _classify(exc: openai.APIError) -> tuple[str, bool]:
    """(reason, retryable). Retryable failures are also the ones that count against the breaker."""
    if isinstance(exc, openai.APITimeoutError):
        return "timeout", True
    if isinstance(exc, openai.APIConnectionError):
        return "connection_error", True
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code == 429:
            return "rate_limited", True
        if exc.status_code >= 500:
            return "server_error", True
        return "client_error", False
    # A body the client could not read as a completion is the server misbehaving.
    return "server_error", True


def _retry_after(exc: openai.APIError) -> float:
    response = getattr(exc, "response", None)
    try:
        return max(0.0, float(response.headers.get("retry-after", 0))) if response is not None else 0.0
    except ValueError:
        return 0.0


class ModelClient:
    """One service's door to its models. Build one per process and share it; close it at shutdown.

    Args:
        config: endpoint, model chain, retry, breaker and price settings (`ModelConfig.from_env`).
        service: the calling service, written on hop records.
        hop_sink: where one hop record per call goes; in a stage, `supportmesh_core.stage.StageHopSink()`.
        tracer: the tracer for the CLIENT span (the global provider's by default).
        breakers: the breaker registry (the process-wide one by default).
    """

    def __init__(self, config: ModelConfig, *, service: str, hop_sink: HopSink | None = None,
                 tracer: trace.Tracer | None = None, breakers: BreakerRegistry | None = None,
                 rng: random.Random | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.config = config
        self.service = service
        self._sink = hop_sink
        self._tracer = tracer or trace.get_tracer("supportmesh_llm")
        self._breakers = breakers or PROCESS_BREAKERS
        self._rng = rng or random.Random()
        self._sleep = sleep
        self._client: AsyncOpenAI | None = None
        if config.configured:
            # Retries and timeouts are ours (budget-aware, breaker-aware), so the SDK's are switched off.
            self._client = AsyncOpenAI(api_key=config.api_key or _NO_KEY, base_url=config.base_url or None,
                                       max_retries=0, timeout=config.request_timeout_s)
        self.endpoint = str(self._client.base_url).rstrip("/") if self._client else ""

    @property
    def configured(self) -> bool:
        return self._client is not None

    def breaker_state(self, model: str | None = None) -> BreakerState:
        """The breaker state of `model` (the first choice by default) at this endpoint."""
        return self._breaker(model or self.config.model).state

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()

    # -- the three kinds of call --------------------------------------------------------------------

    async def chat(self, purpose: str, messages: list[dict[str, Any]], *, local: LocalEngine[str],
                   budget_s: float, check: Check[str] | None = None, temperature: float | None = 0.0,
                   max_tokens: int | None = None, ticket_id: str = "", conversation_id: str = "") -> ModelResult[str]:
        """Plain text from the model; `local()` when no model can answer (or `check` rejects its text)."""
        def parse(completion) -> str:
            text = (completion.choices[0].message.content or "").strip()
            if not text:
                raise _InvalidOutput("empty answer")
            if completion.choices[0].finish_reason == "length":
                raise _InvalidOutput("answer cut at max_tokens")
            return text

        request = {"messages": messages, **_sampling(temperature, max_tokens)}
        return await self._call(purpose, request, parse, local, budget_s, check, "text", ticket_id, conversation_id)

    async def structured(self, purpose: str, messages: list[dict[str, Any]], schema: type[M], *,
                         local: LocalEngine[M], budget_s: float, check: Check[M] | None = None,
                         temperature: float | None = 0.0, max_tokens: int | None = None,
                         ticket_id: str = "", conversation_id: str = "") -> ModelResult[M]:
        """A `schema` instance: asks for JSON by json_schema response_format and validates it.

        Invalid JSON or a schema violation is asked again once; a second miss falls back.
        """
        def parse(completion) -> M:
            message = completion.choices[0].message
            if getattr(message, "refusal", None):
                raise _InvalidOutput(f"refused: {message.refusal}")
            try:
                return schema.model_validate_json(message.content or "")
            except ValidationError as exc:
                raise _InvalidOutput(f"not a valid {schema.__name__}: {exc.errors()[0]['msg']}") from None

        response_format = {"type": "json_schema", "json_schema": {
            "name": schema.__name__, "schema": schema.model_json_schema(), "strict": False}}
        request = {"messages": messages, "response_format": response_format, **_sampling(temperature, max_tokens)}
        return await self._call(purpose, request, parse, local, budget_s, check, "json", ticket_id,
                                conversation_id)

    async def tools(self, purpose: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]], *,
                    local: LocalEngine[ToolAnswer], budget_s: float, tool_choice: str | dict = "auto",
                    check: Check[ToolAnswer] | None = None, temperature: float | None = 0.0,
                    ticket_id: str = "", conversation_id: str = "") -> ModelResult[ToolAnswer]:
        """The tool calls the model asks for, given OpenAI function-tool schemas.

        A call to a tool not offered, or arguments that are not a JSON object, count as invalid output.
        """
        offered = {t["function"]["name"] for t in tools if t.get("type") == "function"}

        def parse(completion) -> ToolAnswer:
            message = completion.choices[0].message
            calls = []
            for call in message.tool_calls or []:
                name = call.function.name
                if name not in offered:
                    raise _InvalidOutput(f"called unknown tool {name!r}")
                try:
                    arguments = json.loads(call.function.arguments or "{}")
                except json.JSONDecodeError as exc:
                    raise _InvalidOutput(f"arguments of {name} are not JSON: {exc.msg}") from None
                if not isinstance(arguments, dict):
                    raise _InvalidOutput(f"arguments of {name} are not an object")
                calls.append(ToolCall(call.id, name, arguments))
            text = (message.content or "").strip()
            if not calls and not text:
                raise _InvalidOutput("neither tool calls nor text")
            return ToolAnswer(calls, text)

        request = {"messages": messages, "tools": tools, "tool_choice": tool_choice, **_sampling(temperature, None)}
        return await self._call(purpose, request, parse, local, budget_s, check, "tool_calls", ticket_id,
                                conversation_id)

    # -- the chain -----------------------------------------------------------------------------------

    async def _call(self, purpose: str, request: dict[str, Any], parse: Callable[[Any], T],
                    local: LocalEngine[T], budget_s: float, check: Check[T] | None, output_type: str,
                    ticket_id: str, conversation_id: str) -> ModelResult[T]:
        if budget_s <= 0:
            budget_s = 0.0
        deadline = time.monotonic() + budget_s
        parent = trace.get_current_span().get_span_context()
        parent_id = format(parent.span_id, "016x") if parent.is_valid else ""
        first = self.config.model
        name = f"chat {first}" if self.configured else f"local {purpose}"
        kind = trace.SpanKind.CLIENT if self.configured else trace.SpanKind.INTERNAL
        with self._tracer.start_as_current_span(name, kind=kind) as span:
            hop = start_hop(self.service, f"model {purpose}", span, parent_id, "client")
            hop.ticket_id, hop.conversation_id = ticket_id, conversation_id
            tally = _Tally()
            result: ModelResult[T] | None = None
            path: list[str] = []
            first_reason = first_detail = ""
            if not self.configured:
                first_reason = "not_configured"
            else:
                self._request_attributes(span, request, output_type)
                for model in self.config.models:
                    try:
                        value = await self._try_model(model, request, parse, deadline, tally)
                        if check is not None and (why := check(value)):
                            raise _GiveUp("rejected", why)
                    except _GiveUp as give_up:
                        path.append(f"{model}: {give_up.reason}")
                        if not first_reason:
                            first_reason, first_detail = give_up.reason, give_up.detail
                        continue
                    result = ModelResult(value, REMOTE, model)
                    break
            if result is None:
                value = local()
                if inspect.isawaitable(value):
                    value = await value
                result = ModelResult(value, LOCAL)
            if result.engine == LOCAL or first_reason:
                result.fallback_reason, result.fallback_detail = first_reason, first_detail[:500]
            result.tokens_in, result.tokens_out = tally.tokens_in, tally.tokens_out
            result.cost_usd, result.cost_known = tally.cost, tally.cost_known
            result.retries, result.finish_reasons, result.path = tally.retries, tally.finish_reasons, path
            self._response_attributes(span, result, tally, purpose)
            await self._emit_hop(hop, result)
            return result

    def _breaker(self, model: str):
        return self._breakers.get(self.endpoint, model, self.config.breaker_failures,
                                  self.config.breaker_cooldown_s)

    async def _try_model(self, model: str, request: dict[str, Any], parse: Callable[[Any], T],
                         deadline: float, tally: _Tally) -> T:
        """One model's answer, with retries; raises _GiveUp with the reason when it has none."""
        assert self._client is not None
        breaker = self._breaker(model)
        if not breaker.allow():
            raise _GiveUp("breaker_open", f"{consecutive} consecutive failures" if (
                consecutive := breaker.consecutive_failures) else "")
        attempt, asked_again = 0, False
        while True:
            attempt += 1
            remaining = deadline - time.monotonic()
            if remaining < MIN_ATTEMPT_S:
                raise _GiveUp("deadline", f"{max(remaining, 0) * 1000:.0f} ms of budget left")
            try:
                completion = await self._client.chat.completions.create(
                    model=model, timeout=min(self.config.request_timeout_s, remaining), **request)
            except openai.APIError as exc:
                reason, retryable = _classify(exc)
                if retryable:
                    breaker.record_failure()
                if not retryable or attempt >= self.config.max_attempts:
                    raise _GiveUp(reason, str(exc)) from None
                delay = self._backoff(attempt, _retry_after(exc))
                if time.monotonic() + delay + MIN_ATTEMPT_S > deadline:
                    raise _GiveUp(reason, f"{exc} (no budget left to retry)") from None
                if not breaker.allow():
                    raise _GiveUp("breaker_open", str(exc)) from None
                tally.retries += 1
                await self._sleep(delay)
                continue
            breaker.record_success()
            self._count(model, completion, tally)
            try:
                return parse(completion)
            except _InvalidOutput as exc:
                # One more chance: sampling may well produce a valid answer the second time.
                if asked_again or time.monotonic() + MIN_ATTEMPT_S > deadline:
                    raise _GiveUp("invalid_output", str(exc)) from None
                asked_again = True
                tally.retries += 1

    def _backoff(self, attempt: int, retry_after: float) -> float:
        """Full jitter: uniform in [0, base·2^(attempt-1)], capped; a server's Retry-After is honoured up to the cap."""
        ceiling = min(self.config.backoff_max_s, self.config.backoff_base_s * 2 ** (attempt - 1))
        return max(self._rng.uniform(0, ceiling), min(retry_after, self.config.backoff_max_s))

    def _count(self, model: str, completion, tally: _Tally) -> None:
        usage = getattr(completion, "usage", None)
        tokens_in = getattr(usage, "prompt_tokens", 0) or 0
        tokens_out = getattr(usage, "completion_tokens", 0) or 0
        tally.tokens_in += tokens_in
        tally.tokens_out += tokens_out
        tally.response_model = completion.model or model
        tally.response_id = completion.id or ""
        tally.finish_reasons = [c.finish_reason or "" for c in completion.choices]
        cost, known = cost_usd(tally.response_model, tokens_in, tokens_out, self.config.prices)
        if not known:
            # A response may name a snapshot the table lacks while the requested name is priced.
            cost, known = cost_usd(model, tokens_in, tokens_out, self.config.prices)
        tally.cost += cost
        tally.cost_known = tally.cost_known and known

    # -- telemetry -----------------------------------------------------------------------------------

    def _request_attributes(self, span: trace.Span, request: dict[str, Any], output_type: str) -> None:
        url = urlsplit(self.endpoint)
        span.set_attribute("gen_ai.operation.name", "chat")
        span.set_attribute("gen_ai.system", "openai")
        span.set_attribute("gen_ai.provider.name", "openai")
        span.set_attribute("gen_ai.request.model", self.config.model)
        span.set_attribute("gen_ai.output.type", output_type)
        if url.hostname:
            span.set_attribute("server.address", url.hostname)
            span.set_attribute("server.port", url.port or (443 if url.scheme == "https" else 80))
        if request.get("temperature") is not None:
            span.set_attribute("gen_ai.request.temperature", request["temperature"])
        if request.get("max_tokens") is not None:
            span.set_attribute("gen_ai.request.max_tokens", request["max_tokens"])

    def _response_attributes(self, span: trace.Span, result: ModelResult, tally: _Tally, purpose: str) -> None:
        span.set_attribute("supportmesh.model.purpose", purpose)
        span.set_attribute("supportmesh.model.engine", result.engine)
        span.set_attribute("supportmesh.model.retries", result.retries)
        span.set_attribute("supportmesh.model.cost_usd", result.cost_usd)
        span.set_attribute("supportmesh.model.cost_known", result.cost_known)
        if result.fallback_reason:
            span.set_attribute("supportmesh.model.fallback_reason", result.fallback_reason)
        if not self.configured:
            return
        span.set_attribute("supportmesh.model.breaker_state", str(self.breaker_state()))
        span.set_attribute("gen_ai.usage.input_tokens", tally.tokens_in)
        span.set_attribute("gen_ai.usage.output_tokens", tally.tokens_out)
        if tally.response_model:
            span.set_attribute("gen_ai.response.model", tally.response_model)
        if tally.response_id:
            span.set_attribute("gen_ai.response.id", tally.response_id)
        if tally.finish_reasons:
            span.set_attribute("gen_ai.response.finish_reasons", tally.finish_reasons)
        if result.engine == LOCAL:
            # The model call failed even though the caller got an answer from the local engine.
            span.set_attribute("error.type", result.fallback_reason)
            span.set_status(trace.Status(trace.StatusCode.ERROR, result.fallback_detail or result.fallback_reason))

    async def _emit_hop(self, hop, result: ModelResult) -> None:
        hop.engine, hop.model = result.engine, result.model or (self.config.model if self.configured else "")
        hop.tokens_in, hop.tokens_out = result.tokens_in, result.tokens_out
        hop.cost_usd, hop.retries = result.cost_usd, result.retries
        if not result.cost_known:
            hop.labels["model.cost_known"] = "false"
        if result.fallback_reason:
            hop.labels["model.fallback_reason"] = result.fallback_reason
        if self.configured:
            hop.labels["model.breaker_state"] = str(self.breaker_state())
        # Not configured is the designed default, not a failure; the local engine standing in for a
        # configured model is. A later model of the chain answering is a success with a fallback label.
        remote_failed = self.configured and result.engine == LOCAL
        finish_hop(hop, f"{result.fallback_reason}: {result.fallback_detail}".rstrip(": ") if remote_failed else "")
        if self._sink is not None:
            await self._sink.emit(hop)


def _sampling(temperature: float | None, max_tokens: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if temperature is not None:
        out["temperature"] = temperature
    if max_tokens is not None:
        out["max_tokens"] = max_tokens
    return out
