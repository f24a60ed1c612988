"""Shopify's app proxy signature as pure rules (app/shopify/app_proxy.py):
what is signed, what is refused, and which forwarded address is the shopper's."""

import hashlib
import hmac

import pytest
from helpers import settings

from app.config import ConfigError, load
from app.shopify.app_proxy import (
    MAX_PARAMS,
    TOLERANCE,
    ProxyQuery,
    Refused,
    configured_shop,
    proxy_signature,
    read_query,
    shopper_address,
    signed_query,
)

SECRET = "hush"
NOW = 1_800_000_000


def proxied(customer="207119551", shop="shop.myshopify.com", timestamp=NOW, secret=SECRET,
            extra=()):
    """The query Shopify forwards, signed, as (name, value) pairs."""
    return signed_query([*extra, ("shop", shop), ("logged_in_customer_id", customer),
                         ("path_prefix", "/apps/send-cart"), ("timestamp", str(timestamp))],
                        secret)


def read(pairs, secrets=(SECRET,), now=NOW, size=100):
    return read_query(pairs, size, secrets, now)


def test_the_signature_is_of_the_sorted_decoded_pairs_concatenated_without_separator():
    pairs = [("extra", "1"), ("extra", "2"), ("shop", "shop.myshopify.com"),
             ("logged_in_customer_id", "1"), ("path_prefix", "/apps/awesome_reviews"),
             ("timestamp", "1317327555")]
    # Shopify's documented example, computed by its rule (authenticate-app-proxies).
    message = ("extra=1,2logged_in_customer_id=1path_prefix=/apps/awesome_reviews"
               "shop=shop.myshopify.comtimestamp=1317327555")
    expected = hmac.new(b"hush", message.encode(), hashlib.sha256).hexdigest()
    assert proxy_signature(pairs, "hush") == expected


def test_the_signature_leaves_the_signature_parameter_out():
    pairs = [("shop", "a.myshopify.com")]
    assert proxy_signature([*pairs, ("signature", "x")], SECRET) == proxy_signature(pairs, SECRET)


def test_a_signed_query_vouches_for_the_shop_customer_and_path():
    query = read(proxied())
    assert query == ProxyQuery("shop.myshopify.com", 207119551, "/apps/send-cart", NOW,
                               dict(proxied())["signature"])


def test_an_empty_logged_in_customer_id_is_a_guest():
    assert read(proxied(customer="")).customer_id is None


def test_a_query_signed_with_the_previous_secret_is_accepted_during_a_rotation():
    assert isinstance(read(proxied(secret="old"), secrets=("new", "old")), ProxyQuery)


def test_a_query_signed_with_another_secret_is_refused():
    refused = read(proxied(secret="forged"), secrets=("new", "old"))
    assert refused == Refused("signature_invalid", refused.reason)


def test_a_changed_customer_breaks_the_signature():
    pairs = [(name, "1" if name == "logged_in_customer_id" else value)
             for name, value in proxied()]
    assert read(pairs).code == "signature_invalid"


def test_a_query_without_signature_is_refused_as_missing():
    pairs = [pair for pair in proxied() if pair[0] != "signature"]
    assert read(pairs).code == "signature_missing"


@pytest.mark.parametrize("offset", [TOLERANCE + 1, -TOLERANCE - 1])
def test_a_timestamp_outside_the_tolerance_is_refused_as_expired(offset):
    assert read(proxied(timestamp=NOW - offset)).code == "signature_expired"


def test_a_timestamp_within_the_tolerance_is_accepted():
    assert isinstance(read(proxied(timestamp=NOW - TOLERANCE)), ProxyQuery)


@pytest.mark.parametrize("name", ["signature", "shop", "logged_in_customer_id", "timestamp"])
def test_a_repeated_signed_parameter_is_refused(name):
    pairs = proxied()
    value = dict(pairs)[name]
    assert read([*pairs, (name, value)]).code == "signature_invalid"


def test_the_storefronts_own_parameters_are_signed_too():
    assert isinstance(read(proxied(extra=[("utm", "a"), ("utm", "b")])), ProxyQuery)


def test_too_many_parameters_are_refused_before_hashing():
    extra = [(f"p{index}", "") for index in range(MAX_PARAMS)]
    assert read(proxied(extra=extra)).code == "signature_invalid"


def test_a_query_too_large_is_refused():
    assert read(proxied(), size=10_000).code == "signature_invalid"


def test_a_signed_customer_id_that_is_no_id_is_refused():
    assert read(proxied(customer="-1")).code == "signature_invalid"


def test_a_signed_shop_that_is_no_myshopify_domain_is_refused():
    assert read(proxied(shop="evil.example.com")).code == "signature_invalid"


def test_shopify_shop_as_a_myshopify_domain_names_the_shop_itself():
    assert configured_shop("https://my-shop.myshopify.com") == "my-shop.myshopify.com"


def test_shopify_shop_as_a_base_url_leaves_the_shop_to_the_admin_api():
    assert configured_shop("http://127.0.0.1:8081") is None


def test_the_shoppers_address_is_the_one_shopify_appended():
    assert shopper_address("203.0.113.9", 0) == "203.0.113.9"


def test_an_address_the_browser_sent_before_shopifys_is_not_trusted():
    assert shopper_address("10.0.0.1, 203.0.113.9", 0) == "203.0.113.9"


def test_the_entries_of_our_own_proxies_are_skipped():
    assert shopper_address("10.0.0.1, 203.0.113.9, 198.51.100.7", 1) == "203.0.113.9"


def test_a_long_header_the_browser_padded_still_gives_the_address_shopify_appended():
    assert shopper_address("10.0.0.1, " * 500 + "203.0.113.9", 0) == "203.0.113.9"
    assert shopper_address("x" * 3000 + ", 203.0.113.9, 198.51.100.7", 1) == "203.0.113.9"


@pytest.mark.parametrize("header", [None, "", "not-an-address", "203.0.113.9"])
def test_no_usable_forwarded_address_gives_none(header):
    assert shopper_address(header, 1) is None


@pytest.mark.parametrize("value", ["a/b", "x" * 31, "admin", "Login", "send cart"])
def test_a_subpath_shopify_would_refuse_is_named_at_start_up(tmp_path, value):
    with pytest.raises(ConfigError, match="APP_PROXY_SUBPATH"):
        load(settings(tmp_path, APP_PROXY_SUBPATH=value), str(tmp_path))


def test_the_subpath_defaults_to_send_cart(tmp_path):
    assert load(settings(tmp_path), str(tmp_path))["APP_PROXY_SUBPATH"] == "send-cart"


def test_the_signature_is_compared_as_oauths_hmac_any_case_empty_secrets_skipped():
    pairs = proxied()
    upper = [(name, value.upper() if name == "signature" else value) for name, value in pairs]
    assert isinstance(read(upper, secrets=("", SECRET)), ProxyQuery)
    assert read(pairs, secrets=("",)).code == "signature_invalid"
    odd = [(name, "é" * 64 if name == "signature" else value) for name, value in pairs]
    assert read(odd).code == "signature_invalid"
