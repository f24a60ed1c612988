"""The shop's access token from a Dev Dashboard app's client id and secret: got
by the client credentials grant or an install's refresh token, kept encrypted in
the store, renewed ahead of expiry, and a setup problem recorded once."""

import json
from urllib.parse import parse_qs

import pytest
import responses
from helpers import SHOP, Clock

from app.shopify.oauth import INSTALLED, Grant, Refusal
from app.shopify.tokens import (
    PROBLEM_RETRY_SECONDS,
    CredentialsUnavailable,
    ManagedToken,
    TokenUnavailable,
    renew_at,
)
from app.store import open_store

TOKEN_URL = f"{SHOP}/admin/oauth/access_token"
CLIENT_ID, SECRET, OLD_SECRET = "client-id-1", "client-secret-new", "client-secret-old"


@pytest.fixture
def store(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'events.sqlite3'}")
    store.migrate()
    return store


@pytest.fixture
def clock():
    return Clock(at=1_800_000_000.0)


def managed(store, clock, secrets=(SECRET,), notified=None):
    def notifications(code, detail, now):
        if notified is not None:
            notified.append(code)
        return ({"kind": "credentials_problem", "channel": "webhook", "body": "{}"},)
    return ManagedToken(store, SHOP, CLIENT_ID, secrets, timeout=5, clock=clock,
                        notifications=notifications, sleep=lambda seconds: None)


def granted(mock, token, expires_in=86399, **extra):
    mock.add(responses.POST, TOKEN_URL,
             json={"access_token": token, "scope": "write_draft_orders", "expires_in": expires_in,
                   **extra})


def forms(mock):
    return [parse_qs(call.request.body) for call in mock.calls]


def test_the_client_credentials_grant_gets_the_first_token(shopify, store, clock):
    granted(shopify, "shpat_first")
    assert managed(store, clock).current() == "shpat_first"
    form = forms(shopify)[0]
    assert form == {"grant_type": ["client_credentials"], "client_id": [CLIENT_ID],
                    "client_secret": [SECRET]}
    assert shopify.calls[0].request.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_a_token_serves_until_the_last_tenth_of_its_life_without_asking_again(
        shopify, store, clock):
    granted(shopify, "shpat_first")
    tokens = managed(store, clock)
    tokens.current()
    clock.advance(86399 - 300 - 1)  # a day's token: renewed in its last five minutes
    assert tokens.current() == "shpat_first"
    assert len(shopify.calls) == 1


def test_a_token_is_renewed_ahead_of_expiry_and_never_used_expired(shopify, store, clock):
    granted(shopify, "shpat_first", expires_in=100)
    granted(shopify, "shpat_second", expires_in=100)
    tokens = managed(store, clock)
    tokens.current()
    clock.advance(91)  # in the last tenth of a 100-second life
    assert tokens.current() == "shpat_second"


def test_renewal_is_due_in_the_last_tenth_of_a_life_and_at_most_five_minutes_before(clock):
    assert renew_at(0, 3600) == 3300
    assert renew_at(0, 100) == 90
    assert renew_at(0, 86399) == 86099


def test_the_token_is_encrypted_at_rest(shopify, store, clock):
    granted(shopify, "shpat_plain_text_token")
    managed(store, clock).current()
    row = store.credentials()
    assert "shpat_plain_text_token" not in json.dumps(row)
    with open(store.path, "rb") as database:
        assert b"shpat_plain_text_token" not in database.read()


def test_another_process_shares_the_stored_token(shopify, store, clock):
    granted(shopify, "shpat_shared")
    managed(store, clock).current()
    assert managed(store, clock).current() == "shpat_shared"
    assert len(shopify.calls) == 1


def test_a_token_sealed_with_the_previous_secret_is_read_during_a_rotation(
        shopify, store, clock):
    granted(shopify, "shpat_before_rotation")
    managed(store, clock, secrets=(OLD_SECRET,)).current()
    rotated = managed(store, clock, secrets=(SECRET, OLD_SECRET))
    assert rotated.current() == "shpat_before_rotation"
    assert len(shopify.calls) == 1


def test_a_token_no_secret_opens_is_replaced(shopify, store, clock):
    granted(shopify, "shpat_sealed_with_a_revoked_secret")
    granted(shopify, "shpat_new")
    managed(store, clock, secrets=(OLD_SECRET,)).current()
    assert managed(store, clock, secrets=(SECRET,)).current() == "shpat_new"


def test_a_setup_refusal_is_recorded_and_the_merchant_notified_once(shopify, store, clock):
    shopify.add(responses.POST, TOKEN_URL, status=400,
                json={"error": "shop_not_permitted", "error_description": "Not permitted"})
    notified = []
    tokens = managed(store, clock, notified=notified)
    for _ in range(2):
        with pytest.raises(CredentialsUnavailable) as raised:
            tokens.current()
        assert raised.value.code == "shop_not_permitted"
        assert "/auth/shopify" in raised.value.detail
    assert len(shopify.calls) == 1  # the second call knew, without asking
    clock.advance(PROBLEM_RETRY_SECONDS + 1)
    with pytest.raises(CredentialsUnavailable):
        tokens.current()
    assert len(shopify.calls) == 2
    assert notified == ["shop_not_permitted"] * 2  # built each time, queued only when new
    assert tokens.status().problem[0] == "shop_not_permitted"
    with store._connect() as conn:
        assert conn.execute("SELECT COUNT(*) AS n FROM notifications").fetchone()["n"] == 1


def test_a_restarted_process_asks_again_at_once(shopify, store, clock):
    shopify.add(responses.POST, TOKEN_URL, status=400, json={"error": "app_not_installed"})
    granted(shopify, "shpat_after_the_fix")
    with pytest.raises(CredentialsUnavailable):
        managed(store, clock).current()
    assert managed(store, clock).current() == "shpat_after_the_fix"
    assert managed(store, clock).status().problem is None


def test_wrong_credentials_are_a_setup_problem_naming_the_settings(shopify, store, clock):
    shopify.add(responses.POST, TOKEN_URL, status=401, json={"error": "invalid_client"})
    with pytest.raises(CredentialsUnavailable) as raised:
        managed(store, clock).current()
    assert "SHOPIFY_CLIENT_SECRET" in raised.value.detail
    assert SECRET not in raised.value.detail


@pytest.mark.parametrize("answer", [{"status": 503, "body": "busy"},
                                    {"status": 200, "json": {"access_token": 42}},
                                    {"status": 200, "json": {"access_token": "a b"}},
                                    {"status": 200, "json": {"access_token": "t",
                                                             "expires_in": -1}}])
def test_a_failing_or_odd_token_endpoint_is_tried_again_later(shopify, store, clock, answer):
    shopify.add(responses.POST, TOKEN_URL, **answer)
    tokens = managed(store, clock)
    with pytest.raises(TokenUnavailable):
        tokens.current()
    assert tokens.status().problem is None


def test_a_failed_renewal_goes_on_with_the_old_token_while_it_lasts(shopify, store, clock):
    granted(shopify, "shpat_old", expires_in=1000)
    shopify.add(responses.POST, TOKEN_URL, status=502)
    tokens = managed(store, clock)
    tokens.current()
    clock.advance(950)
    assert tokens.current() == "shpat_old"


def test_a_refused_token_is_renewed_at_once(shopify, store, clock):
    granted(shopify, "shpat_first")
    granted(shopify, "shpat_second")
    tokens = managed(store, clock)
    first = tokens.current()
    assert tokens.refused(first) == "shpat_second"
    assert tokens.current() == "shpat_second"


def test_a_token_refused_after_another_renewed_it_takes_the_new_one(shopify, store, clock):
    granted(shopify, "shpat_first", expires_in=100)
    granted(shopify, "shpat_second", expires_in=100)
    one, other = managed(store, clock), managed(store, clock)
    first = one.current()
    clock.advance(95)
    assert other.current() == "shpat_second"
    assert one.refused(first) == "shpat_second"
    assert len(shopify.calls) == 2


def install(tokens, shopify, access="shpat_installed", refresh="shprt_first", expires_in=3600):
    shopify.add(responses.POST, TOKEN_URL, json={
        "access_token": access, "scope": "write_draft_orders", "expires_in": expires_in,
        "refresh_token": refresh, "refresh_token_expires_in": 7776000})
    return tokens.install("the-code")


def test_an_install_trades_the_code_for_an_expiring_offline_token(shopify, store, clock):
    tokens = managed(store, clock)
    grant = install(tokens, shopify)
    assert isinstance(grant, Grant)
    assert forms(shopify)[0] == {"client_id": [CLIENT_ID], "client_secret": [SECRET],
                                 "code": ["the-code"], "expiring": ["1"]}
    assert tokens.current() == "shpat_installed"
    assert tokens.status().kind == INSTALLED


def test_an_installed_token_is_refreshed_with_its_refresh_token(shopify, store, clock):
    tokens = managed(store, clock)
    install(tokens, shopify)
    shopify.add(responses.POST, TOKEN_URL, json={
        "access_token": "shpat_refreshed", "scope": "write_draft_orders", "expires_in": 3600,
        "refresh_token": "shprt_second", "refresh_token_expires_in": 7776000})
    clock.advance(3600 - 299)
    assert tokens.current() == "shpat_refreshed"
    assert forms(shopify)[1] == {"grant_type": ["refresh_token"], "client_id": [CLIENT_ID],
                                 "client_secret": [SECRET], "refresh_token": ["shprt_first"]}
    clock.advance(3600 - 299)
    shopify.add(responses.POST, TOKEN_URL, json={
        "access_token": "shpat_third", "expires_in": 3600, "refresh_token": "shprt_third",
        "refresh_token_expires_in": 7776000})
    tokens.current()
    assert forms(shopify)[2]["refresh_token"] == ["shprt_second"]  # each refresh, a new pair


def test_a_gone_refresh_token_asks_the_merchant_to_install_again(shopify, store, clock):
    tokens = managed(store, clock)
    install(tokens, shopify)
    shopify.add(responses.POST, TOKEN_URL, status=400, json={"error": "invalid_grant"})
    clock.advance(3600)
    with pytest.raises(CredentialsUnavailable) as raised:
        tokens.current()
    assert raised.value.code == "invalid_grant"
    assert "install the app again" in raised.value.detail


def test_an_expired_refresh_token_is_not_even_sent(shopify, store, clock):
    tokens = managed(store, clock)
    install(tokens, shopify)
    clock.advance(7776000 + 1)
    with pytest.raises(CredentialsUnavailable):
        tokens.current()
    assert len(shopify.calls) == 1


def test_an_install_answer_without_a_refresh_token_is_refused(shopify, store, clock):
    shopify.add(responses.POST, TOKEN_URL, json={"access_token": "shpat_x", "expires_in": 3600})
    result = managed(store, clock).install("the-code")
    assert isinstance(result, Refusal)
    assert store.credentials() is None


def test_a_process_waiting_on_a_problem_stops_waiting_once_another_stored_a_token(
        shopify, store, clock):
    shopify.add(responses.POST, TOKEN_URL, status=400, json={"error": "shop_not_permitted"})
    waiting, installing = managed(store, clock), managed(store, clock)
    with pytest.raises(CredentialsUnavailable):
        waiting.current()
    assert waiting.waiting_until() > clock()
    install(installing, shopify)
    assert waiting.waiting_until() == 0.0
    assert waiting.current() == "shpat_installed"


def test_an_answer_nested_past_any_use_is_tried_again_and_the_old_token_serves(
        shopify, store, clock):
    granted(shopify, "shpat_old", expires_in=1000)
    shopify.add(responses.POST, TOKEN_URL, body="[" * 100_000 + "]" * 100_000)
    tokens = managed(store, clock)
    tokens.current()
    clock.advance(950)
    assert tokens.current() == "shpat_old"
    assert store.credentials()["renewing_owner"] is None


def test_a_token_of_less_than_a_second_is_no_answer(shopify, store, clock):
    granted(shopify, "shpat_spent", expires_in=1e-9)
    with pytest.raises(TokenUnavailable):
        managed(store, clock).current()


def test_a_problem_met_after_an_install_took_the_lease_is_not_recorded(shopify, store, clock):
    tokens = managed(store, clock)
    install(tokens, shopify)
    store.begin_renewal(CLIENT_ID, "a-dying-renewal", clock(), clock() + 10)
    install(managed(store, clock), shopify, access="shpat_reinstalled", refresh="shprt_2")
    assert not store.end_renewal("a-dying-renewal", clock(), ("invalid_grant", "gone"),
                                 ({"kind": "k", "channel": "webhook", "body": "{}"},))
    assert store.credentials()["problem_code"] is None
    with store._connect() as conn:
        assert conn.execute("SELECT COUNT(*) AS n FROM notifications").fetchone()["n"] == 0


def test_a_scope_that_is_no_short_printable_text_is_not_kept(shopify, store, clock):
    granted(shopify, "shpat_x", scope="write_draft_orders\x1b[31m")
    tokens = managed(store, clock)
    tokens.current()
    assert tokens.status().scope == ""
