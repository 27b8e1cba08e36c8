"""The trained model: predictions on unseen wording, the fast scorer, metrics and the saved artifact."""

import json
import pathlib

import numpy as np
import pytest
from supportmesh_intent import artifacts
from supportmesh_intent.classifier import Classifier

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Hello, where is my package? Order #W7654321 was supposed to arrive on Monday", "track_order"),
        ("please cancel my order W1234567 right away, I don't want it", "cancel_order"),
        ("I want a refund for the broken kettle I received", "get_refund"),
        ("Outlook won't sync my mailbox and shows error 0x8004010F", "technical_support"),
        ("sign-in to Office fails with AADSTS50126 invalid username or password", "technical_support"),
        ("what's the weather like in Madrid this weekend", "out_of_scope"),
        ("tell me a funny story about a penguin", "out_of_scope"),
        ("make the screen brighter", "out_of_scope"),
        ("Buongiorno, vorrei annullare il mio ordine, grazie", "cancel_order"),
        ("Olá, esqueci a minha senha e não consigo entrar", "recover_password"),
    ],
)
def test_classifies_unseen_wording(model, text, intent):
    result = Classifier(model).classify(text)
    assert result.intent == intent
    assert result.confidence >= 0.6


def test_classification_carries_category_alternatives_and_entities(model):
    result = Classifier(model).classify("Teams shows error 0xCAA20004 when I sign in")
    assert result.category == "TECHNICAL"
    assert [a.intent for a in result.alternatives][0] == result.intent
    assert len(result.alternatives) == 3
    assert result.alternatives[0].score >= result.alternatives[1].score >= result.alternatives[2].score
    assert [e.value for e in result.entities if e.type == "error_code"] == ["0xCAA20004"]
    assert Classifier(model).classify("what's 12 times 12").category == "OTHER"


@pytest.mark.parametrize(
    "text",
    [
        "Hello, where is my package? Order #W7654321 was supposed to arrive on Monday",
        "I want a refund for the broken kettle I received",
        "how do I change the email address on my account",
    ],
)
def test_pasted_logs_quotes_and_signatures_do_not_change_the_intent(model, text):
    packaged = (
        f"Hi,\n\n{text}\n"
        "2024-06-03 10:14:23,002 ERROR [worker-3] com.shop.Http - request failed: status=500 retries=3\n"
        "    at com.shop.client.Http.send(Http.java:212)\n\n"
        "Best regards,\nJohn Smith\nSenior Buyer | Acme Trading GmbH\nTel +49 30 1234567\n\n"
        "On Mon, 3 Jun 2024 at 09:12, Support <support@shop.example> wrote:\n"
        "> Thank you for reaching out. Your technical issue was forwarded to our engineers."
    )
    plain, noisy = Classifier(model).classify(text), Classifier(model).classify(packaged)
    assert noisy.intent == plain.intent
    assert noisy.confidence == pytest.approx(plain.confidence, abs=0.05)


def test_fast_scorer_matches_the_pipeline(model):
    texts = [
        "where is my order #W2378156",
        "",
        "???",
        "I can't activate Office, error 0xC004F074",
        "Hi there, I'd like to change the delivery address for my order to 1 Main St, Austin TX 78701",
    ]
    logits = model.pipeline.decision_function(texts)
    np.testing.assert_allclose(np.vstack([model.logits(t) for t in texts]), logits, atol=1e-4)
    scaled = np.exp(logits / model.temperature - (logits / model.temperature).max(axis=1, keepdims=True))
    expected = scaled / scaled.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(np.vstack([model.probabilities(t) for t in texts]), expected, atol=1e-5)


def test_holdout_metrics_are_reported_and_saved(trained, settings):
    _, metrics = trained
    assert metrics["accuracy"] > 0.98
    assert metrics["macro_f1"] > 0.98
    assert metrics["ece"] < 0.05
    assert 0 < metrics["temperature"] < 20
    assert len(metrics["per_intent"]) == 27  # the Bitext held-out split has only Bitext's intents
    assert metrics["latency_ms"]["classify"]["mean"] < 5
    saved = json.loads((settings.model_dir / artifacts.METRICS_FILE).read_text())
    assert saved["accuracy"] == metrics["accuracy"]


def test_saved_holdout_is_the_committed_evaluation_file(trained, settings):
    committed = pathlib.Path(__file__).resolve().parents[2] / "eval" / "bitext_holdout.csv"
    assert (settings.model_dir / artifacts.HOLDOUT_FILE).read_bytes() == committed.read_bytes()


def test_products_and_calibration_reach_the_classifier(trained, settings):
    model, meta = artifacts.load(settings.model_dir)
    assert "Office Chair" in meta["products"] and len(meta["products"]) == 50
    assert model.temperature == trained[0].temperature
    result = Classifier(model, meta["products"]).classify("the office chairs from order #W2611340 are broken")
    assert ("product", "Office Chair") in [(e.type, e.value) for e in result.entities]


def test_artifact_round_trip_and_staleness(trained, settings, tmp_path):
    model, meta = artifacts.load(settings.model_dir)
    assert model.labels == trained[0].labels
    assert {"technical_support", "out_of_scope"} <= set(meta["labels"])
    assert len(meta["data_sha256"]) == 64
    with pytest.raises(artifacts.StaleArtifact, match="training data changed"):
        artifacts.load(settings.model_dir, expected_data_hash="0" * 64)
    with pytest.raises(artifacts.StaleArtifact, match="no model"):
        artifacts.load(tmp_path)
    (tmp_path / artifacts.MODEL_FILE).write_bytes((settings.model_dir / artifacts.MODEL_FILE).read_bytes())
    meta["versions"]["scikit-learn"] = "0.0.1"
    (tmp_path / artifacts.METADATA_FILE).write_text(json.dumps(meta))
    with pytest.raises(artifacts.StaleArtifact, match="scikit-learn 0.0.1"):
        artifacts.load(tmp_path)
