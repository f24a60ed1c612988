"""The guest form's settings: read into (field, required) pairs, and each
mistake named at start-up."""

import pytest

from app.config import ConfigError, load

BASE = {"SHOPIFY_SHOP": "test-shop.myshopify.com", "SHOPIFY_ACCESS_TOKEN": "shpat_x",
        "SHARED_SECRET": "s"}


def settings(**environ):
    return load({**BASE, **environ}, "/tmp/instance")


def test_guest_fields_are_read_in_order_with_the_required_ones_starred():
    assert settings(GUEST_FIELDS="name, email*")["GUEST_FIELDS"] == (("name", False),
                                                                      ("email", True))


def test_the_default_asks_for_a_required_email_and_four_optional_fields():
    assert settings()["GUEST_FIELDS"] == (("email", True), ("name", False), ("phone", False),
                                          ("company", False), ("message", False))


def test_none_asks_nothing():
    assert settings(GUEST_FIELDS="none")["GUEST_FIELDS"] == ()


@pytest.mark.parametrize("value", ["email,fax", "email,email*"])
def test_an_unknown_or_repeated_guest_field_is_named(value):
    with pytest.raises(ConfigError, match="^GUEST_FIELDS must list each"):
        settings(GUEST_FIELDS=value)


def test_custom_fields_are_labels_with_the_required_ones_starred():
    assert settings(GUEST_CUSTOM_FIELDS="PO number*,Delivery date")["GUEST_CUSTOM_FIELDS"] == (
        ("PO number", True), ("Delivery date", False))


@pytest.mark.parametrize("value", ["a,b,c,d,e,f", "x" * 41, "a,a", "bad\tlabel"])
def test_too_many_long_repeated_or_unprintable_custom_fields_are_named(value):
    with pytest.raises(ConfigError, match="^GUEST_CUSTOM_FIELDS must list at most 5"):
        settings(GUEST_CUSTOM_FIELDS=value)


def test_a_captcha_provider_needs_both_keys():
    with pytest.raises(ConfigError, match="CAPTCHA_SITE_KEY and CAPTCHA_SECRET are both"):
        settings(CAPTCHA_PROVIDER="turnstile", CAPTCHA_SITE_KEY="site")


def test_captcha_keys_need_a_provider_and_the_secret_is_not_echoed():
    with pytest.raises(ConfigError) as caught:
        settings(CAPTCHA_SECRET="very-secret")
    assert "CAPTCHA_PROVIDER is required" in str(caught.value)
    assert "very-secret" not in str(caught.value)


def test_an_unknown_captcha_provider_is_named():
    with pytest.raises(ConfigError, match="^CAPTCHA_PROVIDER must be one of"):
        settings(CAPTCHA_PROVIDER="recaptcha-v3", CAPTCHA_SITE_KEY="a", CAPTCHA_SECRET="b")


def test_guest_invoices_are_off_by_default():
    assert settings()["SEND_INVOICE_TO_GUESTS"] is False
