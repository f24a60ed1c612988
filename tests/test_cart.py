import pytest

from app.cart import MAX_LINES, draft_order_payload
from app.errors import ApiError


def line(**fields):
    return {"variant_id": 11, "quantity": 1, **fields}


def refused(cart, **kwargs):
    with pytest.raises(ApiError) as raised:
        draft_order_payload(cart, **kwargs)
    assert raised.value.status == 422
    return raised.value


def test_lines_map_in_cart_order_with_variant_quantity_and_properties():
    payload = draft_order_payload({"items": [
        line(variant_id=3, quantity=2, properties={"Size": "L", "Count": 4}),
        line(variant_id="1", quantity=5),
    ]})
    assert payload["draft_order"]["line_items"] == [
        {"variant_id": 3, "quantity": 2,
         "properties": [{"name": "Size", "value": "L"}, {"name": "Count", "value": "4"}]},
        {"variant_id": 1, "quantity": 5, "properties": []},
    ]


def test_browser_prices_titles_and_discounts_never_reach_shopify():
    payload = draft_order_payload({"items": [line(
        price=1, final_price=0, title="Free!", discounts=[{"amount": 100}],
        line_level_discount_allocations=[{"amount": 5}], taxable=False)],
        "total_price": 0, "cart_level_discount_applications": [{"value": 100}]})
    assert payload == {"draft_order": {"line_items": [
        {"variant_id": 11, "quantity": 1, "properties": []}]}}


def test_verified_customer_is_attached_with_default_address():
    draft = draft_order_payload({"items": [line()]}, customer_id=207119551)["draft_order"]
    assert draft["customer"] == {"id": 207119551}
    assert draft["use_customer_default_address"] is True


def test_guest_cart_has_no_customer_key_at_all():
    draft = draft_order_payload({"items": [line()]}, customer_id=None)["draft_order"]
    assert "customer" not in draft and "use_customer_default_address" not in draft


def test_note_attributes_and_tags_are_carried_over():
    draft = draft_order_payload(
        {"items": [line()], "note": "Deliver after 5pm", "attributes": {"Gift": "yes", "n": 2}},
        tags="cart-request,b2b")["draft_order"]
    assert draft["note"] == "Deliver after 5pm"
    assert draft["note_attributes"] == [{"name": "Gift", "value": "yes"},
                                        {"name": "n", "value": "2"}]
    assert draft["tags"] == "cart-request,b2b"


@pytest.mark.parametrize("note", [None, "", "   "])
def test_empty_note_is_left_out(note):
    assert "note" not in draft_order_payload({"items": [line()], "note": note})["draft_order"]


def test_unicode_in_notes_and_properties_passes_unchanged():
    text = "Ünïcødé — 日本語 🎁 \u200d"
    draft = draft_order_payload({"items": [line(properties={text: text})], "note": text,
                                 "attributes": {text: text}})["draft_order"]
    assert draft["note"] == text
    assert draft["line_items"][0]["properties"] == [{"name": text, "value": text}]
    assert draft["note_attributes"] == [{"name": text, "value": text}]


@pytest.mark.parametrize("cart", [None, [], "cart", 3])
def test_cart_must_be_an_object(cart):
    assert refused(cart).extra["field"] == "cart"


@pytest.mark.parametrize("items", [None, [], {"0": {}}, "items", [line()] * (MAX_LINES + 1)])
def test_items_must_be_a_list_of_1_to_250_lines(items):
    error = refused({"items": items})
    assert (error.code, error.extra["field"]) == ("invalid_items", "cart.items")


def test_250_lines_are_accepted():
    assert len(draft_order_payload({"items": [line()] * MAX_LINES})["draft_order"]["line_items"]) \
        == MAX_LINES


@pytest.mark.parametrize("variant_id", [0, -1, "0", "01", "12a", "", None, True, 1.5, "1" * 21,
                                        10 ** 20, [1], {"id": 1}])
def test_bad_variant_id_names_its_line(variant_id):
    error = refused({"items": [line(), line(variant_id=variant_id)]})
    assert error.code == "invalid_variant_id"
    assert error.extra == {"field": "cart.items[1].variant_id", "line": 1}


def test_variant_id_of_twenty_digits_is_accepted():
    payload = draft_order_payload({"items": [line(variant_id="9" * 20)]})
    assert payload["draft_order"]["line_items"][0]["variant_id"] == int("9" * 20)


@pytest.mark.parametrize("quantity", [0, -2, True, False, 1.0, 2.5, "2", None, 1_000_000])
def test_bad_quantity_names_its_line(quantity):
    error = refused({"items": [line(quantity=quantity)]})
    assert error.code == "invalid_quantity"
    assert error.extra == {"field": "cart.items[0].quantity", "line": 0}


def test_quantity_999999_is_accepted():
    assert draft_order_payload({"items": [line(quantity=999_999)]})


@pytest.mark.parametrize("properties", [
    "text", [1], {"a": {"nested": 1}}, {"a": [1]}, {"a": True}, {"a": None},
    {"k" * 256: "v"}, {"a": "v" * 4001},
])
def test_bad_properties_are_refused(properties):
    error = refused({"items": [line(properties=properties)]})
    assert error.code == "invalid_properties" and error.extra["line"] == 0


def test_property_limits_are_inclusive():
    assert draft_order_payload({"items": [line(properties={"k" * 255: "v" * 4000})]})


def test_line_that_is_not_an_object_is_refused():
    assert refused({"items": [line(), 7]}).extra == {"field": "cart.items[1]", "line": 1}


def test_subscription_line_is_refused_with_a_clear_reason():
    error = refused({"items": [line(selling_plan_allocation={"selling_plan": {"id": 1}})]})
    assert error.code == "subscription_not_supported"
    assert "selling plan" in error.detail


def test_non_text_note_is_refused():
    assert refused({"items": [line()], "note": {"x": 1}}).extra["field"] == "cart.note"


def test_nested_cart_attributes_are_refused():
    error = refused({"items": [line()], "attributes": {"a": {"b": 1}}})
    assert error.code == "invalid_attributes"
