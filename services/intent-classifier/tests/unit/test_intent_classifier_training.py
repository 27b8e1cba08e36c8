"""Training pieces without a full run: the Bitext split, augmentation, weights, temperature, metrics, leakage."""

import csv
import pathlib
import random
import re

import numpy as np
import pytest
from intent_classifier.adapters.data import read_author_pairs, read_bitext, read_own_lines, read_own_pairs
from intent_classifier.config import Settings
from intent_classifier.domain.augment import augmented
from intent_classifier.domain.examples import Example
from intent_classifier.domain.training import KB_WEIGHT, OWN_WEIGHT, fit_temperature, split_bitext, training_rows
from supportmesh_intent.intent_model import build_pipeline
from supportmesh_intent.metrics import entity_scores, expected_calibration_error, score
from supportmesh_intent.text import normalize, strip_packaging

pytestmark = pytest.mark.unit
EVAL_DIR = pathlib.Path(__file__).resolve().parents[2] / "eval"


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def _words(text: str) -> str:
    """The text's words only, so a copy that differs in case, spacing or punctuation still counts."""
    return " ".join(re.findall(r"\w+", text.lower()))


def test_bitext_split_is_seeded_and_matches_the_committed_file():
    bitext = read_bitext(Settings().bitext_path)
    train, held_out = split_bitext(bitext, 0.2, 42)
    again = split_bitext(bitext, 0.2, 42)[1]
    assert held_out == again
    assert not {_key(e.text) for e in train} & {_key(e.text) for e in held_out}
    with (EVAL_DIR / "bitext_holdout.csv").open(newline="", encoding="utf-8") as fh:
        committed = [(r["text"], r["intent"]) for r in csv.DictReader(fh)]
    assert committed == [(e.text, e.intent) for e in held_out]


@pytest.mark.parametrize(
    "name", ["out_of_domain.csv", "out_of_domain_holdout.csv", "out_of_domain_holdout2.csv",
             "out_of_domain_holdout3.csv",
             "tickets.csv", "tickets_holdout.csv",
             "tickets_holdout2.csv", "tickets_holdout3.csv"]
)
def test_no_evaluation_text_is_in_our_training_files(name):
    path = EVAL_DIR / name
    own = {_words(t) for _, t in read_own_pairs("retail_tickets.txt") + read_author_pairs()}
    for name in ("technical_support.txt", "out_of_scope.txt", "out_of_scope_broad.txt", "out_of_scope_broad2.txt",
                 "out_of_scope_broad3.txt"):
        own |= {_words(t) for t in read_own_lines(name)}
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= 200
    assert not own & {_words(r["text"]) for r in rows}


def test_ticket_shaped_copies_keep_the_label_and_are_seeded():
    examples = [Example("where is my order", "track_order", "ORDER"), Example("tell a joke", "out_of_scope", "OTHER")]
    first, second = augmented(examples, 5), augmented(examples, 5)
    assert first == second
    assert [e.intent for e in first] == ["track_order", "out_of_scope"]
    assert all(len(a.text) >= len(b.text) - 1 for a, b in zip(first, examples, strict=True))
    copies = augmented([examples[1]] * 200, 1)
    assert not any("#W" in e.text or "@" in e.text for e in copies)  # no ids inside out-of-domain text


def test_training_rows_weight_our_examples_and_group_copies():
    examples = [
        Example("a bitext line", "track_order", "ORDER"),
        Example("our own ticket", "track_order", "ORDER"),
        Example("outlook will not start", "technical_support", "TECHNICAL"),
    ]
    kb = frozenset({"outlook will not start"})
    texts, intents, weights, groups = training_rows(examples, {"a bitext line"}, 1, kb)
    assert len(texts) == 6 and intents == ["track_order", "track_order", "technical_support"] * 2
    assert weights.tolist() == [1.0, OWN_WEIGHT, KB_WEIGHT] * 2
    assert groups.tolist() == [0, 1, 2, 0, 1, 2]


def test_pipeline_fit_is_deterministic():
    rng = random.Random(3)
    words = ["order", "refund", "weather", "password", "invoice", "joke"]
    texts = [" ".join(rng.choice(words) for _ in range(4)) for _ in range(120)]
    labels = [t.split()[0] for t in texts]
    a = build_pipeline(42).fit(texts, labels).named_steps["model"].coef_
    b = build_pipeline(42).fit(texts, labels).named_steps["model"].coef_
    np.testing.assert_array_equal(a, b)


def test_temperature_undoes_a_known_scaling():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, 4000)
    true_logits = rng.normal(size=(4000, 3))
    true_logits[np.arange(4000), truth] += 2.0
    # Sample labels from softmax(true_logits), then hand the fitter logits made 3x too confident.
    p = np.exp(true_logits) / np.exp(true_logits).sum(axis=1, keepdims=True)
    sampled = np.array([rng.choice(3, p=row) for row in p])
    assert fit_temperature(true_logits * 3, sampled) == pytest.approx(3.0, rel=0.1)


def test_metrics_on_a_hand_computed_example():
    truth = ["a", "a", "a", "b", "b", "c"]
    predicted = ["a", "a", "b", "b", "c", "c"]
    result = score(truth, predicted, [0.9, 0.8, 0.7, 0.6, 0.5, 0.95])
    assert result["accuracy"] == round(4 / 6, 4)
    # a: P 2/2 R 2/3 F1 0.8; b: P 1/2 R 1/2 F1 0.5; c: P 1/2 R 1/1 F1 2/3
    assert result["per_intent"]["a"] == {"precision": 1.0, "recall": 0.6667, "f1": 0.8, "support": 3}
    assert result["per_intent"]["b"]["f1"] == 0.5
    assert result["per_intent"]["c"]["f1"] == 0.6667
    assert result["macro_f1"] == round((0.8 + 0.5 + 0.6667) / 3, 4)
    assert result["confusions"] == [
        {"intent": "a", "predicted": "b", "count": 1},
        {"intent": "b", "predicted": "c", "count": 1},
    ]
    assert result["below_min_confidence"] == round(1 / 6, 4)  # only 0.5 is under 0.6


def test_calibration_error_and_entity_scores():
    assert expected_calibration_error([0.9, 0.9], [True, False]) == pytest.approx(0.4)
    assert expected_calibration_error([1.0, 1.0], [True, True]) == pytest.approx(0.0)
    gold = [[("zip", "19122"), ("name", "Ann Lee")], [("order_id", "#W1234567")]]
    found = [[("zip", "19122")], [("order_id", "#W1234567"), ("amount", "5.00 USD")]]
    result = entity_scores(gold, found)
    assert result["overall"] == {"precision": 0.6667, "recall": 0.6667, "f1": 0.6667, "gold": 3, "found": 3}
    assert result["per_type"]["name"]["recall"] == 0.0
    assert result["per_type"]["amount"]["precision"] == 0.0


def test_foreign_support_words_are_translated():
    assert normalize("Quiero cancelar mi pedido") == "i want cancel my order"
    assert normalize("Je voudrais passer une commande") == "i would like place an order"
    assert normalize("Acceptez-vous PayPal ?") == "do you accept paypal ?"
    assert normalize("Ich möchte mein Konto löschen") == "i would like my account delete"
    assert normalize("I don\u2019t know") == normalize("I don't know")
    assert "password" in normalize("J'ai oublié mon mot de passe")
    assert normalize("Wo ist meine Bestellung?") == "where is my order?"


def test_quoted_replies_and_signatures_are_stripped():
    ticket = (
        "Hello team,\n\nWhere is my parcel? It was due on Monday.\n\nKind regards,\nJohn Smith\n"
        "Senior Buyer | Acme Trading GmbH\nTel +49 30 1234567\n\n"
        "On Mon, 3 Jun 2024 at 09:12, Support <support@shop.example> wrote:\n> Your refund was approved."
    )
    kept = "Hello team, Where is my parcel? It was due on Monday. Kind regards,"
    assert strip_packaging(ticket).split() == kept.split()
    assert "Sent" not in strip_packaging("Cancel my order please\n--\nSent from my iPhone")
    assert "refund" not in strip_packaging("Where is my order?\n> We issued a refund yesterday.")
    assert "wrote" not in strip_packaging("Still waiting.\n-----Original Message-----\nFrom: Support\nwrote")


def test_sign_off_lines_before_more_request_are_kept():
    # A sign-off word followed by a question or a sentence is not a signature.
    assert "cancel" in strip_packaging("Hi,\nThanks!\nI'd like to cancel my order, can you?")
    assert "refund" in strip_packaging("Thanks,\nwhere is my refund?")
    assert strip_packaging("Thanks a lot for the quick help last time.") == "Thanks a lot for the quick help last time."


def test_log_lines_keep_only_their_error_codes():
    ticket = (
        "Outlook does not start.\n"
        "2024-06-03 10:14:23,002 ERROR [worker-3] mail.Session - sync failed 0x8004DE80\n"
        "    at com.shop.client.Http.send(Http.java:212)\n"
        "Traceback (most recent call last):\n"
        '  File "sync.py", line 3, in <module>\n'
        "ConnectionError: host unreachable\n"
        "[12:01:02] retry 3 of 3\n"
        "Error: the sync button stays grey"
    )
    kept = strip_packaging(ticket).split()
    assert kept == ["Outlook", "does", "not", "start.", "0x8004DE80", "Error:", "the", "sync", "button", "stays",
                    "grey"]


def test_text_that_is_all_packaging_is_kept_whole():
    only_quote = "On Mon, 3 Jun 2024, Support wrote:\n> hello"
    assert strip_packaging(only_quote) == only_quote
    assert strip_packaging("") == ""
