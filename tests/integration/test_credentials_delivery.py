"""Delivery with a Dev Dashboard app's credentials: a 401 renews the token once
and the call is made again (one draft), a setup problem makes carts wait (never
fail) with the reason in /admin and the merchant told once, and the carts go
as soon as a restarted service can get a token."""

import base64
import json
from urllib.parse import parse_qs

import pytest
import responses
from helpers import API, SHOP, submit

from app.delivery.worker import Worker
from app.shopify.tokens import PROBLEM_RETRY_SECONDS

CREATE = f"{API}/draft_orders.json"
TOKEN_URL = f"{SHOP}/admin/oauth/access_token"
DRAFT = {"draft_order": {"id": 1069920479, "name": "#D5", "status": "open",
                         "invoice_url": f"{SHOP}/548380009/invoices/b21e68f2"}}
CREDENTIALS = {"SHOPIFY_ACCESS_TOKEN": "", "SHOPIFY_CLIENT_ID": "client-id-1",
               "SHOPIFY_CLIENT_SECRET": "client-secret-1"}


@pytest.fixture
def app(make_app):
    return make_app(**CREDENTIALS, ADMIN_PASSWORD="admin-pw",
                    NOTIFY_WEBHOOK_URL="https://hooks.example.com/T/B/x")


def worker_of(app, clock):
    core = app.extensions["worker"]
    return Worker(core.store, core.client, core.policy, core.lease_seconds, clock=clock,
                  follow_up=core.follow_up, notifier=core.notifier)


@pytest.fixture
def worker(app, clock):
    return worker_of(app, clock)


def granted(shopify, token):
    shopify.post(TOKEN_URL, json={"access_token": token, "scope": "write_draft_orders",
                                  "expires_in": 86399})


def refused(shopify, error="shop_not_permitted"):
    shopify.post(TOKEN_URL, status=400, json={"error": error})


def admin_page(client, path="/admin"):
    auth = base64.b64encode(b"merchant:admin-pw").decode()
    return client.get(path, headers={"Authorization": f"Basic {auth}"}).get_data(as_text=True)


def test_the_draft_is_posted_with_the_token_the_credentials_got(client, worker, shopify):
    granted(shopify, "shpat_from_credentials")
    create = shopify.post(CREATE, status=201, json=DRAFT)
    submit(client)
    assert worker.run_once()
    assert create.calls[0].request.headers["X-Shopify-Access-Token"] == "shpat_from_credentials"


def test_a_401_mid_delivery_renews_the_token_once_and_makes_one_draft(client, worker, shopify,
                                                                      store):
    granted(shopify, "shpat_revoked_meanwhile")
    granted(shopify, "shpat_renewed")
    shopify.post(CREATE, status=401, json={"errors": "[API] Invalid API key or access token"})
    shopify.post(CREATE, status=201, json=DRAFT)
    event_id = submit(client)["id"]
    assert worker.run_once()
    event = store.get(event_id)
    assert event["status"] == "completed" and event["draft_order_id"] == 1069920479
    posts = [call.request for call in shopify.calls if call.request.url == CREATE]
    assert [post.headers["X-Shopify-Access-Token"] for post in posts] == [
        "shpat_revoked_meanwhile", "shpat_renewed"]
    tokens = [call for call in shopify.calls if call.request.url == TOKEN_URL]
    assert len(tokens) == 2


def test_a_401_to_a_fresh_token_makes_the_cart_wait_not_fail(client, worker, shopify, store):
    granted(shopify, "shpat_one")
    granted(shopify, "shpat_two")
    shopify.post(CREATE, status=401, json={"errors": "[API] Invalid API key"})
    shopify.post(CREATE, status=401, json={"errors": "[API] Invalid API key"})
    event_id = submit(client)["id"]
    worker.run_once()
    event = store.get(event_id)
    assert event["status"] != "failed"
    assert event["error_code"] == "shopify_unauthorized"
    assert not worker.run_once()  # no call until the setup changes: never a loop


def test_a_setup_problem_makes_carts_wait_with_the_reason_in_admin(client, worker, shopify,
                                                                   store):
    refused(shopify)
    first, second = submit(client)["id"], submit(client, note="another")["id"]
    assert worker.run_once()
    assert not worker.run_once()  # the second waits without a claim or a token call
    for event_id in (first, second):
        assert store.get(event_id)["status"] in ("queued", "processing")
    assert store.get(first)["attempts"] == 0
    assert store.get(first)["error_code"] == "shop_not_permitted"
    page = admin_page(client)
    assert "shop_not_permitted" in page and "/auth/shopify" in page
    assert len(shopify.calls) == 1


def test_the_merchant_is_told_of_a_setup_problem_once(client, worker, shopify, store, clock):
    refused(shopify)
    refused(shopify)
    submit(client)
    worker.run_once()
    clock.advance(PROBLEM_RETRY_SECONDS + 1)
    worker.client.tokens._blocked_until = 0  # as a minute later
    worker.run_once()
    with store._connect() as conn:
        rows = conn.execute("SELECT kind, body FROM notifications").fetchall()
    assert [row["kind"] for row in rows] == ["credentials_problem"]
    assert "client-secret-1" not in rows[0]["body"]


def test_waiting_carts_go_at_once_after_the_restart_that_fixed_the_setup(
        make_app, client, worker, shopify, store, clock):
    refused(shopify, "invalid_client")
    event_id = submit(client)["id"]
    worker.run_once()
    restarted = make_app(**{**CREDENTIALS, "SHOPIFY_CLIENT_SECRET": "the-right-secret"})
    granted(shopify, "shpat_fixed")
    shopify.post(CREATE, status=201, json=DRAFT)
    assert worker_of(restarted, clock).run_once()  # no backoff to wait out
    event = store.get(event_id)
    assert event["status"] == "completed" and event["error_code"] is None
    assert parse_qs(shopify.calls[-2].request.body)["client_secret"] == ["the-right-secret"]


def test_a_failing_token_endpoint_backs_off_as_any_shopify_call(client, worker, shopify,
                                                                store, clock):
    shopify.post(TOKEN_URL, status=503)
    event_id = submit(client)["id"]
    assert worker.run_once()
    event = store.get(event_id)
    assert event["failures"] == 1 and event["maybe_posted"] == 0
    assert event["next_attempt_at"] > clock() + 1
    granted(shopify, "shpat_back")
    shopify.post(CREATE, status=201, json=DRAFT)
    clock.advance(10)
    assert worker.run_once()
    assert store.get(event_id)["status"] == "completed"


def test_no_secret_reaches_a_stored_answer_or_the_status_document(client, worker, shopify,
                                                                  store):
    granted(shopify, "shpat_secret_token_value")
    shopify.post(CREATE, status=422, json={"errors": {"base": ["shpat_secret_token_value"]}})
    queued = submit(client)
    worker.run_once()
    stored = store.answers(queued["id"])
    assert "shpat_secret_token_value" not in str(stored)
    assert "shpat_secret_token_value" not in client.get(queued["status_url"]).get_data(
        as_text=True)


@pytest.fixture
def shopify():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def test_the_retry_after_a_401_is_flagged_again_before_it_leaves(client, app, worker,
                                                                  shopify, store):
    granted(shopify, "shpat_one")
    granted(shopify, "shpat_two")
    shopify.post(CREATE, status=401, json={"errors": "[API] Invalid API key"})
    shopify.post(CREATE, status=201, json=DRAFT)
    flagged = []
    mark = store.mark_posting
    store.mark_posting = lambda *args, **kwargs: flagged.append(args[2]) or mark(*args, **kwargs)
    submit(client)
    worker.run_once()
    assert len(flagged) == 2  # before the first POST, and again before the retry


def test_a_refused_fresh_token_tells_the_merchant_once_and_is_never_sent_again(
        client, worker, shopify, store, clock):
    for minute in range(3):
        granted(shopify, f"shpat_{minute}_a")
        shopify.post(CREATE, status=401, json={"errors": "[API] Invalid API key"})
        granted(shopify, f"shpat_{minute}_b")
        shopify.post(CREATE, status=401, json={"errors": "[API] Invalid API key"})
    submit(client)
    for _ in range(3):
        worker.run_once()
        worker.client.tokens._blocked_until = 0  # as a minute later
    sent = [call.request.headers.get("X-Shopify-Access-Token") for call in shopify.calls
            if call.request.url == CREATE]
    assert len(sent) == len(set(sent))  # no refused token sent twice
    with store._connect() as conn:
        assert conn.execute("SELECT COUNT(*) AS n FROM notifications").fetchone()["n"] == 1


@pytest.mark.slow
def test_a_worker_waiting_on_the_setup_idles_instead_of_spinning(app, client, shopify, store):
    import threading
    refused(shopify)
    submit(client)
    core = app.extensions["worker"]
    looks = []
    due = store.next_due_at
    store.next_due_at = lambda **kwargs: looks.append(1) or due(**kwargs)
    stop = threading.Event()
    thread = threading.Thread(target=core.run_forever, args=(stop,))
    thread.start()
    stop.wait(1.5)
    stop.set()
    thread.join(5)
    assert len(looks) < 10  # idle polls, not a loop a thousand times a second


def test_admin_says_at_the_top_that_carts_wait_and_why(client, worker, shopify):
    refused(shopify)
    submit(client)
    worker.run_once()
    page = admin_page(client)
    assert "Carts are waiting" in page
    assert "install the app through PUBLIC_URL/auth/shopify" in page


def test_the_merchant_s_message_says_carts_wait_and_why(app):
    from app.notifications.messages import credentials_messages
    [row] = credentials_messages("shop_not_permitted", "Install it.", app.config, 0.0)
    body = json.loads(row["body"])
    assert (row["kind"], row["channel"]) == ("credentials_problem", "webhook")
    assert body["event"] == "shop.credentials_problem" and body["event_id"] is None
    assert body["error"] == {"code": "shop_not_permitted", "detail": "Install it."}
    assert body["text"].startswith("Carts are waiting")
