"""The resolution contracts and help pages: the packaged files load, and a wrong file is refused with a reason."""

import copy

import pytest
import yaml
from supportmesh_core import resolution
from supportmesh_core.resolution import ContractError, parse_contracts, parse_help

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def raw():
    return yaml.safe_load(resolution.CONTRACTS_PATH.read_text())


def test_the_packaged_contracts_cover_every_element_they_use_with_existing_pages_and_guidelines():
    c = resolution.load()
    assert len(c.intents) == 29 and "self_harm" in c.safety and list(c.safety)[0] == "self_harm"
    for contract in c.intents.values():
        assert set(contract.elements) <= resolution.ELEMENTS and all(p in c.help for p in contract.help)
        assert not contract.guideline or contract.guideline in c.guidelines
    assert c.for_intent("contact_human_agent").always_escalates == "human_requested"
    assert c.for_intent("track_order").always_escalates == ""


def test_a_safety_rule_is_chosen_in_the_files_order():
    c = resolution.load()
    assert c.safety_rule(["angry", "legal", "self_harm"]).reason == "self_harm"
    assert c.safety_rule(["angry"]) is None


def test_a_handoff_names_the_guideline_and_its_actions_a_safety_rule_first():
    c = resolution.load()
    assert c.guideline_line("track_refund") == ("Agent guideline (Product Defect / Refund Status): Pull up Account; "
                                                "Validate Purchase; Notify Internal Team")
    assert c.guideline_line("track_refund", "duplicate_charge").startswith(
        "Agent guideline (Subscription Inquiry / Manage Dispute Bill)")
    assert c.guideline_line("review") == "" and c.guideline_line("cancel_order", "self_harm") == ""


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: d["intents"]["track_order"]["elements"].append("weather"), "unknown elements"),
    (lambda d: d["intents"]["review"].__setitem__("help", ["help:nowhere"]), "not in the help file"),
    (lambda d: d["intents"]["review"].__setitem__("help", []), "go together"),
    (lambda d: d["intents"]["review"].__setitem__("knowledge", "web"), "knowledge must be"),
    (lambda d: d["intents"]["review"].__delitem__("must"), "needs 'must'"),
    (lambda d: d["global"]["safety"]["threat"].__setitem__("priority", "asap"), "needs a priority"),
    (lambda d: d["intents"]["review"].__setitem__("guideline", "No Such / Flow"), "not a flow / subflow"),
])
def test_a_wrong_contract_file_is_refused_with_the_reason(raw, mutate, message):
    data = copy.deepcopy(raw)
    mutate(data)
    c = resolution.load()
    with pytest.raises(ContractError, match=message):
        parse_contracts(data, c.help, c.guidelines)


@pytest.mark.parametrize(("pages", "message"), [
    ({"pages": []}, "non-empty 'pages'"),
    ({"pages": [{"id": "help:a", "title": "A"}]}, "needs non-empty"),
    ({"pages": [{"id": "faq:a", "title": "A", "text": "t"}]}, "must start with 'help:'"),
    ({"pages": [{"id": "help:a", "title": "A", "text": "t"}, {"id": "help:a", "title": "B", "text": "u"}]},
     "unique"),
])
def test_a_wrong_help_file_is_refused(pages, message):
    with pytest.raises(ContractError, match=message):
        parse_help(pages)


def test_a_missing_file_is_a_contract_error_not_a_crash(tmp_path):
    with pytest.raises(ContractError, match="cannot read"):
        resolution.load(help_path=tmp_path / "missing.yaml")


def test_policy_wording_is_found_by_runs_of_its_own_words():
    assert resolution.quotes_policy("you must list the action details and obtain explicit user confirmation")
    # A shared fact in our own words is not a quote.
    assert resolution.quotes_policy("A refund to a card arrives in 5 to 7 business days.") == ""
