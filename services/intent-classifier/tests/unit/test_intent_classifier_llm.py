"""The model path of the classifier against the scripted OpenAI-compatible double (supportmesh_llm.testing).

The double is not a model: it replays the completions each test scripts, so these are contract tests of
how the handler asks, validates, merges and falls back, not of any model's quality.
"""

import json
import socket
import time

import pytest
import yaml
from intent_classifier.adapters.llm_refiner import ModelClassifier
from intent_classifier.config import Settings
from intent_classifier.domain.llm_verdict import prompt_text
from intent_classifier.domain.workflows import parse_workflows
from intent_classifier.handlers import ClassifierHandler
from pydantic import ValidationError
from supportmesh.v1.envelope_pb2 import Envelope
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh.v1.ticket_pb2 import Customer, Ticket
from supportmesh_core.hops import ListHopSink
from supportmesh_core.stage import Escalate, Forward
from supportmesh_core.topics import STAGES
from supportmesh_intent.classifier import Classifier
from supportmesh_llm import BreakerRegistry, ModelClient, ModelConfig

pytestmark = pytest.mark.unit

BODY = ("Hi, please cancel order #W2378156, I ordered it by mistake and I'm annoyed. "
        "Reach me at yusuf.rossi@example.com or 555-201-3344.\nThanks, Yusuf Rossi")


def envelope() -> Envelope:
    return Envelope(
        ticket=Ticket(ticket_id="T-7", conversation_id="C-7", subject="Cancel", body=BODY,
                      customer=Customer(name="Yusuf Rossi", email="yusuf.rossi@example.com")),
        deadline_unix_ms=int(time.time() * 1000) + 5000)


def handler(model, settings, server, hops: ListHopSink, **config) -> ClassifierHandler:
    workflows = parse_workflows(yaml.safe_load(settings.workflows_path.read_text()), STAGES)
    cfg = ModelConfig(base_url=server.base_url if server else "", api_key="test-key" if server else "",
                      backoff_base_s=0.01, backoff_max_s=0.02, **config)
    client = ModelClient(cfg, service="intent-classifier", hop_sink=hops, breakers=BreakerRegistry())
    return ClassifierHandler(Classifier(model), workflows, settings.min_confidence,
                             ModelClassifier(client, model.categories), model_budget_share=0.5)


def verdict(**overrides) -> str:
    answer = {"intent": "cancel_order", "confidence": 0.93, "sentiment": -0.4, "flags": ["threat"],
              "entities": [{"type": "order_id", "value": "W2378156"},
                           {"type": "amount", "value": "$999.00"}]}
    return json.dumps({**answer, **overrides})


async def test_a_valid_answer_is_merged_and_the_prompt_carries_no_personal_data(model, settings, scripted_openai):
    scripted_openai.then(scripted_openai.completion(verdict(), prompt_tokens=400, completion_tokens=60))
    hops, hop = ListHopSink(), HopRecord()
    result = await handler(model, settings, scripted_openai, hops)(envelope(), hop)

    assert isinstance(result, Escalate)
    c = result.envelope.classification
    # The model's intent and confidence; its threat flag joins the local ones, so the ticket goes to a human.
    assert (c.intent, c.engine, c.confidence) == ("cancel_order", "openai", pytest.approx(0.93))
    assert "threat" in c.flags and c.priority == "urgent" and c.workflow == "escalate"
    assert [a.intent for a in c.alternatives][0] == "cancel_order"
    # The amount is not in the ticket, so it is dropped; the order id the local extractor found stays once.
    assert [(e.type, e.value) for e in c.entities if e.type in ("order_id", "amount")] == [("order_id", "#W2378156")]
    assert hop.engine == "openai" and hop.labels["model.entities_dropped"] == "1"

    request = scripted_openai.requests[0]
    sent = json.dumps(request["messages"])
    assert "yusuf" not in sent.lower() and "555-201-3344" not in sent and "#W2378156" in sent
    schema = request["response_format"]["json_schema"]["schema"]
    assert set(schema["properties"]["intent"]["enum"]) == set(model.labels) and len(model.labels) == 29
    [model_hop] = hops.hops
    assert (model_hop.action, model_hop.engine, model_hop.tokens_in, model_hop.ticket_id) == (
        "model classify", "openai", 400, "T-7")
    assert model_hop.cost_usd > 0


async def test_an_intent_outside_the_taxonomy_falls_back_to_the_local_engine(model, settings, scripted_openai):
    bad = scripted_openai.completion(verdict(intent="make_coffee"))
    scripted_openai.then(bad, bad)
    hop = HopRecord()
    local = Classifier(model).classify(f"Cancel\n{BODY}")
    result = await handler(model, settings, scripted_openai, ListHopSink())(envelope(), hop)
    c = result.envelope.classification
    assert (c.intent, c.engine) == (local.intent, "local") and c.confidence == pytest.approx(local.confidence)
    assert hop.labels["model.fallback_reason"] == "invalid_output" and len(scripted_openai.requests) == 2


async def test_an_open_breaker_sends_tickets_straight_to_the_local_engine(model, settings, scripted_openai):
    scripted_openai.then(scripted_openai.error(503))
    h = handler(model, settings, scripted_openai, ListHopSink(), max_attempts=1, breaker_failures=1)
    first, second = HopRecord(), HopRecord()
    await h(envelope(), first)
    result = await h(envelope(), second)
    assert first.labels["model.fallback_reason"] == "server_error"
    assert second.labels["model.fallback_reason"] == "breaker_open" and second.engine == "local"
    assert result.envelope.classification.engine == "local" and len(scripted_openai.requests) == 1


async def test_without_a_key_nothing_calls_the_network(model, settings, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket.socket, "connect_ex", no_network)
    h = handler(model, settings, None, ListHopSink())
    assert h.model is None
    hop = HopRecord()
    env = envelope()
    env.ticket.body = "Where is my order #W2378156?"
    result = await h(env, hop)
    assert isinstance(result, Forward) and result.envelope.classification.engine == "local"
    assert hop.engine == "local" and not any(k.startswith("model.") for k in hop.labels)


def test_prompt_text_masks_names_emails_phones_and_keeps_order_ids(model):
    text = f"Cancel\n{BODY}"
    entities = Classifier(model).classify(text).entities
    masked = prompt_text(text, entities, ("Yusuf Rossi", "yusuf.rossi@example.com"))
    assert "#W2378156" in masked and "by mistake" in masked
    assert "Yusuf" not in masked and "Rossi" not in masked and "example.com" not in masked
    assert "555-201-3344" not in masked and "[phone]" in masked


@pytest.mark.parametrize(("name", "bad"), [("CLASSIFIER_ENGINE", "gpt"), ("CLASSIFIER_MODEL_BUDGET_SHARE", "0")])
def test_bad_model_settings_fail_fast(monkeypatch, name, bad):
    monkeypatch.setenv(name, bad)
    with pytest.raises(ValidationError):
        Settings()
