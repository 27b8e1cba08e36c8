"""Addresses the customer writes out, read into the store's parts."""

import pytest
from technical_analyst.domain.address import parse_address, state_of_zip

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("text, address", [
    ("change it to 101 Highway, New York, 10001 (including the orders)",
     ("101 Highway", "", "New York", "NY", "USA", "10001")),
    ("update my default address to 445 Maple Drive, Suite 394, Fort Worth, TX 76165",
     ("445 Maple Drive", "Suite 394", "Fort Worth", "TX", "USA", "76165")),
    ("to 123 Main St Apt 4 Springfield IL 62701 please", ("123 Main St", "Apt 4", "Springfield", "IL", "USA", "62701")),
    ("my new address is 1234 Elm St, Springfield, Illinois 62701, USA.",
     ("1234 Elm St", "", "Springfield", "IL", "USA", "62701")),
    ("to 565 Maple Drive, Suite 501, Washington, DC, 20307",
     ("565 Maple Drive", "Suite 501", "Washington", "DC", "USA", "20307")),
    ("to 55 Oak Road, Seattle, Washington 98101", ("55 Oak Road", "", "Seattle", "WA", "USA", "98101")),
])
def test_written_out_addresses_are_read_whole(text, address):
    assert parse_address(text) == address


@pytest.mark.parametrize(("text", "address"), [
    ("set my default address to:\n1420 Vine Street, Apt 5B\nLos Angeles, CA 90028\nUSA\nThanks, Yara",
     ("1420 Vine Street", "Apt 5B", "Los Angeles", "CA", "USA", "90028")),
    ("It should go to the office:\n\n- 1200 Lakeview Avenue\n- Suite 400\n- Austin, TX 78701\n- USA\n",
     ("1200 Lakeview Avenue", "Suite 400", "Austin", "TX", "USA", "78701")),
])
def test_an_address_written_one_part_a_line_is_read_whole(text, address):
    assert parse_address(text) == address


@pytest.mark.parametrize("text", [
    "I ordered 3 items on Monday and my zip is 80280.",     # a number and a zip of different things
    "order #W1234567 for 2 lamps; zip code 10001",
    "to 12 Baker St, Boston, TX 02116",                     # the state and the zip disagree: ask
    "to Elm Avenue in Houston",                             # no house number, no zip
    "to 12 Baker St, 02116",                                # no city
])
def test_what_is_not_a_whole_address_is_none(text):
    assert parse_address(text) == ()


def test_the_zip_tells_the_state():
    assert (state_of_zip("10001"), state_of_zip("80280"), state_of_zip("20307"), state_of_zip("02116")) == (
        "NY", "CO", "DC", "MA")
