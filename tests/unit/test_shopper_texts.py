"""What a shopper can read (the receiver's error details, shown by the storefront
script, and the anonymous status document) names no setting and no internal
detail; the precise reason goes to the log line, and to /admin for events."""

import re
import time

import pytest
from helpers import API, SECRET, TOKEN, cart_body

from app.intake.signature import sign
from app.intake.status import status_document

SETTING = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")  # SHARED_SECRET, SHOPIFY_SHOP, …
NOW = int(time.time())


def timestamped(signed_at, signature=None):
    return {**cart_body(), "customerIdSignedAt": signed_at,
            "customerIdSignature": signature or sign(207119551, SECRET, signed_at)}


INTERNALS = ("Shopify", "customerId", "secret", "snippet", "clock", "token", "ALLOWED")


def shopper_safe(text):
    return SETTING.search(text) is None and not any(word in text for word in INTERNALS)


SIGNATURE_REFUSALS = [
    ("mechanic", cart_body(signature="0" * 64), "signature_invalid", "SHARED_SECRET"),
    ("mechanic", {**cart_body(), "customerIdSignature": None}, "signature_missing",
     "without customerIdSignature"),
    ("timestamped", cart_body(), "signature_missing", "SIGNATURE_MODE=timestamped"),
    ("timestamped", timestamped("yesterday"), "signature_invalid", "unix time"),
    ("timestamped", timestamped(NOW + 3600), "signature_invalid", "receiver's clock"),
]


@pytest.mark.parametrize("mode, body, code, _", SIGNATURE_REFUSALS)
def test_a_refused_signature_tells_the_shopper_no_setting(make_app, mode, body, code, _):
    response = make_app(SIGNATURE_MODE=mode).test_client().post("/webhooks/cart", json=body)

    error = response.get_json()["error"]
    assert (response.status_code, error["code"]) == (401, code)
    assert shopper_safe(error["detail"]), error["detail"]


@pytest.mark.parametrize("mode, body, code, reason", SIGNATURE_REFUSALS)
def test_a_refused_signature_logs_the_precise_reason_without_secrets(make_app, caplog, mode,
                                                                     body, code, reason):
    make_app(SIGNATURE_MODE=mode).test_client().post("/webhooks/cart", json=body)

    assert reason in caplog.text and code in caplog.text
    for secret in (SECRET, sign(207119551, SECRET), str(body.get("customerIdSignature"))):
        assert secret not in caplog.text


def test_a_foreign_origin_is_refused_without_naming_the_setting(make_app, caplog):
    client = make_app(ALLOWED_ORIGINS="https://shop.example.com").test_client()

    response = client.post("/webhooks/cart", json=cart_body(),
                           headers={"Origin": "https://evil.example"})

    error = response.get_json()["error"]
    assert (response.status_code, error["code"]) == (403, "origin_not_allowed")
    assert shopper_safe(error["detail"]), error["detail"]
    assert "'https://evil.example' is not in ALLOWED_ORIGINS" in caplog.text


STORED_FAILURES = [
    ("shopify_unauthorized", "Shopify refused the access token; check SHOPIFY_ACCESS_TOKEN."),
    ("shopify_not_found", "Shopify has no such address; check SHOPIFY_SHOP and "
                          "SHOPIFY_API_VERSION."),
    ("shopify_forbidden", "The access token lacks the write_draft_orders scope this call needs."),
    ("shopify_payment_required", "Shopify says the shop is frozen (unpaid)."),
    ("shopify_locked", "Shopify says the shop is locked."),
    ("shopify_418", "Shopify answered 418."),
    ("shopify_unexpected_answer", "Shopify answered 202 without a Location to poll."),
    ("untrusted_location", "https://elsewhere.example/poll is not on the shop's host"),
    ("shopify_rejected", "Shopify rejected the draft order. Shopify says: customer: "
                         "is invalid"),
    ("shopify_unavailable", "Shopify answered 503. Gave up after 5 attempts."),
    ("shopify_throttled", "Shopify answered 429 (rate limited) 50 times."),
    ("poll_timeout", "Shopify did not finish the draft order within 600 seconds of polling."),
    ("items_unavailable", "Line 0 (variant 11): out of stock (OUT_OF_STOCK_POLICY=block)."),
    ("b2b_contact_not_found", "Customer 207119551 is no contact of company location 5501."),
    ("shopify_access_denied", "Shopify denied access: the token lacks read_products."),
    ("shopify_graphql_error", "Shopify answered a GraphQL error: INTERNAL_SERVER_ERROR."),
]


@pytest.mark.parametrize("code, stored", STORED_FAILURES)
def test_the_status_document_gives_a_shoppers_sentence_for_each_failure(code, stored):
    event = {"id": "e1", "status": "failed", "draft_order_id": None,
             "error_code": code, "error_detail": stored}

    error = status_document(event)["error"]

    assert error["code"] == code
    assert error["detail"] != stored and shopper_safe(error["detail"]), error["detail"]


def test_a_shopper_polling_a_failed_event_sees_no_setting(client, worker, shopify, store):
    shopify.post(f"{API}/draft_orders.json",
                 status=401, json={"errors": "[API] Invalid API key or access token"})
    queued = client.post("/webhooks/cart", json=cart_body()).get_json()
    worker.run_once()

    document = client.get(queued["status_url"]).get_json()

    assert document["error"]["code"] == "shopify_unauthorized"
    assert shopper_safe(document["error"]["detail"])
    assert TOKEN not in document["error"]["detail"]
    assert "SHOPIFY_ACCESS_TOKEN" in store.get(queued["id"])["error_detail"]


LINE = {"line": 1, "variant_id": 11, "code": "out_of_stock", "detail": "Out of stock."}


def failed_event(**columns):
    return {"id": "e1", "status": "failed", "draft_order_id": None,
            "error_code": "items_unavailable", "error_detail": "stored", **columns}


def test_the_status_document_lists_the_lines_a_failure_names():
    assert status_document(failed_event(error_lines=[LINE]))["error"]["lines"] == [LINE]


def test_a_failure_naming_no_lines_has_no_lines_in_its_error():
    assert "lines" not in status_document(failed_event(error_lines=None))["error"]


def test_an_event_stored_before_line_columns_existed_still_has_a_status_document():
    document = status_document(failed_event())
    assert (document["dropped_lines"], "lines" in document["error"]) == ([], False)


def test_the_status_document_lists_the_lines_dropped_from_the_draft_order():
    event = {"id": "e1", "status": "completed", "draft_order_id": 5, "draft_order_name": "#D5",
             "invoice_url": None, "error_code": None,
             "prepared": {"dropped": [LINE], "purchasing_company": {"companyId": "gid"}}}
    document = status_document(event)
    assert document["dropped_lines"] == [LINE]
    assert "purchasing_company" not in str(document)


def test_a_line_shopify_refused_shows_a_shoppers_sentence_not_shopify_s_words():
    words = ("Shopify: variant gid://shopify/ProductVariant/11 is not in the catalog of "
             "gid://shopify/CompanyLocation/5501")
    line = {**LINE, "code": "rejected_by_shopify", "detail": words}
    [shown] = status_document(failed_event(error_code="shopify_rejected",
                                           error_lines=[line]))["error"]["lines"]
    assert {**shown, "detail": words} == line
    assert "gid://" not in shown["detail"] and shopper_safe(shown["detail"]), shown["detail"]
