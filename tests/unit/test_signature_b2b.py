"""The B2B company location signature: "<customer message>:<company id>:<location id>",
checked with B2B_ORDERS=1 (app/intake/signature.py signed_company)."""

import html
import json
import re
import time

import pytest
from helpers import SECRET

from app.dev.demo import render_snippet
from app.intake.errors import ApiError
from app.intake.signature import sign, sign_location, signed_company, signed_customer_id

CUSTOMER_ID, COMPANY_ID, LOCATION_ID = 207119551, 98369, 5501
SIGNED_AT = 1_700_000_000


def b2b(signed_at=None, **fields):
    """The company fields of a body as the snippet renders them."""
    return {"companyId": COMPANY_ID, "companyLocationId": LOCATION_ID,
            "companyLocationSignature": sign_location(CUSTOMER_ID, COMPANY_ID, LOCATION_ID,
                                                      SECRET, signed_at),
            **({} if signed_at is None else {"customerIdSignedAt": signed_at}), **fields}


def refusal(body, customer_id=CUSTOMER_ID):
    with pytest.raises(ApiError) as raised:
        signed_company(body, SECRET, customer_id)
    return raised.value.status, raised.value.code, raised.value.extra["field"]


def test_the_location_signature_extends_the_customer_s_signed_message():
    assert sign_location(CUSTOMER_ID, COMPANY_ID, LOCATION_ID, SECRET) \
        == sign(f"{CUSTOMER_ID}:{COMPANY_ID}:{LOCATION_ID}", SECRET)


def test_a_signed_location_yields_the_company_and_location():
    assert signed_company(b2b(), SECRET, CUSTOMER_ID) \
        == {"company_id": COMPANY_ID, "location_id": LOCATION_ID}


def test_a_timestamped_location_signature_is_verified_with_its_timestamp():
    assert signed_company(b2b(SIGNED_AT), SECRET, CUSTOMER_ID)["location_id"] == LOCATION_ID


def test_ids_may_come_as_digit_strings():
    body = b2b(companyId=str(COMPANY_ID), companyLocationId=str(LOCATION_ID))
    assert signed_company(body, SECRET, CUSTOMER_ID) \
        == {"company_id": COMPANY_ID, "location_id": LOCATION_ID}


def test_an_uppercase_hex_signature_is_accepted():
    body = b2b()
    body["companyLocationSignature"] = body["companyLocationSignature"].upper()
    assert signed_company(body, SECRET, CUSTOMER_ID)["company_id"] == COMPANY_ID


@pytest.mark.parametrize("location_id", [None, ""])
def test_a_body_naming_no_location_has_no_company(location_id):
    assert signed_company(b2b(companyLocationId=location_id), SECRET, CUSTOMER_ID) is None


@pytest.mark.parametrize("signature", [None, ""])
def test_a_location_without_its_signature_is_401_missing(signature):
    assert refusal(b2b(companyLocationSignature=signature)) \
        == (401, "signature_missing", "companyLocationSignature")


def test_a_guest_naming_a_location_is_401():
    assert refusal(b2b(), customer_id=None) \
        == (401, "signature_invalid", "companyLocationSignature")


def test_another_customer_s_location_signature_is_401():
    assert refusal(b2b(), customer_id=CUSTOMER_ID + 1) \
        == (401, "signature_invalid", "companyLocationSignature")


@pytest.mark.parametrize("field, value", [("companyId", COMPANY_ID + 1),
                                          ("companyLocationId", LOCATION_ID + 1)])
def test_a_location_or_company_other_than_the_signed_one_is_401(field, value):
    assert refusal(b2b(**{field: value})) \
        == (401, "signature_invalid", "companyLocationSignature")


def test_a_mechanic_location_signature_sent_with_a_timestamp_is_401():
    assert refusal(b2b(customerIdSignedAt=SIGNED_AT)) \
        == (401, "signature_invalid", "companyLocationSignature")


@pytest.mark.parametrize("signature", [sign_location(CUSTOMER_ID, COMPANY_ID, LOCATION_ID,
                                                     "other secret"), 12345, ["x"], "é" * 64])
def test_a_wrong_or_malformed_signature_is_401(signature):
    assert refusal(b2b(companyLocationSignature=signature)) \
        == (401, "signature_invalid", "companyLocationSignature")


@pytest.mark.parametrize("field, value", [("companyId", None), ("companyId", 0),
                                          ("companyLocationId", "abc"),
                                          ("companyLocationId", True)])
def test_a_malformed_company_or_location_id_is_422_naming_it(field, value):
    assert refusal(b2b(**{field: value})) == (422, "invalid_company_location", field)


def test_the_refusal_tells_the_shopper_nothing_of_the_reason():
    with pytest.raises(ApiError) as raised:
        signed_company(b2b(), SECRET, CUSTOMER_ID + 1)
    assert "company" not in raised.value.detail.lower()
    assert "does not match company" in raised.value.log


# --- The snippet's B2B lines, rendered by a real Liquid engine ----------------------------

B2B_CUSTOMER = {"id": CUSTOMER_ID, "b2b?": True, "current_company": {"id": COMPANY_ID},
                "current_location": {"id": LOCATION_ID}}


def rendered_body(signature_mode, customer=B2B_CUSTOMER):
    """The fields the script sends from the rendered button, as JSON values."""
    page = render_snippet("https://drafts.example.com", SECRET, {"items": []},
                          customer=customer, signature_mode=signature_mode)
    attributes = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', page))
    fields = {"customer-id": "customerId", "customer-id-signature": "customerIdSignature",
              "customer-id-signed-at": "customerIdSignedAt", "company-id": "companyId",
              "company-location-id": "companyLocationId",
              "company-location-signature": "companyLocationSignature"}
    return {key: json.loads(html.unescape(attributes[name]))
            for name, key in fields.items() if name in attributes}


@pytest.mark.parametrize("mode", ["mechanic", "timestamped"])
def test_the_snippet_s_location_signature_verifies_in_either_signature_mode(mode):
    body = rendered_body(mode)
    customer_id = signed_customer_id(body, SECRET, mode=mode, tolerance=3600, now=time.time())
    assert signed_company(body, SECRET, customer_id) \
        == {"company_id": COMPANY_ID, "location_id": LOCATION_ID}


def test_the_snippet_renders_no_company_for_a_customer_who_is_no_company_contact():
    body = rendered_body("mechanic", {"id": CUSTOMER_ID})
    assert not {"companyId", "companyLocationId", "companyLocationSignature"} & set(body)


def test_the_snippet_renders_no_company_for_a_guest():
    assert "companyLocationId" not in rendered_body("mechanic", None)
