"""Regex entity extraction: values, types and character positions."""

import pytest
from supportmesh_intent.entities import Entity, extract_entities

pytestmark = pytest.mark.unit


def test_ticket_entities_with_positions():
    text = (
        "Hi, order #W2378156 was due yesterday. My name is Yusuf Rossi, "
        "email yusuf.rossi7301@example.com, zip 19122."
    )
    assert extract_entities(text) == [
        Entity("order_id", "#W2378156", 10, 19),
        Entity("name", "Yusuf Rossi", 50, 61),
        Entity("email", "yusuf.rossi7301@example.com", 69, 96),
        Entity("zip", "19122", 102, 107),
    ]


def test_bare_order_id_needs_order_context():
    text = "Please check order W1234567 and order number: W7654321, not the model W1234568"
    found = extract_entities(text)
    assert [(e.value, text[e.start : e.end]) for e in found] == [
        ("#W1234567", "W1234567"),
        ("#W7654321", "W7654321"),
    ]


def test_amounts_are_normalised():
    text = "I was charged $1,249.99 instead of 12.50 USD, and 30 dollars for shipping"
    assert [(e.value, text[e.start : e.end]) for e in extract_entities(text)] == [
        ("1249.99 USD", "$1,249.99"),
        ("12.50 USD", "12.50 USD"),
        ("30.00 USD", "30 dollars"),
    ]


def test_tracking_ids_only_near_tracking_words():
    text = "tracking number 843053632392 shows nothing; please do not call 5551234567 about it"
    assert extract_entities(text) == [Entity("tracking_id", "843053632392", 16, 28)]


def test_error_codes():
    text = "error 0x8004de80, then AADSTS9002313, ERR-4012 and NDR 550 5.1.10; error code 80070005"
    assert [e.value for e in extract_entities(text)] == [
        "0x8004de80",
        "AADSTS9002313",
        "ERR-4012",
        "550 5.1.10",
        "80070005",
    ]


def test_zip_in_address_context_but_not_in_other_numbers():
    assert [e.value for e in extract_entities("ship to 12 Main St, Philadelphia, PA 19122 please")] == [
        "19122"
    ]
    assert extract_entities("I bought 12345 stickers") == []


def test_names_after_introductions_only():
    assert [e.value for e in extract_entities("I am not happy. This is ridiculous. I am John Smith")] == [
        "John Smith"
    ]
    assert [e.value for e in extract_entities("this is Maria from the Boston office")] == ["Maria"]
    assert extract_entities("I am Very upset") == []
    assert extract_entities("i am writing about my order") == []


CATALOGUE = ("Office Chair", "T-Shirt", "Running Shoes", "E-Reader", "Indoor Security Camera")


def test_catalogue_products_in_any_case_and_plural():
    text = "two office chairs, a t-shirt and my E-Reader (indoor security camera too)"
    assert [(e.type, e.value) for e in extract_entities(text, CATALOGUE)] == [
        ("product", "Office Chair"),
        ("product", "T-Shirt"),
        ("product", "E-Reader"),
        ("product", "Indoor Security Camera"),
    ]
    assert extract_entities("my chair is broken", CATALOGUE) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("can you help me canceling purchase 00004587345?", [("order_id", "00004587345")]),
        ("cancel ordedr 3707955617", [("order_id", "3707955617")]),
        ("refunding$299", [("amount", "299.00 USD")]),
        ("need to get my invoices from David Miller", [("name", "David Miller")]),
        ("the bill rfom Mr. Smith", [("name", "Mr. Smith")]),
        ("is it possible to place an order from Toronto", []),
        ("Thanks for the help.\nKind regards,\nTom Becker", [("name", "Tom Becker")]),
        ("--\nSent from my iPhone", []),
        ("my zip code 32175 and error code 4012", [("zip", "32175"), ("error_code", "4012")]),
        (
            "sign-in fails with AADSTS9002313 and 0x8004de80",
            [("error_code", "AADSTS9002313"), ("error_code", "0x8004de80")],
        ),
    ],
)
def test_new_entity_shapes(text, expected):
    assert [(e.type, e.value) for e in extract_entities(text)] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the order is W two four six eight one three five", [("order_id", "#W2468135")]),
        ("W as in Walter, oh nine eight seven six five four, please", [("order_id", "#W0987654")]),
        ("W 1 2 3 4 5 6 7 is the one", [("order_id", "#W1234567")]),
        ("we were two or three who ordered one each", []),
        ("Me llamo Ana Ruiz, C.P. 28013", [("name", "Ana Ruiz"), ("zip", "28013")]),
        ("Ich bin Jonas Weber, PLZ 80331", [("name", "Jonas Weber"), ("zip", "80331")]),
        ("Je m'appelle Chloé, code postal 75011", [("name", "Chloé"), ("zip", "75011")]),
        ("Meu nome é Rui Costa, CEP 04538", [("name", "Rui Costa"), ("zip", "04538")]),
        ("Cordialement,\nMarc Dubois", [("name", "Marc Dubois")]),
    ],
)
def test_dictated_order_ids_and_identity_in_other_languages(text, expected):
    assert [(e.type, e.value) for e in extract_entities(text)] == expected
