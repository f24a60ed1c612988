"""A guest's contact fields: which are read, how each is checked, and where
each lands on the draft order, for both APIs (app/intake/contact.py)."""

import pytest

from app.config import _custom_fields, _guest_fields
from app.intake import contact
from app.intake.cart import draft_order_payload
from app.intake.errors import ApiError
from app.shopify.graphql import draft_order_input

ALL = _guest_fields("GUEST_FIELDS", "email*,name,phone,company,message")
CUSTOM = _custom_fields("GUEST_CUSTOM_FIELDS", "PO number*,Delivery date")
CART = {"items": [{"variant_id": 1, "quantity": 1}], "note": "Gift wrap"}
GUEST = contact.Guest(email="ann@example.com", name="Ann Marie Lee", phone="+1 613 555 0100",
                      company="Lee & Co", message="Can you ship by Friday?",
                      custom=(("PO number", "PO-7"),))


def refusal(raw, fields=ALL, custom=()):
    with pytest.raises(ApiError) as caught:
        contact.validate(raw, fields, custom)
    return caught.value


def test_a_missing_required_field_is_named():
    error = refusal({"name": "Ann"})
    assert (error.status, error.code, error.extra["field"]) == (422, "invalid_contact",
                                                                "guest.email")


def test_an_optional_field_may_be_left_empty():
    assert contact.validate({"email": "ann@example.com"}, ALL, ()).name == ""


def test_an_email_is_checked_for_syntax_and_normalized():
    assert contact.validate({"email": "ann@EXAMPLE.com"}, ALL, ()).email == "ann@example.com"
    assert refusal({"email": "ann@@example"}).extra["field"] == "guest.email"


def test_a_phone_must_have_6_to_15_digits_in_a_phone_shape():
    assert contact.validate({"email": "a@example.com", "phone": "+1 (613) 555-0100"},
                            ALL, ()).phone == "+1 (613) 555-0100"
    for bad in ("12345", "1234567890123456", "call me", "++1 613 555 0100"):
        assert refusal({"email": "a@example.com", "phone": bad}).extra["field"] == "guest.phone"


def test_a_field_longer_than_its_bound_is_refused():
    error = refusal({"email": "a@example.com", "name": "x" * 256})
    assert error.extra["field"] == "guest.name"


def test_control_characters_are_refused_but_a_message_keeps_its_lines():
    assert refusal({"email": "a@example.com", "name": "Ann\x00"}).extra["field"] == "guest.name"
    assert refusal({"email": "a@example.com", "company": "A\u202eB"}).extra["field"] == \
        "guest.company"
    guest = contact.validate({"email": "a@example.com", "message": "Hi,\r\nthanks"}, ALL, ())
    assert guest.message == "Hi,\nthanks"


def test_a_field_that_is_not_text_is_refused():
    assert refusal({"email": ["a@example.com"]}).extra["field"] == "guest.email"


def test_fields_not_asked_for_are_not_read():
    guest = contact.validate({"email": "a@example.com", "company": "\x00"},
                             (("email", True),), ())
    assert guest.company == ""


def test_a_required_custom_field_is_named_by_its_label():
    error = refusal({"email": "a@example.com", "custom": {"Delivery date": "Friday"}},
                    custom=CUSTOM)
    assert error.extra["field"] == "guest.custom.PO number"


def test_custom_fields_are_kept_in_the_settings_order():
    guest = contact.validate({"email": "a@example.com",
                              "custom": {"Delivery date": "Fri", "PO number": "PO-7"}},
                             ALL, CUSTOM)
    assert guest.custom == (("PO number", "PO-7"), ("Delivery date", "Fri"))


def test_the_contact_lands_where_the_merchant_sees_it_on_a_rest_draft():
    draft = draft_order_payload(CART, guest=GUEST)["draft_order"]
    assert draft["email"] == "ann@example.com"
    assert draft["billing_address"] == {"first_name": "Ann Marie", "last_name": "Lee",
                                        "phone": "+1 613 555 0100", "company": "Lee & Co"}
    assert draft["note"] == f"Gift wrap\n\n{contact.MESSAGE_LABEL}\nCan you ship by Friday?"
    assert draft["note_attributes"] == [{"name": "PO number", "value": "PO-7"}]


def test_the_contact_lands_on_a_graphql_draft_order_input():
    mapped = draft_order_input(draft_order_payload(CART, guest=GUEST), None, {}, 0)
    assert mapped["email"] == "ann@example.com"
    assert mapped["billingAddress"] == {"firstName": "Ann Marie", "lastName": "Lee",
                                        "phone": "+1 613 555 0100", "company": "Lee & Co"}
    assert mapped["note"].endswith("Can you ship by Friday?")
    assert mapped["customAttributes"] == [{"key": "PO number", "value": "PO-7"}]


def test_a_message_alone_becomes_the_labelled_note():
    draft = draft_order_payload({"items": CART["items"]},
                                guest=contact.Guest(message="Hello"))["draft_order"]
    assert draft["note"] == f"{contact.MESSAGE_LABEL}\nHello"


def test_the_payload_keeps_the_contact_as_typed_for_the_merchant():
    payload = draft_order_payload(CART, guest=GUEST)
    assert payload["guest_contact"]["name"] == "Ann Marie Lee"
    assert payload["guest_contact"]["custom"] == [{"name": "PO number", "value": "PO-7"}]


def test_a_guest_who_gave_nothing_adds_nothing():
    payload = draft_order_payload(CART, guest=contact.Guest())
    assert "guest_contact" not in payload and "email" not in payload["draft_order"]
