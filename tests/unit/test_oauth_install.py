"""The OAuth install: /auth/shopify (the app URL) sends the merchant to approve
the app with a state for this browser; /auth/shopify/callback trades the code
once, and refuses forged, stale, replayed or foreign callbacks without any
code exchange."""

import time
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from helpers import SHOP

from app.shopify.oauth import query_signature

CLIENT_ID, SECRET, OLD_SECRET = "client-id-1", "client-secret-new", "client-secret-old"
PUBLIC_URL = "https://receiver.example.com"
TOKEN_URL = f"{SHOP}/admin/oauth/access_token"


@pytest.fixture
def app(make_app):
    return make_app(SHOPIFY_ACCESS_TOKEN="", SHOPIFY_CLIENT_ID=CLIENT_ID,
                    SHOPIFY_CLIENT_SECRET=SECRET, PUBLIC_URL=PUBLIC_URL)


def signed(secret=SECRET, **params):
    query = {"shop": "test-shop.myshopify.com", "timestamp": str(int(time.time())),
             "host": "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvdGVzdC1zaG9w", **params}
    return {**query, "hmac": query_signature(query, secret)}


def launched(client, **params):
    """Open the app URL as Shopify does; the state the redirect carries."""
    answer = client.get("/auth/shopify", query_string=signed(**params))
    assert answer.status_code == 302, answer.data
    return parse_qs(urlsplit(answer.headers["Location"]).query)["state"][0]


def exchanged(shopify):
    shopify.add(responses.POST, TOKEN_URL, json={
        "access_token": "shpat_installed", "scope": "write_draft_orders", "expires_in": 3600,
        "refresh_token": "shprt_first", "refresh_token_expires_in": 7776000})


def test_the_app_url_sends_the_merchant_to_approve_the_install(client):
    answer = client.get("/auth/shopify", query_string=signed())
    assert answer.status_code == 302
    target = urlsplit(answer.headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{SHOP}/admin/oauth/authorize"
    query = parse_qs(target.query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == [f"{PUBLIC_URL}/auth/shopify/callback"]
    assert "grant_options[]" not in query  # an offline token, not a per-user one
    cookie = answer.headers["Set-Cookie"]
    assert f"shopify_oauth_state={query['state'][0]}" in cookie
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_the_state_cookie_is_not_secure_on_a_plain_loopback_address(make_app):
    app = make_app(SHOPIFY_ACCESS_TOKEN="", SHOPIFY_CLIENT_ID=CLIENT_ID,
                   SHOPIFY_CLIENT_SECRET=SECRET, PUBLIC_URL="http://127.0.0.1:8000")
    answer = app.test_client().get("/auth/shopify", query_string=signed())
    assert answer.status_code == 302
    assert "Secure" not in answer.headers["Set-Cookie"]


def test_an_unsigned_launch_is_refused(client, store):
    answer = client.get("/auth/shopify", query_string={**signed(), "hmac": "0" * 64})
    assert answer.status_code == 401
    assert b"hmac_invalid" in answer.data
    with store._connect() as conn:
        assert conn.execute("SELECT COUNT(*) AS n FROM oauth_states").fetchone()["n"] == 0


def test_an_approved_install_trades_the_code_for_an_expiring_offline_token(client, app,
                                                                         shopify):
    exchanged(shopify)
    state = launched(client)
    answer = client.get("/auth/shopify/callback", query_string=signed(code="the-code",
                                                                      state=state))
    assert answer.status_code == 200, answer.data
    assert b"Connected" in answer.data and b"shpat_installed" not in answer.data
    form = parse_qs(shopify.calls[0].request.body)
    assert form["code"] == ["the-code"] and form["expiring"] == ["1"]
    assert app.extensions["shopify"].tokens.current() == "shpat_installed"
    assert "shopify_oauth_state=;" in answer.headers["Set-Cookie"]  # used up


def test_a_callback_signed_with_the_previous_secret_is_accepted_during_a_rotation(
        make_app, shopify):
    app = make_app(SHOPIFY_ACCESS_TOKEN="", SHOPIFY_CLIENT_ID=CLIENT_ID,
                   SHOPIFY_CLIENT_SECRET=SECRET, SHOPIFY_CLIENT_SECRET_PREVIOUS=OLD_SECRET,
                   PUBLIC_URL=PUBLIC_URL)
    client = app.test_client()
    exchanged(shopify)
    state = launched(client, secret=OLD_SECRET)
    answer = client.get("/auth/shopify/callback",
                        query_string=signed(secret=OLD_SECRET, code="c", state=state))
    assert answer.status_code == 200


def refused_callback(client, status, code, params):
    """A callback refused with `status` and `code`, no code exchange made (the
    `shopify` mock fails the test on any call it was not given)."""
    answer = client.get("/auth/shopify/callback", query_string=params)
    assert answer.status_code == status, answer.data
    assert code.encode() in answer.data
    return answer


def test_a_callback_with_a_wrong_hmac_is_refused(client, shopify):
    state = launched(client)
    refused_callback(client, 401, "hmac_invalid",
                     {**signed(code="c", state=state), "hmac": "ab" * 32})


def test_a_callback_signed_with_another_key_is_refused(client, shopify):
    state = launched(client)
    refused_callback(client, 401, "hmac_invalid", signed("not-our-secret", code="c",
                                                           state=state))


def test_a_callback_whose_state_this_browser_was_not_given_is_refused(client, app, shopify):
    launched(client)
    stranger = app.test_client()  # no cookie: another browser
    state = launched(stranger)
    stranger.delete_cookie("shopify_oauth_state", path="/auth/shopify")
    refused_callback(stranger, 403, "state_invalid", signed(code="c", state=state))


def test_a_state_we_never_issued_is_refused(client, shopify):
    launched(client)
    client.set_cookie("shopify_oauth_state", "forged", path="/auth/shopify")
    refused_callback(client, 403, "state_used", signed(code="c", state="forged"))


def test_a_state_is_used_once(client, shopify):
    exchanged(shopify)
    state = launched(client)
    query = signed(code="c", state=state)
    assert client.get("/auth/shopify/callback", query_string=query).status_code == 200
    client.set_cookie("shopify_oauth_state", state, path="/auth/shopify")
    refused_callback(client, 403, "state_used", query)


def test_a_stale_state_is_refused(client, store, shopify):
    store.add_oauth_state("old-state", time.time() - 601, max_age=600)
    client.set_cookie("shopify_oauth_state", "old-state", path="/auth/shopify")
    refused_callback(client, 403, "state_used", signed(code="c", state="old-state"))


def test_a_stale_timestamp_is_refused(client, shopify):
    state = launched(client)
    refused_callback(client, 400, "timestamp_stale",
                     signed(code="c", state=state, timestamp=str(int(time.time()) - 3600)))


@pytest.mark.parametrize("shop", ["evil.example.com", "-x.myshopify.com",
                                  "test-shop.myshopify.com.evil.com",
                                  "other-shop.myshopify.com"])
def test_a_callback_for_another_or_malformed_shop_is_refused(client, shop, shopify):
    state = launched(client)
    refused_callback(client, 403, "shop_invalid", signed(code="c", state=state, shop=shop))


def test_a_repeated_parameter_is_refused(client, shopify):
    state = launched(client)
    query = signed(code="c", state=state)
    answer = client.get("/auth/shopify/callback?" + "&".join(
        f"{name}={value}" for name, value in query.items()) + "&shop=other.myshopify.com")
    assert answer.status_code == 400


def test_against_a_base_url_the_install_goes_there_and_any_myshopify_shop_is_taken(
        make_app, shopify):
    base = "http://127.0.0.1:9"
    app = make_app(SHOPIFY_SHOP=base, SHOPIFY_ACCESS_TOKEN="", SHOPIFY_CLIENT_ID=CLIENT_ID,
                   SHOPIFY_CLIENT_SECRET=SECRET, PUBLIC_URL=PUBLIC_URL)
    client = app.test_client()
    answer = client.get("/auth/shopify", query_string=signed(shop="sim.myshopify.com"))
    assert answer.headers["Location"].startswith(f"{base}/admin/oauth/authorize?")
    state = parse_qs(urlsplit(answer.headers["Location"]).query)["state"][0]
    shopify.add(responses.POST, f"{base}/admin/oauth/access_token", json={
        "access_token": "shpat_i", "expires_in": 3600, "refresh_token": "shprt_i",
        "refresh_token_expires_in": 7776000})
    answer = client.get("/auth/shopify/callback",
                        query_string=signed(shop="sim.myshopify.com", code="c", state=state))
    assert answer.status_code == 200


def test_a_refused_code_says_why_and_keeps_no_token(client, app, shopify):
    shopify.add(responses.POST, TOKEN_URL, status=400, json={"error": "invalid_grant"})
    state = launched(client)
    answer = client.get("/auth/shopify/callback", query_string=signed(code="c", state=state))
    assert answer.status_code == 400
    assert app.extensions["store"].credentials() is None


def test_a_legacy_token_install_has_no_app_url(client_legacy):
    assert client_legacy.get("/auth/shopify", query_string=signed()).status_code == 404


def test_the_install_needs_public_url(make_app):
    app = make_app(SHOPIFY_ACCESS_TOKEN="", SHOPIFY_CLIENT_ID=CLIENT_ID,
                   SHOPIFY_CLIENT_SECRET=SECRET)
    answer = app.test_client().get("/auth/shopify", query_string=signed())
    assert answer.status_code == 503
    assert b"PUBLIC_URL" in answer.data


@pytest.fixture
def client_legacy(make_app):
    return make_app().test_client()


def test_a_replayed_launch_keeps_at_most_a_hundred_states(client, store):
    query = signed()
    for _ in range(120):
        assert client.get("/auth/shopify", query_string=query).status_code == 302
    with store._connect() as conn:
        assert conn.execute("SELECT COUNT(*) AS n FROM oauth_states").fetchone()["n"] <= 100


def test_a_value_cannot_pass_for_two_signed_parameters():
    assert query_signature({"a": "1&b=2"}, SECRET) != query_signature({"a": "1", "b": "2"},
                                                                       SECRET)
    assert query_signature({"a=b": "c"}, SECRET) != query_signature({"a": "b=c"}, SECRET)


def test_a_non_ascii_hmac_is_refused_not_an_error(client):
    for path in ("/auth/shopify", "/auth/shopify/callback"):
        answer = client.get(path, query_string={**signed(), "hmac": "é"})
        assert answer.status_code == 401


def test_a_query_of_more_parameters_than_shopify_sends_is_refused(client, shopify):
    extra = {f"x{n}": "1" for n in range(20)}
    answer = client.get("/auth/shopify", query_string=signed(**extra))
    assert answer.status_code == 400
