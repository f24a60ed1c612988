"""The merchant's event log at /admin: auth, listing, detail, and retrying a failed event."""

import html
import re

import pytest
from helpers import API, SECRET, SHOP, TOKEN, Clock, add_event, cart_body, submit
from itsdangerous import URLSafeTimedSerializer

from app.store import stored_payload
from app.web import admin
from app.web.lockout import LoginThrottle

PASSWORD = "correct horse battery staple"
AUTH = ("merchant", PASSWORD)
CREATE = f"{API}/draft_orders.json"
EMPTY = stored_payload({"draft_order": {"line_items": []}})  # a payload of no lines
DRAFT = {"draft_order": {"id": 1069920479, "name": "#D5", "status": "open",
                         "invoice_url": f"{SHOP}/548380009/invoices/b21e68f2"}}
REJECTED = {"errors": {"line_items": ["Variant 39072856 does not exist"]}}
SAME_ORIGIN = {"Origin": "http://localhost"}


@pytest.fixture
def app(make_app):
    return make_app(ADMIN_PASSWORD=PASSWORD)


def page(client, path):
    response = client.get(path, auth=AUTH)
    assert response.status_code == 200, response.get_data(as_text=True)
    return html.unescape(response.get_data(as_text=True))


def table_rows(text):
    return re.findall(r"<tr>(.*?)</tr>", text.split("<tbody>", 1)[1], re.S)


def failed_event(client, worker):
    """A cart Shopify rejects; the test registers the 422 on `shopify` first."""
    event_id = submit(client)["id"]
    assert worker.run_once()
    return event_id


def form_token(client, event_id):
    match = re.search(r'name="csrf_token" value="([^"]+)"',
                      page(client, f"/admin/events/{event_id}"))
    assert match, "no retry form on the event page"
    return match.group(1)


def post_retry(client, event_id, token, headers=SAME_ORIGIN):
    data = {} if token is None else {"csrf_token": token}
    return client.post(f"/admin/events/{event_id}/retry", data=data, auth=AUTH, headers=headers)


def test_no_credentials_get_401_with_a_basic_challenge(client):
    response = client.get("/admin")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="Draft orders"'


def test_wrong_password_gets_401(client):
    response = client.get("/admin", auth=("merchant", "guess"))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="Draft orders"'


def test_right_password_with_any_user_name_gets_the_log(client):
    assert client.get("/admin", auth=("anyone", PASSWORD)).status_code == 200


def test_retry_requires_the_password(client, store):
    add_event(store, "e1", 1000.0)
    response = client.post("/admin/events/e1/retry", data={"csrf_token": "x"})
    assert response.status_code == 401


def test_admin_is_404_when_no_password_is_set(make_app):
    client = make_app(ADMIN_PASSWORD="").test_client()
    assert client.get("/admin", auth=AUTH).status_code == 404
    assert client.get("/admin/events/e1", auth=AUTH).status_code == 404


def test_list_shows_newest_first(client, store):
    for number, now in enumerate((1000.0, 3000.0, 2000.0), start=1):
        add_event(store, f"event-{number}", now)
    text = page(client, "/admin")
    positions = [text.index(f"/admin/events/event-{n}") for n in (2, 3, 1)]
    assert positions == sorted(positions)


def test_list_shows_received_time_in_utc_lines_and_status(client, store):
    add_event(store, "e1", 1_700_000_000.0, lines=3)
    [row] = table_rows(page(client, "/admin"))
    assert "2023-11-14 22:13:20 UTC" in row
    assert "<td>3</td>" in row
    assert ">queued<" in row


def test_list_shows_guest_or_verified_customer(client, store):
    add_event(store, "guest-cart", 1000.0, customer_id=None)
    add_event(store, "customer-cart", 2000.0, customer_id=207119551)
    customer_row, guest_row = table_rows(page(client, "/admin"))
    assert "207119551" in customer_row and "guest" not in customer_row
    assert "guest" in guest_row


def test_list_links_the_draft_order_to_the_shop_admin(client, worker, shopify):
    shopify.post(CREATE, status=201, json=DRAFT)
    submit(client)
    worker.run_once()
    [row] = table_rows(page(client, "/admin"))
    assert f'<a href="{SHOP}/admin/draft_orders/1069920479" rel="noreferrer">#D5</a>' in row
    assert ">completed<" in row


def test_list_shows_a_failed_event_with_its_error(client, worker, shopify):
    shopify.post(CREATE, status=422, json=REJECTED)
    failed_event(client, worker)
    [row] = table_rows(page(client, "/admin"))
    assert ">failed<" in row
    assert "shopify_rejected" in row
    assert "Variant 39072856 does not exist" in row


def test_list_is_paginated_with_next_and_previous_links(client, store, monkeypatch):
    monkeypatch.setattr(admin, "PAGE_SIZE", 2)
    for number in range(1, 6):
        add_event(store, f"event-{number}", 1000.0 + number)

    first = page(client, "/admin")
    assert [n for n in range(1, 6) if f"events/event-{n}\"" in first] == [4, 5]
    assert 'href="/admin?page=2"' in first and 'rel="prev"' not in first

    last = page(client, "/admin?page=3")
    assert [n for n in range(1, 6) if f"events/event-{n}\"" in last] == [1]
    assert 'href="/admin?page=2"' in last and 'rel="next"' not in last


def test_page_numbers_out_of_range_show_the_nearest_page(client, store):
    add_event(store, "e1", 1000.0)
    assert "events/e1" in page(client, "/admin?page=99")
    assert "events/e1" in page(client, "/admin?page=-4")


def test_detail_shows_received_cart_payload_and_calls(client, worker, shopify):
    shopify.post(CREATE, status=201, json=DRAFT)
    event_id = submit(client)["id"]
    worker.run_once()
    text = page(client, f"/admin/events/{event_id}")
    assert '"token": "c1-abc"' in text
    assert '"Engraving": "Für dich ♥"' in text                      # the cart as received
    assert '"name": "Engraving",\n' in text                         # the payload as sent
    assert "<dt>Shopify calls</dt><dd>1</dd>" in text


def delivered_after_a_503(client, worker, shopify, clock):
    """An event delivered in three calls: a 503, the lookup that finds no draft,
    then the draft. Returns its id."""
    shopify.post(CREATE, status=503, body="upstream unavailable")
    shopify.get(CREATE, json={"draft_orders": []})
    shopify.post(CREATE, status=201, json=DRAFT)
    event_id = submit(client)["id"]
    worker.run_once()
    clock.advance(600)
    worker.run_once()
    worker.run_once()
    return event_id


def test_detail_counts_failed_calls_apart_from_calls(client, worker, shopify, clock):
    event_id = delivered_after_a_503(client, worker, shopify, clock)

    text = page(client, f"/admin/events/{event_id}")

    assert "<dt>Shopify calls</dt><dd>3</dd>" in text
    assert "<dt>Failed calls</dt><dd>1</dd>" in text


def test_detail_shows_every_shopify_answer(client, worker, shopify, clock):
    event_id = delivered_after_a_503(client, worker, shopify, clock)
    text = page(client, f"/admin/events/{event_id}")
    answers = re.findall(r'<section class="answer">(.*?)</section>', text, re.S)
    assert len(answers) == 3
    assert f"POST {CREATE}" in answers[0] and "<strong>503</strong>" in answers[0]
    assert "upstream unavailable" in answers[0]
    assert f"GET {CREATE}?updated_at_min=" in answers[1] and "<strong>200</strong>" in answers[1]
    assert "<strong>201</strong>" in answers[2] and '"name": "#D5"' in answers[2]


def test_detail_of_unknown_event_is_404(client):
    assert client.get("/admin/events/nope", auth=AUTH).status_code == 404


def test_retry_requeues_a_failed_event_and_the_worker_completes_it(client, store, worker,
                                                                   shopify):
    shopify.post(CREATE, status=422, json=REJECTED)
    shopify.post(CREATE, status=201, json=DRAFT)
    event_id = failed_event(client, worker)

    response = post_retry(client, event_id, form_token(client, event_id))
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/events/{event_id}"
    event = store.get(event_id)
    assert (event["status"], event["error_code"], event["error_detail"]) == ("queued", None, None)
    assert event["attempts"] == 1

    assert worker.run_once()
    event = store.get(event_id)
    assert (event["status"], event["draft_order_name"]) == ("completed", "#D5")
    assert event["attempts"] == 2
    assert [answer["status"] for answer in store.answers(event_id)] == [422, 201]


def test_retry_resets_counters_and_polling(store):
    add_event(store, "e1", 1000.0)
    event = store.claim("w", 1000.0, 60)
    store.settle("e1", "w", 1001.0, attempts=3, failures=2, throttles=4, poll_url="x",
                 poll_deadline=2000.0, status="failed", error_code="poll_timeout",
                 error_detail="gave up")
    assert store.retry(event["id"], 5000.0)
    event = store.get("e1")
    assert (event["failures"], event["throttles"], event["poll_url"], event["poll_deadline"],
            event["next_attempt_at"], event["attempts"]) == (0, 0, None, None, 5000.0, 3)


def test_retry_without_the_form_token_is_refused(client, store, worker, shopify):
    shopify.post(CREATE, status=422, json=REJECTED)
    event_id = failed_event(client, worker)
    assert post_retry(client, event_id, None).status_code == 403
    assert store.get(event_id)["status"] == "failed"


def test_retry_with_a_token_signed_by_another_key_is_refused(client, store, worker, shopify):
    shopify.post(CREATE, status=422, json=REJECTED)
    event_id = failed_event(client, worker)
    forged = URLSafeTimedSerializer("guessed-key", salt="admin-retry").dumps(event_id)
    assert post_retry(client, event_id, forged).status_code == 403
    assert store.get(event_id)["status"] == "failed"


def test_retry_with_another_events_token_is_refused(app, client, store, worker, shopify):
    shopify.post(CREATE, status=422, json=REJECTED)
    event_id = failed_event(client, worker)
    with app.app_context():
        other = admin.retry_token("another-event")
    assert post_retry(client, event_id, other).status_code == 403


def test_retry_with_an_expired_token_is_refused(client, worker, shopify, monkeypatch):
    shopify.post(CREATE, status=422, json=REJECTED)
    event_id = failed_event(client, worker)
    token = form_token(client, event_id)
    monkeypatch.setattr(admin, "RETRY_TOKEN_MAX_AGE", -1)
    assert post_retry(client, event_id, token).status_code == 403


def test_a_shoppers_status_token_is_not_a_retry_token(client, worker, shopify):
    shopify.post(CREATE, status=422, json=REJECTED)
    response = client.post("/webhooks/cart", json=cart_body())
    event_id, status_url = response.get_json()["id"], response.get_json()["status_url"]
    worker.run_once()
    assert post_retry(client, event_id, status_url.rsplit("/", 1)[1]).status_code == 403


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
], ids=["foreign-origin", "null-origin", "cross-site", "same-site"])
def test_retry_from_another_site_is_refused_even_with_a_valid_token(client, store, worker,
                                                                    shopify, headers):
    shopify.post(CREATE, status=422, json=REJECTED)
    event_id = failed_event(client, worker)
    assert post_retry(client, event_id, form_token(client, event_id), headers).status_code == 403
    assert store.get(event_id)["status"] == "failed"


def test_retry_of_a_completed_event_is_refused(app, client, store, worker, shopify):
    shopify.post(CREATE, status=201, json=DRAFT)
    event_id = submit(client)["id"]
    worker.run_once()
    with app.app_context():
        token = admin.retry_token(event_id)
    response = post_retry(client, event_id, token)
    assert response.status_code == 409
    assert "this one is completed" in response.get_data(as_text=True)
    assert store.get(event_id)["status"] == "completed"


def test_only_failed_events_offer_a_retry_form(client, store):
    add_event(store, "e1", 1000.0)
    assert "csrf_token" not in page(client, "/admin/events/e1")


def test_pages_are_neither_cached_nor_framable(client):
    response = client.get("/admin", auth=AUTH)
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_cart_content_is_escaped(client, store):
    store.add("e1", '{"cart": {"note": "<script>alert(1)</script>"}}', EMPTY, None, 1000.0)
    text = client.get("/admin/events/e1", auth=AUTH).get_data(as_text=True)
    assert "<script>" not in text
    assert "&lt;script&gt;" in text


def test_no_secret_appears_on_any_page(app, client, worker, shopify):
    shopify.post(CREATE, status=422, json=REJECTED)
    shopify.post(CREATE, status=201, json=DRAFT)
    failed_id = failed_event(client, worker)
    completed_id = submit(client, items=[{"variant_id": 457924702, "quantity": 1}])["id"]
    worker.run_once()
    texts = [page(client, path) for path in
             ("/admin", f"/admin/events/{failed_id}", f"/admin/events/{completed_id}")]
    texts.append(client.get("/admin").get_data(as_text=True))
    texts.append(post_retry(client, completed_id, "x").get_data(as_text=True))
    for secret in (TOKEN, SECRET, app.config["SECRET_KEY"], PASSWORD):
        assert not any(secret in text for text in texts)


def test_non_ascii_password_is_accepted(make_app):
    client = make_app(ADMIN_PASSWORD="pässwörd ♥").test_client()
    assert client.get("/admin", auth=("merchant", "pässwörd ♥")).status_code == 200


def guess(client, password="guess", address="198.51.100.7"):
    return client.get("/admin", auth=("merchant", password),
                      environ_base={"REMOTE_ADDR": address})


@pytest.fixture
def throttle_clock(app):
    """The login throttle on a clock the test moves by hand."""
    clock = Clock(at=1000.0)
    app.extensions["admin_logins"] = LoginThrottle(app.extensions["store"], clock=clock)
    return clock


def test_ten_wrong_passwords_within_a_minute_lock_the_address_out(client):
    answers = [guess(client).status_code for _ in range(11)]

    assert answers == [401] * 10 + [429]


def test_a_locked_out_address_is_told_when_to_come_back(client, throttle_clock):
    for _ in range(10):
        guess(client)

    response = guess(client)

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "300"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_the_right_password_is_refused_during_a_lockout(client):
    for _ in range(10):
        guess(client)

    assert guess(client, PASSWORD).status_code == 429


def test_a_lockout_holds_only_for_the_address_that_guessed(client):
    for _ in range(10):
        guess(client)

    assert guess(client, PASSWORD, address="203.0.113.9").status_code == 200


def test_a_lockout_ends_after_five_minutes(client, throttle_clock):
    for _ in range(10):
        guess(client)
    throttle_clock.advance(299)
    assert guess(client, PASSWORD).status_code == 429

    throttle_clock.advance(1)

    assert guess(client, PASSWORD).status_code == 200


def test_wrong_passwords_spread_over_more_than_a_minute_do_not_lock_out(client, throttle_clock):
    for _ in range(20):
        assert guess(client).status_code == 401
        throttle_clock.advance(7)


def test_the_right_password_forgets_earlier_wrong_ones(client):
    for _ in range(9):
        guess(client)
    assert guess(client, PASSWORD).status_code == 200

    assert [guess(client).status_code for _ in range(9)] == [401] * 9


def test_a_visit_without_credentials_is_not_counted_as_a_guess(client):
    for _ in range(20):
        assert client.get("/admin").status_code == 401

    assert guess(client, PASSWORD, address="127.0.0.1").status_code == 200


def test_the_lockout_follows_the_forwarded_address_behind_a_trusted_proxy(make_app):
    client = make_app(ADMIN_PASSWORD=PASSWORD, TRUSTED_PROXIES="1").test_client()

    def via_proxy(shopper, password="guess"):
        return client.get("/admin", auth=("merchant", password),
                          headers={"X-Forwarded-For": shopper})

    for _ in range(10):
        via_proxy("198.51.100.7")

    assert via_proxy("198.51.100.7", PASSWORD).status_code == 429
    assert via_proxy("203.0.113.9", PASSWORD).status_code == 200


def test_a_lockout_is_logged_with_the_address_and_without_the_password(client, caplog):
    for _ in range(10):
        guess(client, "hunter2-guess")

    [record] = [r for r in caplog.records if "locked out" in r.getMessage()]
    assert "198.51.100.7" in record.getMessage()
    assert "hunter2-guess" not in caplog.text


def test_the_event_page_keeps_the_precise_reason_the_shopper_does_not_see(client, worker,
                                                                           shopify):
    shopify.post(CREATE, status=401, json={"errors": "[API] Invalid API key or access token"})
    event_id = failed_event(client, worker)

    assert "check SHOPIFY_ACCESS_TOKEN" in page(client, f"/admin/events/{event_id}")


def test_a_deeply_nested_stored_body_is_shown_as_stored_not_reindented(client, store):
    nested = "[" * 900 + "]" * 900  # re-indented, each level would add a line of its depth
    store.add("e1", nested, EMPTY, None, 1000.0)
    response = client.get("/admin/events/e1", auth=AUTH)
    assert response.status_code == 200
    assert nested in response.get_data(as_text=True)
    assert len(response.get_data()) < 20_000


def test_a_huge_stored_body_is_cut_on_the_page(client, store):
    store.add("e1", '{"cart": "' + "x" * 1024 * 1024 + '"}', EMPTY, None,
              1000.0)  # as events stored before the 64 KiB bound kept bodies
    text = page(client, "/admin/events/e1")
    assert f"… ({1024 * 1024 + 12 - admin.SHOWN_CHARS} more characters not shown)" in text
    assert len(text) < 2 * admin.SHOWN_CHARS


def test_a_huge_answer_from_shopify_is_cut_on_the_page(client, store):
    add_event(store, "e1", 1000.0)
    store.claim("w", 1000.0, 60)
    store.settle("e1", "w", 1000.0, answer={"method": "POST", "url": CREATE, "status": 201,
                                            "body": '{"draft_order": [' + "1," * 500_000 + "1]}"})
    text = page(client, "/admin/events/e1")
    assert "more characters not shown" in text and len(text) < 2 * admin.SHOWN_CHARS


def test_only_the_latest_answers_are_shown(client, store):
    add_event(store, "e1", 1000.0)
    for number in range(admin.ANSWERS_SHOWN + 10):
        store.claim("w", 1000.0 + number, 0.5)
        store.settle("e1", "w", 1000.0 + number, status="queued", answer={
            "method": "GET", "url": CREATE, "status": 202, "body": f"poll {number}"})
    text = page(client, "/admin/events/e1")
    shown = admin.ANSWERS_SHOWN
    assert f"Shopify's answers ({shown + 10}, the latest {shown} shown)" in text
    assert text.count('<section class="answer">') == admin.ANSWERS_SHOWN
    assert "poll 9<" not in text and f"poll {admin.ANSWERS_SHOWN + 9}<" in text
