"""A guest's form through POST /webhooks/cart and GET /guest-form: refused
before anything is written, or kept with the contact on the draft."""

import time

import pytest
from helpers import cart_body

from app.intake import spam
from app.intake.captcha import Unavailable

FORM_SETTINGS = {"GUEST_FIELDS": "email*,name,message", "GUEST_MIN_FILL_SECONDS": "3",
                 "GUEST_CUSTOM_FIELDS": "PO number"}


@pytest.fixture
def app(make_app):
    return make_app(**FORM_SETTINGS)


def form_token(client, age):
    """A token from GET /guest-form, as if fetched `age` seconds ago."""
    real = time.time
    try:
        time.time = lambda: real() - age
        return client.get("/guest-form").get_json()["form_token"]
    finally:
        time.time = real


def post(client, age=10, **guest):
    guest.setdefault("email", "ann@example.com")
    body = cart_body(customer_id=None, guest={"form_token": form_token(client, age), **guest})
    return client.post("/webhooks/cart", json=body)


def test_the_guest_form_describes_the_fields_the_settings_ask_for(client):
    document = client.get("/guest-form").get_json()
    assert [(f["name"], f["required"], f["field"]) for f in document["fields"]] == [
        ("email", True, "guest.email"), ("name", False, "guest.name"),
        ("message", False, "guest.message"), ("PO number", False, "guest.custom.PO number")]
    assert (document["captcha"], document["min_seconds"], document["honeypot"]) == (
        None, 3, "website")


def test_the_guest_form_shows_the_captcha_site_key_but_never_the_secret(make_app):
    client = make_app(CAPTCHA_PROVIDER="turnstile", CAPTCHA_SITE_KEY="site-key-1",
                      CAPTCHA_SECRET="secret-key-1").test_client()
    response = client.get("/guest-form")
    assert response.get_json()["captcha"]["site_key"] == "site-key-1"
    assert b"secret-key-1" not in response.data


def test_a_guests_form_becomes_a_stored_draft_with_the_contact(client, store):
    response = post(client, message="Ship Friday?", custom={"PO number": "PO-7"})
    assert response.status_code == 202
    payload = store.get(response.get_json()["id"])["payload"]
    assert payload["draft_order"]["email"] == "ann@example.com"
    assert payload["draft_order"]["note"].endswith("Ship Friday?")
    assert {"name": "PO number", "value": "PO-7"} in payload["draft_order"]["note_attributes"]


def test_a_missing_required_field_is_refused_naming_it_and_nothing_is_stored(client, store):
    response = post(client, email="")
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "guest.email"
    assert store.list_events(10) == []


def test_a_filled_honeypot_is_refused_and_nothing_is_stored(client, store):
    response = post(client, website="http://spam.example")
    assert (response.status_code, response.get_json()["error"]["code"]) == (
        422, "submission_refused")
    assert store.list_events(10) == []


def test_a_post_faster_than_the_minimum_time_is_refused(client):
    response = post(client, age=0)
    assert response.get_json()["error"] == {"code": "submission_refused",
                                            "detail": spam.REFUSED_DETAIL}


def test_a_signed_in_customer_is_never_asked(client):
    body = cart_body(guest={"website": "filled", "email": "not an email"})
    assert client.post("/webhooks/cart", json=body).status_code == 202


def test_a_bad_captcha_token_gets_the_same_refusal_as_the_other_checks(make_app, monkeypatch):
    client = make_app(**FORM_SETTINGS, CAPTCHA_PROVIDER="hcaptcha", CAPTCHA_SITE_KEY="s",
                      CAPTCHA_SECRET="k").test_client()
    monkeypatch.setattr("app.intake.captcha.verify", lambda *args, **kwargs: False)
    response = post(client, captcha_token="t")
    assert response.get_json()["error"]["code"] == "submission_refused"


def test_an_unreachable_captcha_provider_is_a_retryable_503(make_app, monkeypatch, store):
    def unreachable(*args, **kwargs):
        raise Unavailable("hcaptcha verify endpoint: ConnectTimeout")

    app = make_app(**FORM_SETTINGS, CAPTCHA_PROVIDER="hcaptcha", CAPTCHA_SITE_KEY="s",
                   CAPTCHA_SECRET="k")
    monkeypatch.setattr("app.intake.captcha.verify", unreachable)
    response = post(app.test_client(), captcha_token="t")
    assert (response.status_code, response.headers["Retry-After"]) == (503, "30")
    assert response.get_json()["error"]["code"] == "captcha_unavailable"
    assert app.extensions["store"].list_events(10) == []


@pytest.mark.parametrize(("email", "items"), [("", None), ("ann@example.com", [{"quantity": 1}])],
                         ids=["a field", "the cart"])
def test_a_refused_field_or_cart_does_not_spend_the_captcha_token(make_app, monkeypatch,
                                                                  email, items):
    asked = []
    monkeypatch.setattr("app.intake.captcha.verify", lambda *args, **kwargs: asked.append(1))
    client = make_app(**FORM_SETTINGS, CAPTCHA_PROVIDER="hcaptcha", CAPTCHA_SITE_KEY="s",
                      CAPTCHA_SECRET="k").test_client()
    guest = {"form_token": form_token(client, 10), "email": email, "captcha_token": "t"}
    response = client.post("/webhooks/cart",
                           json=cart_body(customer_id=None, items=items, guest=guest))
    assert response.status_code == 422
    assert asked == []


def test_the_setup_page_says_what_a_guest_is_asked(make_app):
    client = make_app(GUEST_FIELDS="email*,name", CAPTCHA_PROVIDER="turnstile",
                      CAPTCHA_SITE_KEY="s", CAPTCHA_SECRET="k").test_client()
    text = client.get("/").get_data(as_text=True)
    assert "a guest&#39;s form asks email*, name (* required)" in text
    assert "turnstile" in text


def test_a_guests_quote_is_found_and_erased_by_the_email_typed_in_the_form(app, client, store):
    event_id = post(client, name="Ann Quote", message="Ship Friday?").get_json()["id"]
    runner = app.test_cli_runner()
    exported = runner.invoke(args=["privacy", "export", "--email", "ANN@example.com"])
    assert event_id in exported.output and "Ship Friday?" in exported.output
    assert runner.invoke(args=["privacy", "redact", "--email", "ann@example.com"]).exit_code == 0
    event = store.get(event_id)
    kept = "" if event is None else repr(event)
    assert "ann@example.com" not in kept and "Ann Quote" not in kept and "Friday" not in kept
    assert event is None or event["guest_key"] is None
