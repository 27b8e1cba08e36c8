"""Validation and normalisation of order ids, customer ids, e-mails, names and zips."""

import pytest
from commerce.domain import ids
from commerce.domain.errors import InvalidArgument

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("raw", ["#W2378156", "W2378156", "w2378156", "  #W2378156 "])
def test_order_ids_are_normalised(raw):
    assert ids.order_id(raw) == "#W2378156"


@pytest.mark.parametrize("raw", ["", "  ", "#W123", "#W12345678", "#X2378156", "2378156", "#W23781a6",
                                 "##W2378156"])
def test_malformed_order_ids_are_refused(raw):
    with pytest.raises(InvalidArgument, match="order_id"):
        ids.order_id(raw)


def test_email_key_ignores_case_and_spaces():
    assert ids.email_key("  Yusuf.Rossi7301@EXAMPLE.com ") == "yusuf.rossi7301@example.com"


@pytest.mark.parametrize("raw", ["", "no-at-sign", "@example.com", "a@localhost", "a b@example.com"])
def test_malformed_emails_are_refused(raw):
    with pytest.raises(InvalidArgument, match="email"):
        ids.email_key(raw)


def test_name_key_folds_case_and_inner_spaces():
    assert ids.name_key("  Mary   ANN ", "first_name") == "mary ann" == ids.fold_name("mary ann")


def test_missing_name_names_the_field():
    with pytest.raises(InvalidArgument, match="last_name is required"):
        ids.name_key("   ", "last_name")


@pytest.mark.parametrize("raw,ok", [("19122", True), (" 19122 ", True), ("SW1A 1AA", True), ("", False),
                                    ("19122;drop", False)])
def test_zip_codes(raw, ok):
    if ok:
        assert ids.zip_code(raw) == raw.strip()
    else:
        with pytest.raises(InvalidArgument, match="zip"):
            ids.zip_code(raw)


@pytest.mark.parametrize("raw", ["", "has space", "x" * 129])
def test_malformed_customer_ids_are_refused(raw):
    with pytest.raises(InvalidArgument, match="customer_id"):
        ids.customer_id(raw)
