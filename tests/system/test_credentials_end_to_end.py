"""The receiver under its Procfile command, connected with a Dev Dashboard
app's client id and secret, against the simulator: tokens of a few seconds are
renewed ahead of expiry and every cart still becomes one draft order, through
either API; a revoked token is renewed after one 401, with no second draft."""

import time

import pytest
import requests
from helpers import SECRET, cart_body
from servers import procfile_receiver

pytestmark = pytest.mark.slow  # the Procfile's receiver: seconds a test

CLIENT_ID, CLIENT_SECRET = "e2e_client_id", "e2e_client_secret"


def receiver(tmp_path, shop, api):
    return procfile_receiver(tmp_path, shop.url, "", SECRET, SHOPIFY_CLIENT_ID=CLIENT_ID,
                             SHOPIFY_CLIENT_SECRET=CLIENT_SECRET, SHOPIFY_API=api,
                             SEND_INVOICE="0", RECONCILE_DAYS="0")


def completed(web, note, timeout=30):
    """Send a cart with its own note; its status document once it has an outcome."""
    answer = requests.post(f"{web.url}/webhooks/cart", json=cart_body(note=note), timeout=5)
    assert answer.status_code == 202, answer.text
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        document = requests.get(answer.json()["status_url"], timeout=5).json()
        if document["status"] in ("completed", "failed"):
            return document
        time.sleep(0.1)
    raise AssertionError(f"the cart {note!r} was still {document['status']}")


def grants(shop):
    return [request["grant_type"] for request in shop.state.snapshot("token_requests")]


@pytest.mark.parametrize("api", ["rest", "graphql"])
def test_short_lived_tokens_are_renewed_ahead_and_every_cart_becomes_a_draft(
        tmp_path, start_simulator, api):
    shop = start_simulator("shpat_unused_legacy", client_id=CLIENT_ID,
                           client_secret=CLIENT_SECRET, token_seconds=3)
    with receiver(tmp_path, shop, api) as web:
        for number in range(4):
            assert completed(web, f"cart {number}")["status"] == "completed"
            time.sleep(1.5)
        log = web.log()
    assert len(shop.state.draft_orders) == 4
    assert grants(shop).count("client_credentials") >= 2
    assert CLIENT_SECRET not in log and "shpat_" not in log


def test_a_revoked_token_is_renewed_after_one_401_and_the_cart_makes_one_draft(
        tmp_path, start_simulator):
    shop = start_simulator("shpat_unused_legacy", client_id=CLIENT_ID,
                           client_secret=CLIENT_SECRET)
    with receiver(tmp_path, shop, "rest") as web:
        assert completed(web, "before")["status"] == "completed"
        requests.post(f"{shop.url}/_sim/revoke", timeout=5).raise_for_status()
        document = completed(web, "after")
    assert document["status"] == "completed"
    assert len(shop.state.draft_orders) == 2
    assert grants(shop) == ["client_credentials", "client_credentials"]
