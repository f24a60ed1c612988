"""What one client can make us do: submissions per IP address and per customer."""

import threading

import pytest
from helpers import cart_body

pytest_plugins = ["postgres"]


def send(client, n, customer_id=None, headers=None):
    body = cart_body(customer_id=customer_id, items=[{"variant_id": n, "quantity": 1}])
    return client.post("/webhooks/cart", json=body, headers=headers or {})


def test_an_address_over_its_limit_gets_429_with_retry_after(make_app):
    client = make_app(RATE_LIMIT_PER_IP="3").test_client()
    assert [send(client, n).status_code for n in range(1, 4)] == [202, 202, 202]
    refused = send(client, 4)
    assert refused.status_code == 429
    assert refused.json["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json["error"]["retry_after"] == int(refused.headers["Retry-After"])


def test_refused_and_duplicate_submissions_do_not_count(make_app):
    client = make_app(RATE_LIMIT_PER_IP="2").test_client()
    send(client, 1)
    send(client, 1)  # the same cart again: the first event comes back
    client.post("/webhooks/cart", json={"cart": {}})  # refused with 422
    assert send(client, 2).status_code == 202


def test_a_customer_over_its_limit_gets_429(make_app):
    client = make_app(RATE_LIMIT_PER_CUSTOMER="2", RATE_LIMIT_PER_IP="0").test_client()
    assert send(client, 1, customer_id=5).status_code == 202
    assert send(client, 2, customer_id=5).status_code == 202
    assert send(client, 3, customer_id=5).status_code == 429
    assert send(client, 4, customer_id=6).status_code == 202


def test_the_limit_frees_up_after_a_minute(make_app, store):
    app = make_app(RATE_LIMIT_PER_IP="1")
    client = app.test_client()
    send(client, 1)
    with app.extensions["store"]._connect(write=True) as conn:
        conn.execute("UPDATE events SET created_at = created_at - 61")
    assert send(client, 2).status_code == 202


def test_forwarded_for_is_ignored_without_trusted_proxies(make_app):
    client = make_app(RATE_LIMIT_PER_IP="1").test_client()
    send(client, 1, headers={"X-Forwarded-For": "203.0.113.1"})
    assert send(client, 2, headers={"X-Forwarded-For": "203.0.113.2"}).status_code == 429


def test_forwarded_for_names_the_client_behind_a_trusted_proxy(make_app):
    client = make_app(RATE_LIMIT_PER_IP="1", TRUSTED_PROXIES="1").test_client()
    send(client, 1, headers={"X-Forwarded-For": "203.0.113.1"})
    assert send(client, 2, headers={"X-Forwarded-For": "203.0.113.2"}).status_code == 202
    assert send(client, 3, headers={"X-Forwarded-For": "203.0.113.2"}).status_code == 429


def test_a_forged_extra_forwarded_hop_does_not_escape_the_limit(make_app):
    client = make_app(RATE_LIMIT_PER_IP="1", TRUSTED_PROXIES="1").test_client()
    send(client, 1, headers={"X-Forwarded-For": "1.1.1.1, 203.0.113.1"})
    assert send(client, 2, headers={"X-Forwarded-For": "2.2.2.2, 203.0.113.1"}).status_code == 429


def test_status_url_is_https_behind_a_trusted_proxy(make_app):
    client = make_app(TRUSTED_PROXIES="1").test_client()
    response = client.post("/webhooks/cart", json=cart_body(), headers={
        "X-Forwarded-Proto": "https", "X-Forwarded-Host": "drafts.example.com"})
    assert response.json["status_url"].startswith("https://drafts.example.com/events/")


def send_at_once(app, count, customer_id=None):
    """`count` distinct carts posted from one address by threads released together;
    the status code of each."""
    barrier, codes = threading.Barrier(count), []

    def post(n):
        client = app.test_client()
        barrier.wait()
        codes.append(send(client, n + 1, customer_id=customer_id).status_code)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(codes)


@pytest.mark.slow
def test_concurrent_carts_from_one_address_are_held_to_the_limit_exactly(make_app,
                                                                        database_url):
    app = make_app(DATABASE_URL=database_url, RATE_LIMIT_PER_IP="30",
                   RATE_LIMIT_PER_CUSTOMER="0")
    assert send_at_once(app, 100, customer_id=None) == [202] * 30 + [429] * 70
    assert app.extensions["store"].count_events() == 30


@pytest.mark.slow
def test_concurrent_carts_of_one_customer_are_held_to_the_limit_exactly(make_app, database_url):
    app = make_app(DATABASE_URL=database_url, RATE_LIMIT_PER_IP="0",
                   RATE_LIMIT_PER_CUSTOMER="10")
    assert send_at_once(app, 50, customer_id=5) == [202] * 10 + [429] * 40
    assert app.extensions["store"].count_events() == 10
