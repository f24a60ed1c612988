"""The simulator's app credentials, as Shopify has them since 2026: the token
endpoint's grants and refusals, the tokens' lives, the install page, the signed
launch link, revocation, secret rotation, and the version served."""

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import Flask, request
from servers import serve
from simulator_fixtures import *  # noqa: F403 (clock, make_sim, sim, client, state)

TOKEN_URL = "/admin/oauth/access_token"
AUTHORIZE = "/admin/oauth/authorize"
SHOP = "/admin/api/2025-10/shop.json"
CLIENT = {"client_id": "sim_client_id", "client_secret": "sim_client_secret"}
CALLBACK = "https://app.example/auth/shopify/callback"
INSTALL = {"client_id": "sim_client_id", "scope": "write_draft_orders,read_orders",
           "redirect_uri": CALLBACK, "state": "nonce-123"}


def grant(client, **form):
    return client.post(TOKEN_URL, data={**CLIENT, **form})


def api_call(client, token, path=SHOP):
    return client.get(path, headers={"X-Shopify-Access-Token": token})


def signed_by(query, secret):
    """Our own check of Shopify's query hmac: the other parameters, sorted, name=value."""
    message = "&".join(f"{k}={v}" for k, v in sorted(query.items()) if k != "hmac")
    expected = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(query["hmac"], expected)


def installed_pair(client, **form):
    """An install's code exchanged for an expiring access token and a refresh token."""
    location = client.post(AUTHORIZE, data=INSTALL).headers["Location"]
    code = dict(parse_qsl(urlsplit(location).query))["code"]
    return grant(client, grant_type="authorization_code", code=code, expiring="1", **form).json


# --- client credentials

def test_client_credentials_give_a_token_for_a_day_without_refresh_token(client, state):
    answer = grant(client, grant_type="client_credentials")

    assert answer.status_code == 200
    assert answer.json["access_token"].startswith("shpat_")
    assert answer.json["expires_in"] == 86399
    assert answer.json["scope"] == ",".join(state.config["scopes"])
    assert "refresh_token" not in answer.json


def test_a_client_credentials_token_authorizes_api_calls(client):
    token = grant(client, grant_type="client_credentials").json["access_token"]

    assert api_call(client, token).status_code == 200


def test_the_token_endpoint_takes_a_json_body_too(client):
    answer = client.post(TOKEN_URL, json={**CLIENT, "grant_type": "client_credentials"})

    assert answer.status_code == 200


def test_a_wrong_client_secret_is_invalid_client_401(client):
    answer = grant(client, grant_type="client_credentials", client_secret="nope")

    assert answer.status_code == 401
    assert answer.json["error"] == "invalid_client"


def test_a_wrong_client_id_is_invalid_client_401(client):
    answer = grant(client, grant_type="client_credentials", client_id="other")

    assert (answer.status_code, answer.json["error"]) == (401, "invalid_client")


def test_client_credentials_for_another_organizations_app_are_shop_not_permitted(make_sim):
    client = make_sim(organization=False).test_client()

    answer = grant(client, grant_type="client_credentials")

    assert (answer.status_code, answer.json["error"]) == (400, "shop_not_permitted")
    assert answer.json["error_description"]


def test_client_credentials_for_an_app_not_installed_are_app_not_installed(make_sim):
    client = make_sim(installed=False).test_client()

    answer = grant(client, grant_type="client_credentials")

    assert (answer.status_code, answer.json["error"]) == (400, "app_not_installed")


def test_an_unknown_grant_type_is_unsupported_grant_type(client):
    answer = grant(client, grant_type="password")

    assert (answer.status_code, answer.json["error"]) == (400, "unsupported_grant_type")


def test_the_token_endpoint_needs_no_access_token_and_is_not_an_api_call(make_sim):
    sim = make_sim(bucket_size=1)
    client, state = sim.test_client(), sim.extensions["shopify_simulator"]

    answers = [grant(client, grant_type="client_credentials").status_code for _ in range(3)]

    assert answers == [200, 200, 200]
    assert state.snapshot("requests") == []


def test_token_requests_are_recorded_with_grant_type_time_and_status(client, clock):
    grant(client, grant_type="client_credentials")
    clock.advance(5)
    grant(client, grant_type="refresh_token", refresh_token="shprt_unknown")

    recorded = client.get("/_sim/token_requests").json["token_requests"]

    assert recorded == [
        {"grant_type": "client_credentials", "at": 1000.0, "status": 200, "error": None},
        {"grant_type": "refresh_token", "at": 1005.0, "status": 400, "error": "invalid_grant"},
    ]


# --- token lives

def test_a_client_credentials_token_expires_after_token_seconds(make_sim, clock):
    client = make_sim(token_seconds=60).test_client()
    token = grant(client, grant_type="client_credentials").json["access_token"]

    clock.advance(59)
    before = api_call(client, token).status_code
    clock.advance(1)
    after = api_call(client, token)

    assert before == 200
    assert after.status_code == 401
    assert after.json["errors"].startswith("[API] Invalid API key or access token")


def test_the_legacy_static_token_still_authorizes(client):
    assert api_call(client, "shpat_simulator_token").status_code == 200


def test_an_unknown_token_is_401(client):
    assert api_call(client, "shpat_made_up").status_code == 401


# --- the install: authorize page, code, and its exchange

def test_the_authorize_page_shows_the_app_its_scopes_and_an_install_button(client):
    page = client.get(AUTHORIZE, query_string=INSTALL)

    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "sim_client_id" in text and CALLBACK in text
    assert "<li>write_draft_orders</li>" in text and "<li>read_orders</li>" in text
    assert '<form method="post" action="/admin/oauth/authorize">' in text
    assert 'name="state" value="nonce-123"' in text
    assert "Install app</button>" in text


def test_the_authorize_page_refuses_an_unknown_client_id(client):
    page = client.get(AUTHORIZE, query_string={**INSTALL, "client_id": "someone_else"})

    assert page.status_code == 400
    assert "client_id" in page.get_data(as_text=True)
    assert "Install app</button>" not in page.get_data(as_text=True)


def test_the_authorize_page_refuses_a_redirect_uri_not_allowed(make_sim):
    client = make_sim(redirect_urls=["https://app.example/other"]).test_client()

    page = client.get(AUTHORIZE, query_string=INSTALL)
    install = client.post(AUTHORIZE, data=INSTALL)

    assert (page.status_code, install.status_code) == (400, 400)
    assert "redirect_uri" in page.get_data(as_text=True)


def test_installing_redirects_to_the_redirect_uri_with_a_signed_code(client):
    answer = client.post(AUTHORIZE, data=INSTALL)

    location = urlsplit(answer.headers["Location"])
    query = dict(parse_qsl(location.query))
    assert answer.status_code == 302
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    assert set(query) == {"code", "hmac", "host", "shop", "state", "timestamp"}
    assert (query["shop"], query["state"]) == ("simulator.myshopify.com", "nonce-123")
    assert base64.b64decode(query["host"]) == b"admin.shopify.com/store/simulator"
    assert query["timestamp"].isdigit()
    assert signed_by(query, "sim_client_secret")


def test_a_code_gives_an_expiring_token_and_a_refresh_token(client):
    pair = installed_pair(client)

    assert pair["access_token"].startswith("shpat_")
    assert pair["refresh_token"].startswith("shprt_")
    assert (pair["expires_in"], pair["refresh_token_expires_in"]) == (3600, 7776000)
    assert api_call(client, pair["access_token"]).status_code == 200


def test_a_code_without_grant_type_is_an_authorization_code_exchange(client):
    location = client.post(AUTHORIZE, data=INSTALL).headers["Location"]
    code = dict(parse_qsl(urlsplit(location).query))["code"]

    answer = grant(client, code=code, expiring="1")

    assert answer.status_code == 200
    assert answer.json["refresh_token"].startswith("shprt_")


def test_a_code_is_single_use(client):
    location = client.post(AUTHORIZE, data=INSTALL).headers["Location"]
    code = dict(parse_qsl(urlsplit(location).query))["code"]

    first = grant(client, grant_type="authorization_code", code=code, expiring="1")
    second = grant(client, grant_type="authorization_code", code=code, expiring="1")

    assert first.status_code == 200
    assert (second.status_code, second.json["error"]) == (400, "invalid_grant")


def test_a_code_expires_after_a_minute(client, clock):
    location = client.post(AUTHORIZE, data=INSTALL).headers["Location"]
    code = dict(parse_qsl(urlsplit(location).query))["code"]
    clock.advance(60)

    answer = grant(client, grant_type="authorization_code", code=code, expiring="1")

    assert (answer.status_code, answer.json["error"]) == (400, "invalid_grant")


def test_an_install_makes_the_app_installed(make_sim):
    sim = make_sim(installed=False)
    client, state = sim.test_client(), sim.extensions["shopify_simulator"]

    installed_pair(client)

    assert state.config["installed"] is True
    assert grant(client, grant_type="client_credentials").status_code == 200


def test_an_installed_token_expires_after_expiring_seconds(make_sim, clock):
    client = make_sim(expiring_seconds=120).test_client()
    pair = installed_pair(client)

    clock.advance(120)

    assert pair["expires_in"] == 120
    assert api_call(client, pair["access_token"]).status_code == 401


# --- refresh

def test_a_refresh_gives_a_new_pair(client):
    first = installed_pair(client)

    answer = grant(client, grant_type="refresh_token", refresh_token=first["refresh_token"])

    assert answer.status_code == 200
    assert answer.json["access_token"] != first["access_token"]
    assert answer.json["refresh_token"] != first["refresh_token"]
    assert answer.json["refresh_token_expires_in"] == 7776000
    assert api_call(client, answer.json["access_token"]).status_code == 200


def test_the_old_refresh_token_stays_usable_until_the_new_pair_is_used(client):
    first = installed_pair(client)
    old = first["refresh_token"]

    again = [grant(client, grant_type="refresh_token", refresh_token=old).status_code
             for _ in range(2)]

    assert again == [200, 200]


def test_using_the_new_access_token_retires_the_old_refresh_token(client):
    old = installed_pair(client)["refresh_token"]
    new = grant(client, grant_type="refresh_token", refresh_token=old).json

    api_call(client, new["access_token"])
    answer = grant(client, grant_type="refresh_token", refresh_token=old)

    assert (answer.status_code, answer.json["error"]) == (400, "invalid_grant")


def test_using_the_new_refresh_token_retires_the_old_one(client):
    old = installed_pair(client)["refresh_token"]
    new = grant(client, grant_type="refresh_token", refresh_token=old).json

    newer = grant(client, grant_type="refresh_token", refresh_token=new["refresh_token"])
    answer = grant(client, grant_type="refresh_token", refresh_token=old)

    assert newer.status_code == 200
    assert (answer.status_code, answer.json["error"]) == (400, "invalid_grant")


def test_an_expired_refresh_token_is_invalid_grant(make_sim, clock):
    client = make_sim(refresh_seconds=600).test_client()
    pair = installed_pair(client)
    clock.advance(600)

    answer = grant(client, grant_type="refresh_token", refresh_token=pair["refresh_token"])

    assert (answer.status_code, answer.json["error"]) == (400, "invalid_grant")


def test_an_expired_access_token_is_renewed_by_its_refresh_token(make_sim, clock):
    client = make_sim(expiring_seconds=60).test_client()
    pair = installed_pair(client)
    clock.advance(61)

    renewed = grant(client, grant_type="refresh_token", refresh_token=pair["refresh_token"]).json

    assert api_call(client, pair["access_token"]).status_code == 401
    assert api_call(client, renewed["access_token"]).status_code == 200


# --- revocation

def test_revoked_tokens_are_refused_and_refreshes_are_invalid_grant(client):
    pair = installed_pair(client)
    day = grant(client, grant_type="client_credentials").json["access_token"]

    revoked = client.post("/_sim/revoke")

    assert revoked.json["revoked"]["access_tokens"] == 2
    assert api_call(client, pair["access_token"]).status_code == 401
    assert api_call(client, day).status_code == 401
    answer = grant(client, grant_type="refresh_token", refresh_token=pair["refresh_token"])
    assert (answer.status_code, answer.json["error"]) == (400, "invalid_grant")


def test_revocation_leaves_the_legacy_token_and_new_grants_working(client):
    client.post("/_sim/revoke")

    assert api_call(client, "shpat_simulator_token").status_code == 200
    assert grant(client, grant_type="client_credentials").status_code == 200


def test_installed_is_settable_through_sim_config(client):
    client.post("/_sim/config", json={"installed": False})

    answer = grant(client, grant_type="client_credentials")

    assert answer.json["error"] == "app_not_installed"


# --- secret rotation

def test_during_a_rotation_either_secret_gets_a_token(make_sim):
    client = make_sim(client_secret="new_secret", previous_client_secret="old_secret").test_client()

    answers = [grant(client, grant_type="client_credentials", client_secret=secret).status_code
               for secret in ("new_secret", "old_secret", "other")]

    assert answers == [200, 200, 401]


def test_during_a_rotation_the_install_redirect_is_signed_with_the_previous_secret(make_sim):
    client = make_sim(client_secret="new_secret", previous_client_secret="old_secret").test_client()

    location = client.post(AUTHORIZE, data=INSTALL).headers["Location"]

    query = dict(parse_qsl(urlsplit(location).query))
    assert signed_by(query, "old_secret")
    assert not signed_by(query, "new_secret")


# --- launch link

def test_the_launch_link_opens_the_application_url_signed(make_sim):
    client = make_sim(application_url="https://app.example/auth/shopify").test_client()

    answer = client.get("/_sim/launch")

    location = urlsplit(answer.headers["Location"])
    query = dict(parse_qsl(location.query))
    assert answer.status_code == 302
    assert location.netloc + location.path == "app.example/auth/shopify"
    assert set(query) == {"hmac", "host", "shop", "timestamp"}
    assert query["shop"] == "simulator.myshopify.com"
    assert signed_by(query, "sim_client_secret")


def test_the_launch_link_takes_an_app_url_parameter(client):
    answer = client.get("/_sim/launch", query_string={"app_url": "http://127.0.0.1:9/a?x=1"})

    location = urlsplit(answer.headers["Location"])
    query = dict(parse_qsl(location.query))
    assert location.netloc + location.path == "127.0.0.1:9/a"
    assert query["x"] == "1"
    assert signed_by({k: v for k, v in query.items() if k != "x"}, "sim_client_secret")


def test_the_launch_link_without_an_application_url_is_400(client):
    assert client.get("/_sim/launch").status_code == 400


def test_the_launch_link_is_signed_with_the_previous_secret_during_a_rotation(make_sim):
    client = make_sim(application_url="https://app.example/", client_secret="new_secret",
                      previous_client_secret="old_secret").test_client()

    query = dict(parse_qsl(urlsplit(client.get("/_sim/launch").headers["Location"]).query))

    assert signed_by(query, "old_secret")


# --- webhook signing

@pytest.fixture
def webhook_from(make_sim):
    """The first webhook a simulator configured by `config` sends for an invoice,
    as it arrives at a loopback receiver: (raw body, X-Shopify-Hmac-Sha256)."""
    arrived = []
    catcher = Flask("catcher")

    @catcher.post("/hooks")
    def receive():
        arrived.append((request.get_data(), request.headers["X-Shopify-Hmac-Sha256"]))
        return "", 200

    with serve(catcher) as server:
        def first(**config):
            sim = make_sim(**config)
            client, state = sim.test_client(), sim.extensions["shopify_simulator"]
            state.subscribe("draft_orders/update", server.url + "/hooks", "2025-10")
            headers = {"X-Shopify-Access-Token": "shpat_simulator_token"}
            draft = client.post("/admin/api/2025-10/draft_orders.json", headers=headers, json={
                "draft_order": {"line_items": [{"variant_id": 1, "quantity": 1}],
                                "customer": {"id": 5}}}).json["draft_order"]
            client.post(f"/admin/api/2025-10/draft_orders/{draft['id']}/send_invoice.json",
                        headers=headers, json={"draft_order_invoice": {}})
            assert state.wait_for_webhooks(10)
            return arrived[0]
        yield first


def base64_hmac(secret, body):
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def test_webhooks_are_signed_with_the_client_secret_by_default(webhook_from):
    body, signature = webhook_from()

    assert signature == base64_hmac("sim_client_secret", body)


def test_webhooks_are_signed_with_the_previous_secret_during_a_rotation(webhook_from):
    body, signature = webhook_from(client_secret="new_secret", previous_client_secret="old_secret")

    assert signature == base64_hmac("old_secret", body)


def test_an_explicit_webhook_secret_signs_webhooks(webhook_from):
    body, signature = webhook_from(webhook_secret="whsec")

    assert signature == base64_hmac("whsec", body)


# --- the version served

def test_every_api_answer_names_the_version_served(client):
    answer = api_call(client, "shpat_simulator_token")

    assert answer.headers["X-Shopify-API-Version"] == "2025-10"


def test_an_unsupported_version_is_served_as_the_oldest_supported(make_sim):
    client = make_sim(supported_versions=["2026-01", "2025-10", "2025-07"]).test_client()

    answer = api_call(client, "shpat_simulator_token", "/admin/api/2024-01/shop.json")

    assert answer.status_code == 200
    assert answer.headers["X-Shopify-API-Version"] == "2025-07"


def test_a_supported_version_is_served_as_asked(make_sim):
    client = make_sim(supported_versions=["2026-01", "2025-10"]).test_client()

    answer = api_call(client, "shpat_simulator_token", "/admin/api/2026-01/shop.json")

    assert answer.headers["X-Shopify-API-Version"] == "2026-01"


def test_api_versions_still_404s_an_unknown_version_when_both_are_set(make_sim):
    client = make_sim(api_versions=["2025-10"], supported_versions=["2025-07"]).test_client()

    answer = api_call(client, "shpat_simulator_token", "/admin/api/2024-01/shop.json")

    assert answer.status_code == 404
    assert "X-Shopify-API-Version" not in answer.headers


def test_an_error_answer_names_the_version_served_too(client):
    answer = api_call(client, "shpat_wrong")

    assert answer.status_code == 401
    assert answer.headers["X-Shopify-API-Version"] == "2025-10"


# --- settings

@pytest.mark.parametrize("setting", [
    {"client_secret": ""}, {"organization": "yes"}, {"token_seconds": 0},
    {"supported_versions": ["latest"]}, {"redirect_urls": [None]}])
def test_bad_auth_settings_are_refused(make_sim, setting):
    with pytest.raises((ValueError, TypeError)):
        make_sim(**setting)


def test_a_code_that_is_not_a_string_is_invalid_grant(client):
    answer = client.post(TOKEN_URL, json={**CLIENT, "grant_type": "authorization_code",
                                          "code": ["x"], "expiring": 1})

    assert (answer.status_code, answer.json["error"]) == (400, "invalid_grant")
