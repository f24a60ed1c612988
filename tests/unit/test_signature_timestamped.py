"""The timestamped signature (SIGNATURE_MODE=timestamped): "<unix seconds>.<id>"
signed at render time and refused once older than SIGNATURE_TOLERANCE."""

import hashlib
import hmac
import html
import json
import re
import time

import pytest
from helpers import SECRET, cart_body
from test_config import settings as config_with
from test_receiver import assert_error, event_count

from app.config import ConfigError
from app.dev.demo import render_snippet
from app.intake.errors import ApiError
from app.intake.signature import MAX_CLOCK_SKEW, sign, signed_customer_id

CUSTOMER_ID = 207119551
NOW = 1_700_000_000
TOLERANCE = 3600


def timestamped(signed_at, customer_id=CUSTOMER_ID, secret=SECRET):
    """The signature fields of a body from the snippet's timestamped form."""
    return {"customerId": customer_id, "customerIdSignedAt": signed_at,
            "customerIdSignature": sign(customer_id, secret, signed_at)}


def check(body, mode="timestamped", now=NOW, tolerance=TOLERANCE):
    return signed_customer_id(body, SECRET, mode=mode, tolerance=tolerance, now=now)


def refusal(body, **options):
    with pytest.raises(ApiError) as raised:
        check(body, **options)
    return raised.value.status, raised.value.code, raised.value.extra["field"]


# --- The pure check, with the clock in the test's hands --------------------------------------

def test_timestamped_signature_is_the_hmac_of_timestamp_dot_customer_id():
    expected = hmac.new(SECRET.encode(), b"1700000000.207119551", hashlib.sha256).hexdigest()
    assert sign(CUSTOMER_ID, SECRET, NOW) == expected


def test_fresh_timestamped_signature_yields_the_customer_id():
    assert check(timestamped(NOW - 5)) == CUSTOMER_ID


def test_timestamp_as_a_digit_string_is_accepted():
    assert check(timestamped(str(NOW))) == CUSTOMER_ID


def test_signature_exactly_as_old_as_the_tolerance_is_accepted():
    assert check(timestamped(NOW - TOLERANCE)) == CUSTOMER_ID


def test_signature_older_than_the_tolerance_is_expired():
    assert refusal(timestamped(NOW - TOLERANCE - 1)) \
        == (401, "signature_expired", "customerIdSignedAt")


def test_the_tolerance_is_the_one_given():
    assert refusal(timestamped(NOW - 61), tolerance=60)[1] == "signature_expired"


def test_signature_within_the_clock_skew_ahead_is_accepted():
    assert check(timestamped(NOW + MAX_CLOCK_SKEW)) == CUSTOMER_ID


def test_signature_beyond_the_clock_skew_ahead_is_refused():
    assert refusal(timestamped(NOW + MAX_CLOCK_SKEW + 1)) \
        == (401, "signature_invalid", "customerIdSignedAt")


def test_tampered_timestamp_is_refused():
    body = {**timestamped(NOW - TOLERANCE - 100), "customerIdSignedAt": NOW}
    assert refusal(body) == (401, "signature_invalid", "customerIdSignature")


def test_old_timestamp_with_a_wrong_signature_is_invalid_not_expired():
    body = {**timestamped(NOW - 10 * TOLERANCE), "customerIdSignature": "0" * 64}
    assert refusal(body)[1] == "signature_invalid"


def test_signature_for_another_customer_is_refused():
    body = {**timestamped(NOW), "customerId": CUSTOMER_ID + 1}
    assert refusal(body)[1] == "signature_invalid"


def test_mechanic_signature_is_refused_in_timestamped_mode():
    body = {"customerId": CUSTOMER_ID, "customerIdSignature": sign(CUSTOMER_ID, SECRET)}
    assert refusal(body) == (401, "signature_missing", "customerIdSignedAt")


def test_mechanic_signature_does_not_pass_for_a_timestamped_one():
    body = {**timestamped(NOW), "customerIdSignature": sign(CUSTOMER_ID, SECRET)}
    assert refusal(body)[1] == "signature_invalid"


@pytest.mark.parametrize("signed_at", [
    "now", 1.7e9, True, -NOW, "0", f"0{NOW}", f"{NOW}\n", f" {NOW}", [NOW], "1" * 13,
])
def test_malformed_timestamp_is_refused(signed_at):
    body = {**timestamped(NOW), "customerIdSignedAt": signed_at}
    assert refusal(body) == (401, "signature_invalid", "customerIdSignedAt")


@pytest.mark.parametrize("customer_id", [None, ""])
@pytest.mark.parametrize("mode", ["mechanic", "timestamped"])
def test_a_guest_stays_a_guest_in_either_mode(customer_id, mode):
    assert check({"customerId": customer_id, "customerIdSignature": None}, mode=mode) is None


@pytest.mark.parametrize("signed_at", [None, ""])
def test_mechanic_mode_accepts_the_mechanic_signature_as_before(signed_at):
    body = {"customerId": CUSTOMER_ID, "customerIdSignature": sign(CUSTOMER_ID, SECRET),
            "customerIdSignedAt": signed_at}
    assert check(body, mode="mechanic") == CUSTOMER_ID


def test_mechanic_mode_accepts_a_fresh_timestamped_signature():
    assert check(timestamped(NOW), mode="mechanic") == CUSTOMER_ID


def test_mechanic_mode_still_refuses_an_expired_timestamped_signature():
    assert refusal(timestamped(NOW - TOLERANCE - 1), mode="mechanic")[1] == "signature_expired"


# --- Configuration --------------------------------------------------------------------------

def test_signature_settings_default_to_mechanic_and_an_hour():
    config = config_with()
    assert (config["SIGNATURE_MODE"], config["SIGNATURE_TOLERANCE"]) == ("mechanic", 3600)


def test_signature_settings_are_read_from_the_environment():
    config = config_with(SIGNATURE_MODE="timestamped", SIGNATURE_TOLERANCE="900")
    assert (config["SIGNATURE_MODE"], config["SIGNATURE_TOLERANCE"]) == ("timestamped", 900)


@pytest.mark.parametrize("name, value", [
    ("SIGNATURE_MODE", "stripe"), ("SIGNATURE_MODE", "Timestamped"),
    ("SIGNATURE_TOLERANCE", "0"), ("SIGNATURE_TOLERANCE", "-60"),
    ("SIGNATURE_TOLERANCE", "an hour"), ("SIGNATURE_TOLERANCE", "1.5"),
])
def test_malformed_signature_setting_is_named(name, value):
    with pytest.raises(ConfigError, match=name):
        config_with(**{name: value})


# --- The receiver ---------------------------------------------------------------------------

def body_signed_at(signed_at):
    return {**cart_body(), **timestamped(signed_at)}


def test_receiver_in_timestamped_mode_accepts_a_fresh_signature(make_app):
    app = make_app(SIGNATURE_MODE="timestamped")

    response = app.test_client().post("/webhooks/cart", json=body_signed_at(int(time.time())))

    assert response.status_code == 202, response.get_data(as_text=True)
    assert app.extensions["store"].get(response.get_json()["id"])["customer_id"] == CUSTOMER_ID


def test_receiver_refuses_an_expired_signature_and_writes_nothing(make_app):
    app = make_app(SIGNATURE_MODE="timestamped")

    response = app.test_client().post("/webhooks/cart",
                                      json=body_signed_at(int(time.time()) - 2 * 3600))

    assert_error(response, 401, "signature_expired", field="customerIdSignedAt")
    assert "reload" in response.get_json()["error"]["detail"]
    assert event_count(app) == 0


def test_receiver_applies_signature_tolerance(make_app):
    app = make_app(SIGNATURE_MODE="timestamped", SIGNATURE_TOLERANCE="60")

    response = app.test_client().post("/webhooks/cart",
                                      json=body_signed_at(int(time.time()) - 120))

    assert_error(response, 401, "signature_expired")


def test_receiver_in_timestamped_mode_refuses_a_mechanic_signature(make_app):
    app = make_app(SIGNATURE_MODE="timestamped")

    response = app.test_client().post("/webhooks/cart", json=cart_body())

    assert_error(response, 401, "signature_missing", field="customerIdSignedAt")


# --- The snippet, rendered by a real Liquid engine ------------------------------------------

def rendered_body(signature_mode, customer):
    """The signature fields the script would send from the rendered button."""
    page = render_snippet("https://drafts.example.com", SECRET, {"items": []},
                          customer=customer, signature_mode=signature_mode)
    attributes = {name: html.unescape(value)
                  for name, value in re.findall(r'(data-[a-z-]+)="([^"]*)"', page)}
    body = {"customerId": json.loads(attributes["data-customer-id"]),
            "customerIdSignature": json.loads(attributes["data-customer-id-signature"])}
    if "data-customer-id-signed-at" in attributes:
        body["customerIdSignedAt"] = json.loads(attributes["data-customer-id-signed-at"])
    return body


def test_timestamped_snippet_signs_the_render_time_and_the_customer_id():
    before = int(time.time())
    body = rendered_body("timestamped", {"id": CUSTOMER_ID})
    after = int(time.time())

    assert before <= body["customerIdSignedAt"] <= after
    assert check(body, now=after) == CUSTOMER_ID


def test_mechanic_snippet_renders_no_timestamp():
    assert "customerIdSignedAt" not in rendered_body("mechanic", {"id": CUSTOMER_ID})


def test_timestamped_snippet_leaves_a_guest_unsigned():
    body = rendered_body("timestamped", None)
    assert body == {"customerId": None, "customerIdSignature": None}


def test_setup_page_fills_in_the_apps_signature_mode(make_app):
    app = make_app(SIGNATURE_MODE="timestamped")

    page = html.unescape(app.test_client().get("/").get_data(as_text=True))

    assert '{%- assign draft_order_signature_mode = "timestamped" -%}' in page
