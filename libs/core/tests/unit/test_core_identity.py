"""The customer key: one spelling per identity, e-mail before name and zip, nothing when nobody is named."""

import pytest
from supportmesh_core.identity import customer_key

pytestmark = pytest.mark.unit


def test_email_wins_and_case_and_spacing_do_not_matter():
    assert customer_key(" Ana.Lima@Example.com ", "Ana Lima", "10001") == "email:ana.lima@example.com"
    assert customer_key("", "  ana   LIMA", "10001") == customer_key("", "Ana Lima", "10001") == "name:ana lima|10001"


def test_a_name_without_a_zip_or_nothing_names_nobody():
    assert customer_key("", "Ana Lima", "") == "" and customer_key("", "", "") == ""
