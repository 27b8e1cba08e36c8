"""Unit tests of the technical diagnosis."""

import pytest
from supportmesh.v1.envelope_pb2 import Article
from technical_analyst.domain.diagnosis import diagnose, error_codes

pytestmark = pytest.mark.unit


def test_error_codes_from_entities_and_log_lines_deduplicated_in_order():
    logs = ["2024-01-01 ERROR sign-in failed: AADSTS50126 invalid credentials",
            "Outlook sync failed with 0x80070005", "550 5.7.1 relay denied", "error code: 0x80070005"]
    assert error_codes(["0x800CCC0E"], logs) == ["0x800CCC0E", "AADSTS50126", "0x80070005", "5.7.1"]


def test_no_article_no_diagnosis():
    assert diagnose(["0x1"], []) is None


def test_steps_come_from_top_article_else_the_next_with_steps():
    top = Article(id="kb-1", title="Outlook cannot connect", steps=["Restart Outlook", "Repair the profile"])
    d = diagnose(["0x800CCC0E"], [top])
    assert d.steps == ["Restart Outlook", "Repair the profile"] and d.article_id == "kb-1"
    assert "0x800CCC0E" in d.text and "Outlook cannot connect" in d.text
    bare = Article(id="kb-2", title="Sign-in loops")
    d2 = diagnose([], [bare, top])
    assert d2.steps == top.steps and d2.article_id == "kb-1"
    assert "Sign-in loops" in d2.text and "Outlook cannot connect" in d2.text
