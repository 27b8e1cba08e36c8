"""The exact writes behind a proposal: items, options and payment method chosen from what the ticket says."""

import pytest
from technical_analyst.domain.planned_writes import (
    CANCEL,
    EXCHANGE,
    MODIFY_ADDRESS,
    MODIFY_ITEMS,
    RETURN,
    CustomerDetail,
    OrderDetail,
    OrderLine,
    PaymentOption,
    Variant,
    choose_variant,
    confirmation_key,
    option_unavailable,
    order_by_options,
    order_by_price,
    plan_user_address,
    plan_write,
)

pytestmark = pytest.mark.unit

KEYBOARD = OrderLine("1151293680", "p-kb", "Mechanical Keyboard", 272.33,
                     {"switch type": "linear", "backlight": "RGB", "size": "full size"})
THERMOSTAT = OrderLine("4983901480", "p-th", "Smart Thermostat", 262.47, {"compatibility": "Apple HomeKit"})
ORDER = OrderDetail("#W2378156", "delivered", [KEYBOARD, THERMOSTAT], "credit_card_9513926")
HOME = ("445 Maple Drive", "Suite 394", "Fort Worth", "TX", "USA", "76165")
METHODS = CustomerDetail([PaymentOption("credit_card_9513926", "credit_card"),
                          PaymentOption("gift_card_1", "gift_card"), PaymentOption("paypal_2", "paypal")], HOME)
VARIANTS = {
    "p-kb": [Variant("1151293680", KEYBOARD.options, True, 272.33),
             Variant("7706410293", {"switch type": "clicky", "backlight": "none", "size": "full size"}, True, 269.16),
             Variant("6342039236", {"switch type": "clicky", "backlight": "white", "size": "full size"}, False, 244.9)],
    "p-th": [Variant("7747408585", {"compatibility": "Google Assistant"}, True, 249.01),
             Variant("4983901480", THERMOSTAT.options, True, 262.47)],
}


def test_cancel_takes_the_reason_the_customer_gives():
    w = plan_write(CANCEL, OrderDetail("#W1", "pending", []), "I ordered it by mistake", "T-1", {}, METHODS)
    assert (w.action, w.order_id, w.reason) == (CANCEL, "#W1", "ordered by mistake")
    assert w.idempotency_key == confirmation_key("T-1", CANCEL, "W1")


def test_return_of_the_named_items_to_the_original_method():
    w = plan_write(RETURN, ORDER, "I want to return the keyboard.", "T-1", {}, METHODS)
    assert w.item_ids == ("1151293680",) and w.payment_method_id == "credit_card_9513926"
    assert w.amount == 272.33 and "Mechanical Keyboard" in w.detail and "272.33" in w.detail


def test_return_refund_to_a_named_gift_card_but_never_to_another_card():
    assert plan_write(RETURN, ORDER, "return the keyboard, refund to my gift card", "T", {},
                      METHODS).payment_method_id == "gift_card_1"
    assert plan_write(RETURN, ORDER, "return the keyboard, refund to PayPal", "T", {},
                      METHODS).payment_method_id == "credit_card_9513926"


def test_return_of_everything_and_of_nothing_named():
    assert plan_write(RETURN, ORDER, "return all items", "T", {}, METHODS).item_ids == (
        "1151293680", "4983901480")
    assert plan_write(RETURN, ORDER, "I want my money back", "T", {}, METHODS) is None


def test_exchange_picks_the_available_option_the_text_names():
    w = plan_write(EXCHANGE, ORDER, "exchange the mechanical keyboard for one with clicky switches", "T",
                   VARIANTS, METHODS)
    assert w.item_ids == ("1151293680",) and w.new_item_ids == ("7706410293",)
    assert w.amount == pytest.approx(-3.17) and w.payment_method_id == "credit_card_9513926"


def test_exchange_leaves_an_open_choice_to_the_customer():
    # Nothing about the new keyboard is said: no write is guessed.
    assert plan_write(EXCHANGE, ORDER, "exchange the keyboard please", "T", VARIANTS, METHODS) is None


def test_price_cues_decide_among_equal_options():
    lamp = OrderLine("1", "p-l", "Desk Lamp", 100.0, {"color": "black"})
    options = [Variant("2", {"color": "white"}, True, 90.0), Variant("3", {"color": "silver"}, True, 80.0),
               Variant("4", {"color": "gold"}, False, 10.0)]
    assert choose_variant(lamp, options, "the cheapest desk lamp available").item_id == "3"
    assert choose_variant(lamp, options, "the most expensive one").item_id == "2"
    assert choose_variant(lamp, options, "a white one, the cheapest").item_id == "2"


def test_comparatives_move_an_ordered_option_the_way_asked():
    bottle = OrderLine("1", "p-b", "Water Bottle", 50.0, {"capacity": "500ml", "material": "glass", "color": "black"})
    bottles = [Variant("2", {"capacity": "750ml", "material": "glass", "color": "black"}, True, 55.0),
               Variant("3", {"capacity": "1000ml", "material": "steel", "color": "red"}, True, 49.0),
               Variant("4", {"capacity": "500ml", "material": "plastic", "color": "black"}, True, 52.0)]
    assert choose_variant(bottle, bottles, "exchange the water bottle to a bigger one").item_id == "2"
    assert choose_variant(bottle, bottles, "a bottle with the largest capacity").item_id == "3"
    assert choose_variant(bottle, bottles, "the same bottle, nothing else to say") is None
    lamp = OrderLine("5", "p-l", "Desk Lamp", 150.0, {"color": "white", "brightness": "medium", "power source": "USB"})
    lamps = [Variant("6", {"color": "white", "brightness": "high", "power source": "USB"}, True, 164.0),
             Variant("7", {"color": "black", "brightness": "high", "power source": "AC adapter"}, True, 154.0),
             Variant("8", {"color": "silver", "brightness": "low", "power source": "battery"}, True, 150.0)]
    # A preference list naming "AC" must not buy a colour change nobody asked for.
    assert choose_variant(lamp, lamps, "a brighter one (prefer battery > USB > AC)").item_id == "6"
    assert choose_variant(lamp, lamps, "the desk lamp to a less bright one").item_id == "8"


def test_same_except_keeps_all_but_the_option_to_change():
    camera = OrderLine("1", "p-c", "Digital Camera", 300.0, {"resolution": "24MP", "zoom": "3x", "storage": "SD card"})
    cameras = [Variant("2", {"resolution": "20MP", "zoom": "5x", "storage": "CF card"}, True, 290.0),
               Variant("3", {"resolution": "30MP", "zoom": "10x", "storage": "SD card"}, True, 350.0),
               Variant("4", {"resolution": "20MP", "zoom": "3x", "storage": "SD card"}, True, 280.0)]
    text = "a camera with the maximum zoom; all other specifications the same, except for the zoom"
    assert choose_variant(camera, cameras, text).item_id == "3"
    assert choose_variant(camera, cameras, "a slightly lower resolution, pay with the other card").item_id == "4"


def test_modify_items_pays_the_difference_with_the_named_method():
    order = OrderDetail("#W2", "pending", [THERMOSTAT], "credit_card_9513926")
    w = plan_write(MODIFY_ITEMS, order, "change the thermostat to Google Assistant, use my paypal", "T",
                   VARIANTS, METHODS)
    assert (w.new_item_ids, w.payment_method_id) == (("7747408585",), "paypal_2")


def test_items_of_another_request_and_excepted_items_are_not_returned():
    w = plan_write(RETURN, ORDER, "return the keyboard, and exchange the thermostat to the cheapest", "T", {},
                   METHODS)
    assert w.item_ids == ("1151293680",)
    w = plan_write(RETURN, ORDER, "return everything except the thermostat", "T", {}, METHODS)
    assert w.item_ids == ("1151293680",)


def test_address_from_another_order_or_the_profile_else_none():
    order = OrderDetail("#W5", "pending", [], "", ("1 Old Road", "", "Austin", "TX", "USA", "78701"))
    other = OrderDetail("#W8277957", "delivered", [], "", ("380 Maple Drive", "Suite 960", "San Diego", "CA",
                                                           "USA", "92101"))
    w = plan_write(MODIFY_ADDRESS, order, "change the address to be the same as order #W8277957", "T", {},
                   METHODS, {"#W8277957": other})
    assert w.address == other.address and "San Diego" in w.detail
    assert plan_write(MODIFY_ADDRESS, order, "ship it to my default address instead", "T", {},
                      METHODS).address == HOME
    assert plan_write(MODIFY_ADDRESS, order, "change the address please", "T", {}, METHODS) is None


def test_the_order_whose_item_has_the_named_options_is_told_apart():
    laptop = OrderLine("1", "p-lt", "Laptop", 2291.87, {"screen size": "15-inch", "processor": "i5", "ram": "16GB"})
    other = OrderLine("2", "p-lt", "Laptop", 2520.52, {"screen size": "15-inch", "processor": "i5", "ram": "32GB"})
    a, b = OrderDetail("#W1", "delivered", [laptop]), OrderDetail("#W2", "delivered", [other])
    assert order_by_options([a, b], "I received a laptop; it is the 15-inch, 32GB one.") is b
    assert order_by_options([a, b], "I received a laptop.") is None


def test_a_written_out_address_for_an_order_or_the_account():
    order = OrderDetail("#W5", "pending", [], "", ("1 Old Road", "", "Austin", "TX", "USA", "78701"))
    w = plan_write(MODIFY_ADDRESS, order, "change the address of #W5 to 921 Park Avenue, Suite 892, Chicago, IL "
                   "60612.", "T", {}, METHODS)
    assert w.address == ("921 Park Avenue", "Suite 892", "Chicago", "IL", "USA", "60612")
    u = plan_user_address("update my default address to 101 Highway, New York, 10001", "T", METHODS)
    assert (u.action, u.order_id, u.address) == ("modify_user_address", "", ("101 Highway", "", "New York", "NY",
                                                                            "USA", "10001"))
    assert u.idempotency_key == confirmation_key("T", "modify_user_address", "")
    # the address already on file, or none written: nothing to propose, the reply asks
    assert plan_user_address("change my default address to 445 Maple Drive, Suite 394, Fort Worth, TX 76165", "T",
                             METHODS) is None
    assert plan_user_address("change my default address, I moved", "T", METHODS) is None


KETTLE = OrderLine("7292993796", "p-kettle", "Tea Kettle", 94.8,
                   {"material": "glass", "capacity": "2 liters", "stovetop compatibility": "induction"})
KETTLES = OrderDetail("#W4316152", "delivered", [KETTLE, KETTLE], "credit_card_9513926")
KETTLE_VARIANTS = {"p-kettle": [
    Variant("7292993796", KETTLE.options, True, 94.8),
    Variant("3761330360", {"material": "ceramic", "capacity": "2 liters", "stovetop compatibility": "gas"}, True,
            101.12),
    Variant("9647374798", {"material": "glass", "capacity": "1.5 liters", "stovetop compatibility": "gas"}, True,
            109.58),
    Variant("7497340597", {"material": "ceramic", "capacity": "1.5 liters", "stovetop compatibility": "gas"}, False,
            100.83)]}


@pytest.mark.parametrize("text", ["I want to return one of the tea kettles from order #W4316152",
                                  "return just one kettle", "return a single tea kettle, please"])
def test_one_of_two_identical_lines_is_one_line(text):
    w = plan_write(RETURN, KETTLES, text, "T", {}, METHODS)
    assert w.item_ids == ("7292993796",) and w.amount == 94.8


def test_both_identical_lines_when_the_text_says_so():
    assert plan_write(RETURN, KETTLES, "return both tea kettles", "T", {}, METHODS).item_ids == ("7292993796",) * 2


def test_one_of_two_different_lines_needs_the_text_to_say_which():
    other = OrderLine("3312883418", "p-kettle", "Tea Kettle", 104.82,
                      {"material": "ceramic", "capacity": "1.5 liters", "stovetop compatibility": "induction"})
    order = OrderDetail("#W1", "delivered", [KETTLE, other], "credit_card_9513926")
    assert plan_write(RETURN, order, "return one of the tea kettles", "T", {}, METHODS) is None
    assert plan_write(RETURN, order, "return one of the tea kettles, the ceramic one", "T", {},
                      METHODS).item_ids == ("3312883418",)


def test_identical_lines_exchanged_each_to_its_own_option():
    text = ("exchange one Tea Kettle {'material': 'glass', 'capacity': '2 liters', 'stovetop compatibility': "
            "'induction'} to {'material': 'ceramic', 'stovetop compatibility': 'gas'}; and another Tea Kettle "
            "{'material': 'glass', 'capacity': '2 liters', 'stovetop compatibility': 'induction'} to "
            "{'capacity': '1.5 liters', 'stovetop compatibility': 'gas'};")
    w = plan_write(EXCHANGE, KETTLES, text, "T", KETTLE_VARIANTS, METHODS)
    assert w.item_ids == ("7292993796", "7292993796") and w.new_item_ids == ("3761330360", "9647374798")


def test_a_braced_option_set_names_the_variant_exactly():
    variants = KETTLE_VARIANTS["p-kettle"]
    text = "exchange Tea Kettle {'material': 'glass'} to {'material': 'ceramic', 'stovetop compatibility': 'gas'}"
    assert choose_variant(KETTLE, variants, text).item_id == "3761330360"
    # that exact variant is sold out, or there is none with those options: no near miss
    sold_out = "Tea Kettle {'material': 'glass'} to {'material': 'ceramic', 'capacity': '1.5 liters', " \
               "'stovetop compatibility': 'gas'}"
    assert choose_variant(KETTLE, variants, sold_out) is None and option_unavailable(KETTLE, variants, sold_out)
    none = "Tea Kettle {'material': 'glass'} to {'material': 'ceramic', 'capacity': '1.5 liters'}"
    assert choose_variant(KETTLE, variants, none) is None and not option_unavailable(KETTLE, variants, none)


def test_the_order_holding_the_cheaper_of_two_same_products_is_told_by_price():
    cheap = OrderDetail("#W1", "delivered", [OrderLine("a", "p-tab", "Tablet", 938.92, {})], "")
    dear = OrderDetail("#W2", "delivered", [OrderLine("b", "p-tab", "Tablet", 989.70, {})], "")
    text = "I received two tablets and only need one. I want to return the less expensive one."
    assert order_by_price([cheap, dear], text) is cheap
    assert order_by_price([cheap, dear], "return the more expensive tablet").order_id == "#W2"
    # the cue said first wins; no cue, or no single line per order: no choice
    assert order_by_price([cheap, dear], "return the cheaper tablet; or else the more expensive one") is cheap
    assert order_by_price([cheap, dear], "return one of my tablets") is None


BOOTS = OrderLine("1", "p-boot", "Hiking Boots", 200.0, {"size": "10", "material": "leather", "waterproof": "no"})
BOOT_VARIANTS = [Variant("2", {"size": "10", "material": "leather", "waterproof": "yes"}, False, 240.0),
                 Variant("3", {"size": "10", "material": "synthetic", "waterproof": "yes"}, True, 210.0),
                 Variant("4", {"size": "10", "material": "synthetic", "waterproof": "no"}, True, 180.0)]


def test_a_yes_no_option_is_named_by_its_name():
    text = "my boots are not waterproof, I want waterproof ones"
    assert choose_variant(BOOTS, BOOT_VARIANTS[1:], text).item_id == "3"
    assert choose_variant(BOOTS, BOOT_VARIANTS[1:], "synthetic ones, non-waterproof like mine").item_id == "4"


@pytest.mark.parametrize("text", [
    "I want waterproof boots in the same size 10. Leather would be best; if there are no waterproof leather ones "
    "in size 10, synthetic is fine.",
    "Waterproof leather boots please, otherwise synthetic waterproof ones.",
])
def test_the_second_choice_is_taken_when_the_first_is_not_available(text):
    assert choose_variant(BOOTS, BOOT_VARIANTS, text).item_id == "3"


def test_without_a_second_choice_an_unavailable_first_choice_is_not_replaced():
    assert choose_variant(BOOTS, BOOT_VARIANTS, "I want the waterproof leather ones in size 10.") is None


def test_the_first_choice_is_read_without_the_second():
    watch = OrderLine("1", "p-w", "Smart Watch", 300.0, {"color": "black", "band": "silicone", "display": "AMOLED"})
    watches = [Variant("2", {"color": "silver", "band": "silicone", "display": "AMOLED"}, False, 320.0),
               Variant("3", {"color": "silver", "band": "leather", "display": "LCD"}, True, 280.0),
               Variant("4", {"color": "black", "band": "silicone", "display": "LCD"}, True, 250.0)]
    text = ("I want silver with a silicone band and AMOLED display; if that isn't available, switch it to the black "
            "one with a silicone band and an LCD display.")
    assert choose_variant(watch, watches, text).item_id == "4"


def test_the_current_value_told_before_the_request_or_left_is_not_kept():
    bed = OrderLine("1", "p-bed", "Pet Bed", 90.0, {"size": "large", "color": "brown"})
    beds = [Variant("2", {"size": "large", "color": "grey"}, True, 95.0),
            Variant("3", {"size": "medium", "color": "brown"}, True, 80.0)]
    assert choose_variant(bed, beds, "I got a large pet bed in brown. I want to exchange it for the same bed "
                                     "(large) in grey.").item_id == "2"
    glasses = OrderLine("1", "p-g", "Sunglasses", 100.0, {"frame": "black", "lens": "brown"})
    pairs = [Variant("2", {"frame": "black", "lens": "green"}, True, 100.0),
             Variant("3", {"frame": "brown", "lens": "brown"}, True, 100.0)]
    assert choose_variant(glasses, pairs, "I'd like green lenses instead of brown (same black frame).").item_id == "2"


def test_options_the_customer_says_do_not_matter_are_free_to_change():
    chair = OrderLine("1", "p-ch", "Office Chair", 300.0, {"material": "leather", "color": "blue", "armrest": "none"})
    chairs = [Variant("2", {"material": "leather", "color": "black", "armrest": "adjustable"}, True, 310.0),
              Variant("3", {"material": "fabric", "color": "black", "armrest": "none"}, True, 250.0)]
    text = "the office chair should be black instead of blue (still leather; armrests don't matter)"
    assert choose_variant(chair, chairs, text).item_id == "2"


def test_each_of_several_items_is_read_from_its_own_sentences():
    watch = OrderLine("11", "p-w", "Smart Watch", 300.0, {"color": "black"})
    glasses = OrderLine("12", "p-g", "Sunglasses", 100.0, {"lens": "brown", "frame": "black"})
    order = OrderDetail("#W9", "pending", [watch, glasses], "paypal_2")
    variants = {"p-w": [Variant("21", {"color": "silver"}, True, 310.0)],
                "p-g": [Variant("22", {"lens": "green", "frame": "black"}, True, 100.0),
                        Variant("23", {"lens": "black", "frame": "silver"}, True, 100.0)]}
    text = ("My order is pending. I'd like the sunglasses with green lenses instead of brown (same black frame). "
            "And for the smart watch, I want silver. Switch them please.")
    w = plan_write(MODIFY_ITEMS, order, text, "T", variants, METHODS)
    assert dict(zip(w.item_ids, w.new_item_ids, strict=True)) == {"11": "21", "12": "22"}


def test_it_is_the_only_item_of_the_order():
    order = OrderDetail("#W3", "delivered", [KEYBOARD], "credit_card_9513926")
    w = plan_write(EXCHANGE, order, "I love it but want to exchange it for one with clicky switches and no "
                                    "backlight.", "T", VARIANTS, METHODS)
    assert w.new_item_ids == ("7706410293",)
    assert plan_write(EXCHANGE, ORDER, "I want to exchange it for a clicky one.", "T", VARIANTS, METHODS) is None


def test_a_new_item_outside_the_price_the_customer_set_is_not_proposed():
    text = "If the clicky keyboard is less than 200 bucks I want to exchange my mechanical keyboard to it."
    assert plan_write(EXCHANGE, ORDER, text, "T", VARIANTS, METHODS) is None
    text = "If the clicky keyboard is under $300 I want to exchange my mechanical keyboard to it."
    assert plan_write(EXCHANGE, ORDER, text, "T", VARIANTS, METHODS).new_item_ids == ("7706410293",)


def test_items_named_in_another_language_are_the_catalogues():
    helmet = OrderLine("31", "p-h", "Cycling Helmet", 180.0, {"size": "M"})
    order = OrderDetail("#W5", "delivered", [helmet, KEYBOARD], "credit_card_9513926")
    w = plan_write(RETURN, order, "Hola, quiero devolver el casco de bicicleta, es demasiado grande.", "T", {},
                   METHODS)
    assert (w.item_ids, w.amount) == (("31",), 180.0)
