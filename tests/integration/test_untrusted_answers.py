"""Shopify's answers are read as untrusted input: whatever a header or a field
holds, the event is settled at once (completed, rescheduled or failed with a
reason), never left `processing`, and the access token never ends up stored."""

import itertools
import json
import math
import socket
import threading
import time
from contextlib import contextmanager

import pytest
from helpers import API, SHOP, TOKEN, submit

from app.intake.status import status_document
from app.shopify import RestClient
from app.shopify import http as shopify_http

CREATE = f"{API}/draft_orders.json"
POLL = f"{API}/draft_orders/poll/abc.json"


def after_one_call(client, worker, store):
    """Submit a cart and let the worker make its one call to Shopify: the stored event."""
    event_id = submit(client)["id"]
    worker.run_once()
    return store.get(event_id)


def draft(**fields):
    return {"draft_order": {"id": 7, "name": "#D7", "invoice_url": f"{SHOP}/1/invoices/a",
                            **fields}}


def decoded_everywhere(event, answers):
    """The event's stored text as the event log and the status document show it:
    each answer's body decoded when it is JSON."""
    bodies = []
    for answer in answers:
        try:
            bodies.append(json.dumps(json.loads(answer["body"]), ensure_ascii=False))
        except ValueError:
            bodies.append(answer["body"])
    return json.dumps(status_document(event), ensure_ascii=False) + "".join(bodies)


# --- Retry-After ----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e999", "-5", "soon"])
def test_a_202_whose_retry_after_is_no_finite_delay_polls_after_the_default(
        client, worker, shopify, clock, store, value):
    shopify.post(CREATE, status=202, headers={"Location": POLL, "Retry-After": value})
    event_id = submit(client)["id"]
    before = clock()
    worker.run_once()
    event = store.get(event_id)
    assert (event["status"], event["poll_url"], event["lease_owner"]) == (
        "processing", POLL, None)
    assert event["next_attempt_at"] - before == pytest.approx(1.0, abs=0.5)


@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_a_429_whose_retry_after_is_no_finite_delay_retries_after_the_default(
        client, worker, shopify, clock, store, value):
    shopify.post(CREATE, status=429, headers={"Retry-After": value})
    event_id = submit(client)["id"]
    before = clock()
    worker.run_once()
    event = store.get(event_id)
    assert (event["throttles"], event["lease_owner"]) == (1, None)
    assert math.isfinite(event["next_attempt_at"])
    assert event["next_attempt_at"] - before == pytest.approx(2.0, abs=0.5)


def test_a_huge_retry_after_is_capped(client, worker, shopify, clock, store):
    shopify.post(CREATE, status=429, headers={"Retry-After": "86400"})
    event_id = submit(client)["id"]
    before = clock()
    worker.run_once()
    assert store.get(event_id)["next_attempt_at"] - before <= 300 + 1


# --- the draft order's fields -----------------------------------------------------------


@pytest.mark.parametrize("name", [["#D7"], {"n": 1}, 7, "#" * 256])
def test_a_draft_whose_name_is_no_short_string_completes_without_the_name(
        client, worker, shopify, store, name):
    shopify.post(CREATE, status=201, json=draft(name=name))
    event = after_one_call(client, worker, store)
    assert (event["status"], event["draft_order_id"], event["draft_order_name"]) == (
        "completed", 7, None)


@pytest.mark.parametrize("invoice_url", ["javascript:alert(1)", ["https://x"], 5,
                                         "https://" + "a" * 3000])
def test_a_draft_whose_invoice_url_is_no_web_address_completes_without_it(
        client, worker, shopify, store, invoice_url):
    shopify.post(CREATE, status=201, json=draft(invoice_url=invoice_url))
    event = after_one_call(client, worker, store)
    assert (event["status"], event["draft_order_name"], event["invoice_url"]) == (
        "completed", "#D7", None)


@pytest.mark.parametrize("draft_id", ["7", True, 0, -7, 7.0, 2**63, None])
def test_a_draft_without_a_positive_integer_id_fails_the_event_with_a_reason(
        client, worker, shopify, store, draft_id):
    shopify.post(CREATE, status=201, json=draft(id=draft_id))
    event = after_one_call(client, worker, store)
    assert (event["status"], event["error_code"], event["lease_owner"]) == (
        "failed", "shopify_unexpected_answer", None)
    assert "no valid id" in event["error_detail"]


def test_a_looked_up_draft_with_a_wrong_name_completes_the_event_without_it(
        client, worker, shopify, clock, store):
    shopify.post(CREATE, status=502)
    event_id = submit(client)["id"]
    worker.run_once()
    shopify.get(CREATE, json={"draft_orders": [
        {"id": 7, "name": ["#D7"], "note_attributes": [
            {"name": "_cart_event_id", "value": event_id}]}]})
    clock.advance(60)
    worker.run_once()
    event = store.get(event_id)
    assert (event["status"], event["draft_order_id"], event["draft_order_name"]) == (
        "completed", 7, None)


def test_a_looked_up_draft_without_a_valid_id_fails_the_event_with_a_reason(
        client, worker, shopify, clock, store):
    shopify.post(CREATE, status=502)
    event_id = submit(client)["id"]
    worker.run_once()
    shopify.get(CREATE, json={"draft_orders": [
        {"id": "7", "note_attributes": [{"name": "_cart_event_id", "value": event_id}]}]})
    clock.advance(60)
    worker.run_once()
    event = store.get(event_id)
    assert (event["status"], event["error_code"]) == ("failed", "shopify_unexpected_answer")


@pytest.mark.parametrize("attributes", ["_cart_event_id", {"name": "_cart_event_id"}, 5])
def test_listed_drafts_whose_note_attributes_are_no_list_are_passed_over(
        client, worker, shopify, clock, store, attributes):
    shopify.post(CREATE, status=502)
    event_id = submit(client)["id"]
    worker.run_once()
    shopify.get(CREATE, json={"draft_orders": [
        {"id": 6, "note_attributes": attributes},
        {"id": 7, "note_attributes": [{"name": "_cart_event_id", "value": event_id}]}]})
    clock.advance(60)
    worker.run_once()
    assert store.get(event_id)["draft_order_id"] == 7


def test_a_location_that_is_no_address_fails_the_event_as_untrusted(
        client, worker, shopify, store):
    shopify.post(CREATE, status=202, headers={"Location": "http://[::1/poll", "Retry-After": "1"})
    event = after_one_call(client, worker, store)
    assert (event["status"], event["error_code"]) == ("failed", "untrusted_location")



def test_a_location_too_long_to_store_fails_the_event_as_untrusted(
        client, worker, shopify, store):
    location = f"{API}/draft_orders/poll?" + "x" * 5000  # on the shop, but 5 KB long
    shopify.post(CREATE, status=202, headers={"Location": location, "Retry-After": "1"})
    event = after_one_call(client, worker, store)
    assert (event["status"], event["error_code"], event["poll_url"]) == (
        "failed", "untrusted_location", None)

# --- the access token -------------------------------------------------------------------


def test_a_token_written_with_json_escapes_is_redacted_from_the_stored_answer(
        client, worker, shopify, store):
    escaped = "\\u" + f"{ord(TOKEN[0]):04x}" + TOKEN[1:]
    shopify.post(CREATE, status=422, body='{"errors": {"base": ["bad token ' + escaped + '"]}}',
                 content_type="application/json")
    event = after_one_call(client, worker, store)
    assert event["status"] == "failed"
    shown = decoded_everywhere(event, store.answers(event["id"]))
    assert TOKEN not in shown
    assert "[redacted]" in event["error_detail"]


def test_a_token_in_a_json_key_is_redacted_from_the_stored_answer(
        client, worker, shopify, store):
    escaped = "\\u" + f"{ord(TOKEN[-1]):04x}"
    shopify.post(CREATE, status=422, body='{"errors": {"' + TOKEN[:-1] + escaped + '": "x"}}',
                 content_type="application/json")
    event = after_one_call(client, worker, store)
    assert TOKEN not in decoded_everywhere(event, store.answers(event["id"]))


def test_a_token_in_a_draft_name_never_reaches_the_status_document(
        client, worker, shopify, store):
    escaped = "\\u" + f"{ord(TOKEN[0]):04x}" + TOKEN[1:]
    shopify.post(CREATE, status=201, content_type="application/json",
                 body='{"draft_order": {"id": 7, "name": "' + escaped + '"}}')
    event = after_one_call(client, worker, store)
    assert event["status"] == "completed"
    assert TOKEN not in decoded_everywhere(event, store.answers(event["id"]))


def test_a_location_carrying_the_token_is_not_followed(client, worker, shopify, store):
    shopify.post(CREATE, status=202, headers={
        "Location": f"{POLL}?t=%{ord(TOKEN[0]):02x}{TOKEN[1:]}", "Retry-After": "1"})
    event = after_one_call(client, worker, store)
    assert (event["status"], event["error_code"], event["poll_url"]) == (
        "failed", "untrusted_location", None)


# --- how long an answer takes, and how large it is -------------------------------------


@contextmanager
def dripping_server(head, drip):
    """A server that sends `head` at once, then one byte of `drip` every 0.1 s,
    each read within requests' per-read timeout, for as long as the client listens."""
    listener = socket.create_server(("127.0.0.1", 0))
    done = threading.Event()

    def serve():
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            try:
                conn.sendall(head)
                for byte in itertools.cycle(drip):
                    if done.wait(0.1):
                        return
                    conn.sendall(bytes([byte]))
            except OSError:
                return  # the client hung up

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        done.set()
        listener.close()
        thread.join(timeout=5)


@pytest.mark.parametrize("head, drip", [
    (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n",
     b'{"draft_order": '),
    (b"HTTP/1.1 200 OK\r\n", b"X-Slow: " + b"a" * 60 + b"\r\n"),
], ids=["body", "headers"])
def test_an_answer_fed_a_byte_at_a_time_is_cut_off_at_the_timeout(head, drip):
    with dripping_server(head, drip) as url:
        client = RestClient(url, TOKEN, "2025-10", timeout=0.5)
        started = time.monotonic()
        answer = client.get(f"{url}/admin/api/2025-10/draft_orders/7.json")
        took = time.monotonic() - started
    assert (answer.status, answer.body) == (None, "no answer within 0.5 seconds")
    assert took < 1.5


def test_an_answer_larger_than_the_cap_is_not_read_to_its_end(shopify, monkeypatch):
    monkeypatch.setattr(shopify_http, "MAX_ANSWER_BYTES", 1000)
    shopify.get(f"{API}/shop.json", body=b"x" * 5000)
    client = RestClient(SHOP, TOKEN, "2025-10", timeout=5)
    answer = client.get(f"{API}/shop.json")
    assert (answer.status, answer.body) == (None, "an answer of more than 1000 bytes")


def test_a_post_whose_answer_is_too_large_is_looked_up_before_posting_again(
        client, worker, shopify, clock, store, monkeypatch):
    monkeypatch.setattr(shopify_http, "MAX_ANSWER_BYTES", 1000)
    shopify.post(CREATE, status=201, json=draft(note="x" * 5000))
    event = after_one_call(client, worker, store)
    assert (event["status"], event["maybe_posted"], event["failures"]) == ("processing", 1, 1)


def test_an_unknown_charset_is_read_as_utf_8(shopify):
    shopify.get(f"{API}/shop.json", body='{"shop": "Caf\u00e9"}'.encode(),
                content_type="application/json; charset=no-such-charset")
    answer = RestClient(SHOP, TOKEN, "2025-10", timeout=5).get(f"{API}/shop.json")
    assert answer.json == {"shop": "Caf\u00e9"}


@pytest.mark.parametrize("page", [{"draft_orders": "none"}, {"drafts": []}, ["x"]])
def test_a_lookup_answered_200_without_a_list_is_retried_not_taken_as_absence(
        client, worker, shopify, clock, store, page):
    shopify.post(CREATE, status=502)
    event_id = submit(client)["id"]
    worker.run_once()
    shopify.get(CREATE, json=page)
    clock.advance(60)
    worker.run_once()
    event = store.get(event_id)
    assert (event["status"], event["maybe_posted"], event["failures"]) == ("processing", 1, 2)
    assert [c.request.method for c in shopify.calls] == ["POST", "GET"]
