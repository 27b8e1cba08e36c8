"""Redaction: each kind of personal data is masked, the ids and codes an SRE searches for are kept."""

import pytest
from supportmesh_core.privacy import redact

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("text", "secret", "mask"), [
    ("write to yusuf.rossi7301@example.com please", "yusuf.rossi7301@example.com", "[email]"),
    ("or first.last+tag@mail.example.co.uk", "first.last+tag@mail.example.co.uk", "[email]"),
    ("call me on +1 (415) 555-0132 tonight", "555-0132", "[phone]"),
    ("my number is 020 7946 0958", "7946 0958", "[phone]"),
    ("mobile 4155550132", "4155550132", "[phone]"),
    ("card 4111 1111 1111 1111 exp 12/29", "4111 1111 1111 1111", "[card]"),
    ("card 5500-0000-0000-0004", "5500-0000-0000-0004", "[card]"),
    ("paid with 378282246310005", "378282246310005", "[card]"),
    ("IBAN DE89 3704 0044 0532 0130 00 thanks", "DE89 3704 0044 0532 0130 00", "[iban]"),
    ("to GB29NWBK60161331926819.", "GB29NWBK60161331926819", "[iban]"),
    ("I live at 986 Sunset Drive, Suite 259, Denver", "986 Sunset Drive", "[address]"),
    ("ship to 445 Maple Ave. Apt 4B instead", "445 Maple Ave", "[address]"),
    ("meine Adresse: Hauptstraße 5, Berlin", "Hauptstraße 5", "[address]"),
    ("consegna in Via Roma 12, Milano", "Via Roma 12", "[address]"),
    ("livrez au 12 rue de Rivoli", "12 rue de Rivoli", "[address]"),
])
def test_personal_data_is_masked(text, secret, mask):
    out = redact(text)
    assert secret not in out
    assert mask in out


def test_every_kind_in_one_text():
    text = ("Hi, I'm at 615 Laurel Lane, Suite 552. Mail anya.garcia2061@example.com, phone +44 20 7946 0958, "
            "card 4111-1111-1111-1111, IBAN FR14 2004 1010 0505 0001 3M02 606.")
    out = redact(text)
    for secret in ("615 Laurel Lane", "Suite 552", "anya.garcia2061", "7946 0958", "4111-1111", "FR14 2004"):
        assert secret not in out, secret


@pytest.mark.parametrize("text", [
    "order #W2378156 was due yesterday",
    "error 0x8004de80 and AADSTS50076 at sign-in",
    "took 1500 ms, confidence 0.93, 3 retries",
    "ticket T-e2e-ab12cd34-01 trace 4bf92f3577b34da6a3ce929d0e0e4736 on stage.retriever",
    "since 2026-11-21 from host 10.20.30.40",
    "CASE-1A2B3C4D5E6F7 refund_above_limit",
    "",
])
def test_ids_codes_dates_and_small_numbers_are_kept(text):
    assert redact(text) == text
