"""The workflow file: validation at start and the routing rules."""

import copy

import pytest
import yaml
from intent_classifier.config import Settings
from intent_classifier.domain.workflows import WorkflowError, parse_workflows
from supportmesh_core import resolution
from supportmesh_core.topics import STAGES
from supportmesh_intent.classifier import Classification
from supportmesh_intent.intent_model import IntentScore

pytestmark = pytest.mark.unit

FULL = ("context-compressor", "retriever", "technical-analyst", "response-generator")
INFORM = ("context-compressor", "retriever", "response-generator")


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(Settings().workflows_path.read_text())


def _c(intent="track_order", confidence=0.9, sentiment=0.0, flags=()) -> Classification:
    return Classification(
        intent=intent,
        category="X",
        confidence=confidence,
        alternatives=[IntentScore(intent, confidence)],
        sentiment=sentiment,
        flags=list(flags),
        priority="medium",
        entities=[],
    )


def test_packaged_file_routes_the_intents(raw):
    wf = parse_workflows(raw, STAGES)
    assert wf.route(_c("track_order"), 0.6).stages == FULL
    assert wf.route(_c("technical_support"), 0.6).stages == FULL
    assert wf.route(_c("check_refund_policy"), 0.6).stages == INFORM
    assert wf.route(_c("newsletter_subscription"), 0.6).stages == INFORM
    assert wf.route(_c("out_of_scope"), 0.6).stages == INFORM
    assert wf.route(_c("something_new"), 0.6).workflow == "inform"


@pytest.mark.parametrize(
    ("c", "reason"),
    [
        (_c("contact_human_agent"), "human_requested"),
        (_c("complaint", sentiment=-0.6), "negative_sentiment"),
        (_c("track_order", sentiment=-0.9), "negative_sentiment"),
        (_c("track_order", flags=["threat", "legal"]), "threat"),
        (_c("complaint", flags=["self_harm", "threat"]), "self_harm"),
        (_c("track_order", flags=["vip"]), "vip"),
        (_c("track_order", confidence=0.59), "low_confidence"),
    ],
)
def test_escalate_now_rules(raw, c, reason):
    route = parse_workflows(raw, STAGES).route(c, 0.6)
    assert (route.workflow, route.stages, route.reason) == ("escalate", (), reason)


@pytest.mark.parametrize("flag", ["legal", "fraud", "chargeback", "duplicate_charge", "unexpected_charge"])
def test_money_and_legal_markers_gather_evidence_before_the_handoff(raw, flag):
    # Whatever the intent or confidence: the orders and payments are looked up and the analyst opens the case.
    route = parse_workflows(raw, STAGES).route(_c("track_order", confidence=0.3, flags=[flag, "angry"]), 0.6)
    assert (route.workflow, route.stages) == ("dispute", FULL)


def test_a_flag_workflow_must_be_a_marker_that_does_not_hand_off_at_once(raw):
    data = copy.deepcopy(raw)
    data["flag_workflows"]["threat"] = "dispute"
    with pytest.raises(WorkflowError, match="already hand off"):
        parse_workflows(data, STAGES)


def test_mildly_negative_complaint_is_answered(raw):
    assert parse_workflows(raw, STAGES).route(_c("complaint", sentiment=-0.3), 0.6).workflow == "inform"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["workflows"]["resolve"].insert(1, "retreiver"), "unknown stages"),
        (lambda d: d["workflows"].__setitem__("short", ["retriever"]), "must end with response-generator"),
        (
            lambda d: d["workflows"].__setitem__("loop", ["retriever", "retriever", "response-generator"]),
            "at most once",
        ),
        (lambda d: d["intents"].pop("default"), "'default' entry"),
        (lambda d: d["intents"].__setitem__("track_order", "express"), "undefined workflows: express"),
        (lambda d: d["escalate_now"].__setitem__("flags", ["legal", "angry"]), "escalate_now.flags"),
        (lambda d: d["escalate_now"]["negative_sentiment"].__setitem__("any", -3), "must be a number in"),
        (lambda d: d.pop("workflows"), "'workflows' must be a non-empty mapping"),
    ],
)
def test_invalid_files_fail_fast(raw, mutate, message):
    data = copy.deepcopy(raw)
    mutate(data)
    with pytest.raises(WorkflowError, match=message):
        parse_workflows(data, STAGES)


def test_intents_unknown_to_the_model_are_rejected(raw):
    wf = parse_workflows(raw, STAGES)
    with pytest.raises(WorkflowError, match="track_orders"):
        parse_workflows(
            {**raw, "intents": {**raw["intents"], "track_orders": "resolve"}}, STAGES
        ).check_intents(list(wf.intents))
    wf.check_intents([i for i in wf.intents if i != "default"] + ["contact_human_agent"])


def test_every_intent_has_a_resolution_contract_and_every_contract_an_intent(raw):
    routed = (set(raw["intents"]) - {"default"}) | set(raw["escalate_now"]["intents"])
    assert routed == set(resolution.load().intents)
    assert set(parse_workflows(raw, STAGES).flag_workflows) | set(raw["escalate_now"]["flags"]) == \
        set(resolution.load().safety), "every safety rule of the contract is a marker the classifier routes"


def _alts(*scores: tuple[str, float], sentiment=0.0) -> Classification:
    return Classification(intent=scores[0][0], category="X", confidence=scores[0][1],
                          alternatives=[IntentScore(i, s) for i, s in scores], sentiment=sentiment, flags=[],
                          priority="medium", entities=[])


def test_several_order_writes_below_the_floor_run_resolve_as_a_family(raw):
    wf = parse_workflows(raw, STAGES)
    route = wf.route(_alts(("change_order", 0.45), ("get_refund", 0.44), ("change_shipping_address", 0.06)), 0.6)
    assert (route.workflow, route.stages, route.family, route.family_score) == ("resolve", FULL, "order_writes", 0.95)
    route = wf.route(_alts(("cancel_order", 0.35), ("get_refund", 0.3), ("check_refund_policy", 0.2)), 0.6)
    assert (route.workflow, route.family, route.family_score) == ("resolve", "order_writes", 0.65)


@pytest.mark.parametrize("c", [
    # a question breaks the run: only the leading alternatives count
    _alts(("get_refund", 0.37), ("check_payment_methods", 0.21), ("change_order", 0.17)),
    _alts(("check_payment_methods", 0.56), ("get_refund", 0.30), ("cancel_order", 0.11)),
    # together still below the floor
    _alts(("get_refund", 0.30), ("cancel_order", 0.25), ("track_refund", 0.2)),
    # one intent alone is not a family
    _alts(("change_order", 0.53), ("check_refund_policy", 0.12), ("check_payment_methods", 0.07)),
    # tracking is not a write
    _alts(("track_order", 0.4), ("track_refund", 0.35), ("get_refund", 0.1)),
])
def test_unclear_tickets_still_escalate_low_confidence(raw, c):
    route = parse_workflows(raw, STAGES).route(c, 0.6)
    assert (route.workflow, route.reason, route.family) == ("escalate", "low_confidence", "")


def test_two_questions_below_the_floor_are_answered_for_both_readings(raw):
    wf = parse_workflows(raw, STAGES)
    route = wf.route(_alts(("track_order", 0.48), ("delivery_period", 0.3), ("get_refund", 0.1)), 0.6)
    assert (route.workflow, route.stages, route.family, route.family_score) == ("resolve", FULL, "two_readings", 0.78)
    route = wf.route(_alts(("check_invoice", 0.5), ("get_invoice", 0.2)), 0.6)
    assert (route.workflow, route.family) == ("inform", "two_readings")


@pytest.mark.parametrize("c", [
    _alts(("track_order", 0.44), ("delivery_period", 0.4)),         # the first reading is too weak
    _alts(("track_order", 0.5), ("delivery_period", 0.05)),         # the two together are below the floor
    _alts(("track_order", 0.5), ("cancel_order", 0.3)),             # a write is never guessed
    _alts(("check_invoice", 0.5), ("complaint", 0.3)),              # nor a complaint
    _alts(("track_order", 0.5), ("contact_human_agent", 0.3)),      # nor a human request
])
def test_two_readings_only_of_questions_that_only_ask(raw, c):
    route = parse_workflows(raw, STAGES).route(c, 0.6)
    assert (route.workflow, route.reason) == ("escalate", "low_confidence")


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.__setitem__("two_readings", {"intents": ["track_order"], "min_best": 0.4}), "two or more"),
    (lambda d: d.__setitem__("two_readings", {"intents": ["track_order", "get_invoice"], "min_best": 1.5}),
     "probability"),
    (lambda d: d.__setitem__("two_readings", ["track_order"]), "exactly 'intents' and 'min_best'"),
])
def test_invalid_two_readings_fail_fast(raw, mutate, message):
    data = copy.deepcopy(raw)
    mutate(data)
    with pytest.raises(WorkflowError, match=message):
        parse_workflows(data, STAGES)


def test_the_family_does_not_override_the_handoff_rules(raw):
    wf = parse_workflows(raw, STAGES)
    angry = _alts(("change_order", 0.45), ("get_refund", 0.44), sentiment=-0.9)
    assert wf.route(angry, 0.6).reason == "negative_sentiment"
    # above the floor the intent routes as before, without a family
    assert wf.route(_alts(("get_refund", 0.7), ("change_order", 0.2)), 0.6).family == ""


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.__setitem__("intent_families", ["cancel_order"]), "intent_families must be a mapping"),
    (lambda d: d["intent_families"]["order_writes"].pop("workflow"), "exactly 'intents' and 'workflow'"),
    (lambda d: d["intent_families"]["order_writes"].__setitem__("intents", ["cancel_order"]), "two or more"),
    (lambda d: d["intent_families"]["order_writes"].__setitem__("workflow", "nowhere"), "undefined workflow"),
    (lambda d: d["intent_families"].__setitem__("again", {"intents": ["cancel_order", "get_invoice"],
                                                          "workflow": "resolve"}), "already belong"),
])
def test_invalid_families_fail_fast(raw, mutate, message):
    data = copy.deepcopy(raw)
    mutate(data)
    with pytest.raises(WorkflowError, match=message):
        parse_workflows(data, STAGES)


def test_family_intents_unknown_to_the_model_are_rejected(raw):
    data = copy.deepcopy(raw)
    data["intent_families"]["order_writes"]["intents"].append("cancel_ordr")
    with pytest.raises(WorkflowError, match="cancel_ordr"):
        parse_workflows(data, STAGES).check_intents(set(raw["intents"]) - {"default"} | {"contact_human_agent"})


@pytest.mark.parametrize("c", [
    _c("check_payment_methods", 0.68, flags=["order_request"]),    # read as the question it also asks
    _c("out_of_scope", 0.9, flags=["order_request"]),
])
def test_an_order_request_runs_resolve_whatever_its_intent(raw, c):
    route = parse_workflows(raw, STAGES).route(c, 0.6)
    assert (route.workflow, route.stages, route.marker, route.reason) == ("resolve", FULL, "order_request", "")


def test_an_order_request_the_classifier_is_unsure_of_reaches_the_analyst_marked_unsure(raw):
    # Below the floor with a single write intent: the analyst proposes only unconditional requests for it.
    route = parse_workflows(raw, STAGES).route(_c("get_refund", 0.36, flags=["order_request"]), 0.6)
    assert (route.workflow, route.family, route.family_score) == ("resolve", "unsure_request", 0.36)
    # without the marker the same classification still goes to a person
    assert parse_workflows(raw, STAGES).route(_c("get_refund", 0.36), 0.6).reason == "low_confidence"


def test_an_order_request_does_not_override_the_handoff_rules(raw):
    wf = parse_workflows(raw, STAGES)
    assert wf.route(_c("contact_human_agent", flags=["order_request"]), 0.6).reason == "human_requested"
    assert wf.route(_c("get_refund", sentiment=-0.9, flags=["order_request"]), 0.6).reason == "negative_sentiment"
    assert wf.route(_c("get_refund", flags=["order_request", "threat"]), 0.6).reason == "threat"
    assert wf.route(_c("get_refund", flags=["order_request", "fraud"]), 0.6).workflow == "dispute"
    assert wf.route(_c("check_payment_methods", 0.9), 0.6).workflow == "inform"   # no marker: the intent's


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.__setitem__("request_workflows", {"angry": "resolve"}), "not request markers"),
    (lambda d: d.__setitem__("request_workflows", {"order_request": "nowhere"}), "undefined workflows"),
    (lambda d: d.__setitem__("request_workflows", {"order_request": "inform"}), "must run the technical-analyst"),
])
def test_invalid_request_workflows_fail_fast(raw, mutate, message):
    data = copy.deepcopy(raw)
    mutate(data)
    with pytest.raises(WorkflowError, match=message):
        parse_workflows(data, STAGES)
