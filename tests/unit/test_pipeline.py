"""The whole flow through the Flask test client: cart in, Shopify mocked, status out."""

import json

import pytest
import requests
import responses
from helpers import API, SHOP, TOKEN, submit

CREATE = f"{API}/draft_orders.json"
POLL = f"{API}/draft_orders/poll/abc.json"
DRAFT = {"draft_order": {"id": 1069920479, "name": "#D5", "status": "open",
                         "invoice_url": f"{SHOP}/548380009/invoices/b21e68f2"}}
DONE = {"id": 1069920479, "name": "#D5", "invoice_url": f"{SHOP}/548380009/invoices/b21e68f2",
        "state": "open", "invoice": None}


def status(client, status_url):
    return client.get(status_url).get_json()


def test_201_completes_the_event_with_name_and_invoice(client, worker, shopify, store):
    shopify.post(CREATE, status=201, json=DRAFT)
    status_url = submit(client)["status_url"]
    assert worker.run_once()
    body = status(client, status_url)
    assert body["status"] == "completed"
    assert body["draft_order"] == DONE
    assert body["error"] is None
    assert store.get(body["id"])["attempts"] == 1


def test_request_carries_the_token_and_the_mapped_payload(client, worker, shopify):
    call = shopify.post(CREATE, status=201, json=DRAFT)
    submit(client)
    worker.run_once()
    sent = call.calls[0].request
    assert sent.headers["X-Shopify-Access-Token"] == TOKEN
    draft = json.loads(sent.body)["draft_order"]
    assert draft["customer"] == {"id": 207119551}
    assert draft["line_items"][0] == {"variant_id": 39072856, "quantity": 2, "properties": [
        {"name": "Engraving", "value": "Für dich ♥"}]}
    assert "price" not in json.dumps(draft)


def test_202_is_polled_at_location_after_retry_after(client, worker, shopify, clock):
    shopify.post(CREATE, status=202, headers={"Location": POLL, "Retry-After": "2.5"})
    status_url = submit(client)["status_url"]
    worker.run_once()
    assert status(client, status_url)["status"] == "processing"

    clock.advance(2.4)
    assert not worker.run_once(), "polled before Retry-After"

    shopify.get(POLL, status=202, headers={"Location": POLL, "Retry-After": "1"})
    clock.advance(0.2)
    assert worker.run_once()
    shopify.get(POLL, status=200, json=DRAFT)
    clock.advance(1.1)
    assert worker.run_once()
    assert status(client, status_url)["draft_order"] == DONE
    assert [c.request.method for c in shopify.calls] == ["POST", "GET", "GET"]


def test_relative_location_is_resolved_against_the_shop(client, worker, shopify, clock):
    relative = POLL[len(SHOP):]
    shopify.post(CREATE, status=202, headers={"Location": relative, "Retry-After": "1"})
    shopify.get(POLL, status=200, json=DRAFT)
    status_url = submit(client)["status_url"]
    worker.run_once()
    clock.advance(1)
    worker.run_once()
    assert status(client, status_url)["status"] == "completed"


def test_location_on_another_host_is_never_followed(client, worker, shopify):
    shopify.post(CREATE, status=202, headers={"Location": "https://evil.example/steal",
                                              "Retry-After": "1"})
    status_url = submit(client)["status_url"]
    worker.run_once()
    body = status(client, status_url)
    assert body["status"] == "failed"
    assert body["error"]["code"] == "untrusted_location"


def test_redirects_are_not_followed_with_the_token(client, worker, shopify):
    shopify.post(CREATE, status=301, headers={"Location": "https://evil.example/steal"})
    status_url = submit(client)["status_url"]
    worker.run_once()
    assert len(shopify.calls) == 1
    assert status(client, status_url)["status"] == "failed"


def test_polling_survives_a_restart(client, app, worker, shopify, clock):
    shopify.post(CREATE, status=202, headers={"Location": POLL, "Retry-After": "1"})
    shopify.get(POLL, status=200, json=DRAFT)
    status_url = submit(client)["status_url"]
    worker.run_once()
    restarted = type(worker)(worker.store, worker.client, worker.policy, worker.lease_seconds,
                             clock=clock)
    clock.advance(1)
    assert restarted.run_once()
    assert status(client, status_url)["status"] == "completed"


def test_polling_that_never_ends_fails_after_the_limit(client, worker, shopify, clock):
    shopify.post(CREATE, status=202, headers={"Location": POLL, "Retry-After": "60"})
    shopify.get(POLL, status=202, headers={"Location": POLL, "Retry-After": "60"})
    status_url = submit(client)["status_url"]
    polls = 0
    while worker.run_once() or polls == 0:
        clock.advance(60)
        polls += 1
        assert polls < 50
    body = status(client, status_url)
    assert body["status"] == "failed"
    assert body["error"]["code"] == "poll_timeout"
    assert 8 <= polls <= 11  # 600 s of polling at 60 s intervals


@pytest.mark.slow
def test_429_waits_retry_after_and_tries_again(client, worker, shopify, clock):
    shopify.post(CREATE, status=429, headers={"Retry-After": "2.0"},
                 json={"errors": "Exceeded 2 calls per second for api client."})
    status_url = submit(client)["status_url"]
    worker.run_once()
    clock.advance(1.9)
    assert not worker.run_once()
    shopify.replace(responses.POST, CREATE, status=201, json=DRAFT)
    clock.advance(0.1)
    assert worker.run_once()
    assert status(client, status_url)["status"] == "completed"


def test_5xx_then_success_completes_after_backoff(client, worker, shopify, clock, store):
    shopify.post(CREATE, status=503, body="Service Unavailable")
    status_url = submit(client)["status_url"]
    worker.run_once()
    event = store.get(status(client, status_url)["id"])
    assert event["status"] == "processing" and event["failures"] == 1
    assert event["next_attempt_at"] >= clock() + 2
    shopify.get(CREATE, json={"draft_orders": []})  # the 503 may have created it: look first
    shopify.replace(responses.POST, CREATE, status=201, json=DRAFT)
    clock.advance(3)
    assert worker.run_once() and worker.run_once()
    assert status(client, status_url)["status"] == "completed"
    assert [c.request.method for c in shopify.calls] == ["POST", "GET", "POST"]


def test_timeouts_are_retried_like_5xx(client, worker, shopify, clock, store):
    shopify.post(CREATE, body=requests.ReadTimeout("slow"))
    status_url = submit(client)["status_url"]
    worker.run_once()
    answers = store.answers(status(client, status_url)["id"])
    assert answers[0]["status"] is None and "no answer" in answers[0]["body"]
    assert status(client, status_url)["status"] == "processing"


def test_5xx_forever_fails_after_max_attempts(client, worker, shopify, clock):
    shopify.post(CREATE, status=500)
    status_url = submit(client)["status_url"]
    attempts = 0
    while worker.run_once():
        attempts += 1
        clock.advance(3600)
    assert attempts == 5
    body = status(client, status_url)
    assert body["status"] == "failed"
    assert body["error"]["code"] == "shopify_unavailable"


def test_422_fails_at_once_with_shopifys_errors_kept_for_the_merchant(client, worker, shopify,
                                                                    clock, store):
    shopify.post(CREATE, status=422,
                 json={"errors": {"line_items": ["Variant 39072856 does not exist"]}})
    status_url = submit(client)["status_url"]
    worker.run_once()
    clock.advance(3600)
    assert not worker.run_once()
    body = status(client, status_url)
    assert body["status"] == "failed"
    assert body["error"]["code"] == "shopify_rejected"
    assert "Variant 39072856 does not exist" in store.get(body["id"])["error_detail"]


@pytest.mark.parametrize("code, error_code", [
    (401, "shopify_unauthorized"), (403, "shopify_forbidden"), (404, "shopify_not_found")])
def test_other_4xx_fail_at_once(client, worker, shopify, code, error_code):
    shopify.post(CREATE, status=code, json={"errors": "nope"})
    status_url = submit(client)["status_url"]
    worker.run_once()
    assert status(client, status_url)["error"]["code"] == error_code


def test_event_of_a_dead_worker_is_taken_up_after_its_lease(client, worker, shopify, clock, store):
    status_url = submit(client)["status_url"]
    event_id = status(client, status_url)["id"]
    assert store.claim("dead-worker", clock(), worker.lease_seconds)["id"] == event_id
    assert not worker.run_once(), "took an event still leased"
    clock.advance(worker.lease_seconds + 1)
    shopify.post(CREATE, status=201, json=DRAFT)
    assert worker.run_once()
    assert status(client, status_url)["status"] == "completed"
    assert not store.settle(event_id, "dead-worker", clock(), status="failed")
    assert status(client, status_url)["status"] == "completed"


def test_shopify_answers_are_stored_without_the_token(client, worker, shopify, store):
    shopify.post(CREATE, status=401, json={"errors": f"bad token {TOKEN}"})
    status_url = submit(client)["status_url"]
    worker.run_once()
    event_id = status(client, status_url)["id"]
    answers = store.answers(event_id)
    assert answers[0]["status"] == 401
    assert TOKEN not in json.dumps(answers) + json.dumps(store.get(event_id))
