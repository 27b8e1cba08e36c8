"""The `order_request` marker: the customer's own words ask for a store write (supportmesh_intent/order_request.py)."""

import pytest
from supportmesh_intent.order_request import is_order_request

pytestmark = pytest.mark.unit

PRODUCTS = ("Mechanical Keyboard", "Laptop", "Hiking Boots", "T-Shirt", "Water Bottle", "Pet Bed", "Office Chair")


@pytest.mark.parametrize("text", [
    "I want to return the water bottle from order #W2890441.",
    "Please cancel my order #W1234567, I ordered it by mistake.",
    "I'd like to exchange the T-shirt for a larger size.",
    "I want to modify the pending boots to a size 8.",
    "I want to modify all my pending small tshirt to purple, same size.",
    "Could you change the shipping address of my order to 12 Main St, Austin TX 78701?",
    "I want to update my default address to 1 Elm St, Austin TX 78701.",
    "I just got into gaming and want to cancel or return everything not associated with it.",
    "I received a laptop and me want to exchange it to i7 processor, 8GB, 1TB SSD.",
    "If it is less than 200 bucks I buy another. If not, I want to return my current keyboard.",
    "I have two orders. I want to return all things ordered, refunded to PayPal if possible.",
    "If cancelling partial items is not possible, just change the address to my NYC place.",
    "My order comes Monday. I won't be home, so I want it sent to my office: 1449 Mission St, San Francisco.",
    "Please have my pending order #W7381650 delivered to my sister's place, 2207 Eastlake Ave, Seattle.",
])
def test_the_customers_own_write_request_is_marked(text):
    assert is_order_request(text, PRODUCTS)


@pytest.mark.parametrize("text", [
    # questions about the policy, or about the customer's own duty
    "How do returns work?",
    "Can I return a jacket after 30 days?",
    "Is it possible to cancel my order?",
    "Do I need to return the laptop before I get a refund?",
    "What is your policy if I want to return items?",
    "If I want to exchange the boots, what do I do?",
    "I want to know whether I can return the laptop.",
    "I would like to know how to cancel my order.",
    # the past: a refund's status, not a request
    "I returned it last week and want my refund status.",
    # where a parcel should go, not a change of the order's address
    "I want it delivered to me by Friday.",
    "When will my order be delivered to my house?",
    "I already sent back the office chair, where is my money?",
    # negated
    "I don't want to cancel my order, just tell me where it is.",
    # other companies, other things than an order
    "I want to return the jacket I bought at Zara.",
    "I want to cancel my Netflix subscription.",
    "I bought a laptop from another store and want to return it.",
    "I want to change my password, my account is locked.",
    "I just want to update the mobile number on my profile.",
    "The quality was great, so I'd like to return the favour and write a review of my order.",
    # nothing of an order named
    "I want to change the world.",
])
def test_questions_the_past_and_other_shops_are_not_marked(text):
    assert not is_order_request(text, PRODUCTS)

