import pytest

from app.intake.cart import MAX_LINES, draft_order_payload, fingerprint
from app.intake.errors import ApiError


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


# The cart context: currency, discount codes and company, carried under GraphQL.

FEATURES = {"currency": True, "discount_codes": True}


def codes(*names, applicable=True):
    return [{"code": name, "applicable": applicable} for name in names]


def context(cart, **features):
    return draft_order_payload({"items": [line()], **cart}, **features).get("cart_context")


def test_the_cart_s_currency_is_carried_when_switched_on():
    assert context({"currency": "EUR"}, currency=True) == {"currency": "EUR"}


def test_a_cart_without_a_currency_carries_none():
    assert context({"currency": None}, currency=True) is None


@pytest.mark.parametrize("currency", ["eur", "EURO", "ABC", "", 978, ["EUR"]])
def test_a_currency_that_is_no_iso_4217_code_is_refused(currency):
    error = refused({"items": [line()], "currency": currency}, currency=True)
    assert (error.code, error.extra["field"]) == ("invalid_currency", "cart.currency")


def test_with_currencies_off_the_cart_s_currency_is_not_even_read():
    assert context({"currency": "not a currency"}) is None


def test_the_cart_s_discount_codes_are_carried_as_codes_in_order():
    assert context({"discount_codes": codes("SPRING10", "FREESHIP")}, discount_codes=True) \
        == {"discount_codes": ["SPRING10", "FREESHIP"]}


def test_a_code_the_storefront_found_inapplicable_is_still_carried_for_shopify_to_decide():
    assert context({"discount_codes": codes("LATE", applicable=False)}, discount_codes=True) \
        == {"discount_codes": ["LATE"]}


def test_discount_codes_differing_only_in_case_are_carried_once_as_first_written():
    assert context({"discount_codes": codes("Spring10", "SPRING10", "x")},
                   discount_codes=True) == {"discount_codes": ["Spring10", "x"]}


def test_no_discount_codes_carry_no_context():
    assert context({"discount_codes": []}, discount_codes=True) is None


def test_twenty_five_discount_codes_are_accepted():
    names = [f"CODE{n}" for n in range(25)]
    assert context({"discount_codes": codes(*names)}, discount_codes=True) \
        == {"discount_codes": names}


@pytest.mark.parametrize("raw", [codes(*[f"C{n}" for n in range(26)]), "SPRING10",
                                 {"code": "SPRING10"}])
def test_discount_codes_that_are_no_list_of_at_most_25_are_refused(raw):
    error = refused({"items": [line()], "discount_codes": raw}, discount_codes=True)
    assert (error.code, error.extra["field"]) == ("invalid_discount_codes", "cart.discount_codes")


@pytest.mark.parametrize("entry", [{"code": ""}, {"code": "  "}, {"code": "X" * 256},
                                   {"code": 10}, {"applicable": True}, "SPRING10"])
def test_a_malformed_discount_code_is_refused_naming_its_place(entry):
    error = refused({"items": [line()], "discount_codes": [*codes("OK"), entry]},
                    discount_codes=True)
    assert (error.code, error.extra["field"]) \
        == ("invalid_discount_codes", "cart.discount_codes[1].code")


def test_with_discount_codes_off_they_are_not_even_read():
    assert context({"discount_codes": "garbage"}) is None


def test_a_verified_company_location_is_carried():
    company = {"company_id": 7, "location_id": 8}
    assert context({}, company=company) == {"company": company}


def test_the_whole_context_rides_beside_an_unchanged_draft_order():
    cart = {"items": [line()], "currency": "CAD", "discount_codes": codes("A")}
    payload = draft_order_payload(cart, 5, "t", "e1", **FEATURES,
                                  company={"company_id": 7, "location_id": 8})
    assert payload["draft_order"] == draft_order_payload(cart, 5, "t", "e1")["draft_order"]
    assert payload["cart_context"] == {"currency": "CAD", "discount_codes": ["A"],
                                       "company": {"company_id": 7, "location_id": 8}}


def test_browser_amounts_never_reach_the_context():
    cart = {"currency": "EUR", "total_discount": 500,
            "discount_codes": [{"code": "A", "applicable": True, "amount": 500}]}
    assert context(cart, **FEATURES) == {"currency": "EUR", "discount_codes": ["A"]}


def test_a_resubmission_in_another_currency_is_a_new_submission():
    def submission(currency):
        payload = draft_order_payload({"items": [line()], "currency": currency}, currency=True)
        return fingerprint(payload, "token", "203.0.113.9")

    assert submission("EUR") != submission("USD")


def test_a_payload_without_context_keeps_the_fingerprint_it_had_before_contexts():
    payload = draft_order_payload({"items": [line()]}, event_id="e1")
    assert fingerprint(payload, "token", "203.0.113.9") \
        == "ce509dcc5e9f548152e34e859de241858b1046d95bc89be449d7702f85a07d37"
