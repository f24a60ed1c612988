import json
import sqlite3

import pytest
from helpers import SECRET, cart_body, storefront_body

from app.intake.signature import sign_location


def event_count(app):
    with sqlite3.connect(app.extensions["store"].path) as conn:
        return conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]


def assert_error(response, status, code, **extra):
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code and error["detail"]
    for key, value in extra.items():
        assert error[key] == value


def test_signed_cart_is_accepted_with_a_status_url(client, app):
    response = client.post("/webhooks/cart", json=cart_body())
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "queued" and body["id"]
    assert body["status_url"].startswith("http://localhost/events/")
    event = app.extensions["store"].get(body["id"])
    assert event["customer_id"] == 207119551
    assert event["payload"]["draft_order"]["customer"] == {"id": 207119551}


def test_text_plain_body_is_accepted(client):
    response = client.post("/webhooks/cart", data=json.dumps(cart_body()),
                           content_type="text/plain;charset=UTF-8")
    assert response.status_code == 202


def test_the_event_keeps_the_body_exactly_as_the_storefront_sent_it(client, app):
    text = json.dumps(cart_body(total_price=1999, note="Für dich ♥"), ensure_ascii=False,
                      indent=1)  # prices, layout and all: what the merchant's log shows
    response = client.post("/webhooks/cart", data=text.encode(),
                           content_type="text/plain;charset=UTF-8")
    assert app.extensions["store"].get(response.get_json()["id"])["received"] == text


def test_guest_cart_is_accepted_by_default(client, app):
    response = client.post("/webhooks/cart", json=cart_body(customer_id=None))
    assert response.status_code == 202
    assert "customer" not in app.extensions["store"].get(
        response.get_json()["id"])["payload"]["draft_order"]


def test_guest_cart_is_403_when_guests_are_rejected(make_app):
    app = make_app(GUEST_CARTS="reject")
    response = app.test_client().post("/webhooks/cart", json=cart_body(customer_id=None))
    assert_error(response, 403, "guest_cart_rejected", field="customerId")
    assert event_count(app) == 0


def test_wrong_signature_is_401_and_writes_nothing(client, app):
    response = client.post("/webhooks/cart", json=cart_body(signature="0" * 64))
    assert_error(response, 401, "signature_invalid", field="customerIdSignature")
    assert event_count(app) == 0


def test_missing_signature_is_401(client):
    response = client.post("/webhooks/cart", json=cart_body(signature=""))
    assert_error(response, 401, "signature_missing")


@pytest.mark.parametrize("raw", [b"", b"{", b"[1]", b'"cart"', b"null", b"\xff\xfe{}",
                                 b'{"cart": NaN}', b"[" * 100_000])
def test_body_that_is_not_a_json_object_is_400(client, app, raw):
    response = client.post("/webhooks/cart", data=raw, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] in ("invalid_json", "invalid_body")
    assert event_count(app) == 0


def test_body_without_cart_is_400_naming_the_field(client):
    response = client.post("/webhooks/cart", json={"customerId": None})
    assert_error(response, 400, "missing_cart", field="cart")


def test_form_encoded_body_is_415(client):
    response = client.post("/webhooks/cart", data={"cart": "{}"})
    assert_error(response, 415, "unsupported_media_type")


def test_body_over_the_limit_is_413(make_app):
    app = make_app(MAX_BODY_BYTES="2048")
    body = cart_body(note="x" * 4096)
    response = app.test_client().post("/webhooks/cart", json=body)
    assert_error(response, 413, "body_too_large")
    assert event_count(app) == 0


def test_invalid_line_is_422_naming_the_line(client, app):
    body = cart_body(items=[{"variant_id": 1, "quantity": 1}, {"variant_id": 2, "quantity": 0}])
    response = client.post("/webhooks/cart", json=body)
    assert_error(response, 422, "invalid_quantity", field="cart.items[1].quantity", line=1)
    assert event_count(app) == 0


def test_status_url_reports_a_queued_event(client):
    status_url = client.post("/webhooks/cart", json=cart_body()).get_json()["status_url"]
    status = client.get(status_url)
    assert status.status_code == 200
    document = status.get_json()
    assert len(document.pop("version")) == 16  # what a long poll waits on (waiting.py)
    assert document == {"id": document["id"], "status": "queued",
                        "draft_order": None, "error": None, "dropped_lines": [],
                        "order": None}


def test_tampered_status_token_is_404(client):
    status_url = client.post("/webhooks/cart", json=cart_body()).get_json()["status_url"]
    # The second last character: all its bits are the signature's (the last one's
    # padding bits are not), and "xx" was itself the ending once in a thousand runs.
    changed = "A" if status_url[-2] != "A" else "B"
    assert_error(client.get(status_url[:-2] + changed + status_url[-1]), 404, "not_found")


def test_status_token_from_another_secret_is_404(client, make_app):
    other = make_app(SECRET_KEY="another key").test_client()
    status_url = other.post("/webhooks/cart", json=cart_body()).get_json()["status_url"]
    assert_error(client.get(status_url), 404, "not_found")


def test_preflight_allows_the_storefront_origin(make_app):
    client = make_app(ALLOWED_ORIGINS="https://shop.example.com").test_client()
    for path in ("/webhooks/cart", "/events/anything"):
        response = client.options(path, headers={
            "Origin": "https://shop.example.com", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"})
        assert response.status_code == 204
        assert response.headers["Access-Control-Allow-Origin"] == "https://shop.example.com"
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
        assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]


def test_errors_carry_cors_headers_so_the_storefront_can_read_them(make_app):
    client = make_app(ALLOWED_ORIGINS="https://shop.example.com").test_client()
    response = client.post("/webhooks/cart", json={}, headers={"Origin": "https://shop.example.com"})
    assert response.status_code == 400
    assert response.headers["Access-Control-Allow-Origin"] == "https://shop.example.com"


def test_wildcard_origin_answers_star(client):
    response = client.post("/webhooks/cart", json=cart_body(),
                           headers={"Origin": "https://anything.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_other_origin_is_refused_and_writes_nothing(make_app):
    app = make_app(ALLOWED_ORIGINS="https://shop.example.com")
    response = app.test_client().post("/webhooks/cart", json=cart_body(),
                                      headers={"Origin": "https://evil.example"})
    assert_error(response, 403, "origin_not_allowed")
    assert "Access-Control-Allow-Origin" not in response.headers
    assert event_count(app) == 0


def test_healthz_is_200_when_the_database_answers(client):
    assert client.get("/healthz").status_code == 200


def test_healthz_is_503_when_the_database_is_gone(client, app, tmp_path):
    app.extensions["store"].path = str(tmp_path / "missing" / "dir" / "events.sqlite3")
    response = client.get("/healthz")
    assert response.status_code == 503


def test_unknown_path_is_a_json_404(client):
    assert_error(client.get("/nope"), 404, "not_found")


def test_get_on_the_webhook_is_a_json_405(client):
    assert_error(client.get("/webhooks/cart"), 405, "method_not_allowed")


def stored_bytes(app, event_id):
    """What the event keeps of its submission: the record of the body and the payload."""
    with sqlite3.connect(app.extensions["store"].path) as conn:
        received, payload = conn.execute("SELECT received, payload FROM events WHERE id = ?",
                                         (event_id,)).fetchone()
    return len(received.encode()) + len(payload.encode())


def test_a_250_line_cart_as_the_storefront_script_sends_it_is_accepted_by_default(client, app):
    body = storefront_body(lines=250, properties_per_line=3)
    assert len(body) * 1.4 < app.config["MAX_CONTENT_LENGTH"] < 1024 * 1024
    response = client.post("/webhooks/cart", data=body, content_type="text/plain")
    assert response.status_code == 202, response.get_json()
    event = app.extensions["store"].get(response.get_json()["id"])
    assert event["line_count"] == 250
    assert stored_bytes(app, event["id"]) <= 64 * 1024


def test_an_event_keeps_at_most_64_kib_whatever_the_body(client, app):
    body = json.dumps({**cart_body(), "junk": ["x" * 1000] * 700}).encode()
    response = client.post("/webhooks/cart", data=body, content_type="text/plain")
    assert response.status_code == 202
    event_id = response.get_json()["id"]
    assert stored_bytes(app, event_id) <= 64 * 1024
    received = app.extensions["store"].get(event_id)["received"]
    start, _, trailer = received.rpartition("\n")
    assert body.decode().startswith(start) and len(start) > 60_000
    assert trailer == (f'[cut: the storefront sent {len(body)} bytes; the event keeps this start '
                       f'of them. Cart token: "c1-abc"]')


def test_a_cart_whose_draft_order_would_not_fit_in_an_event_is_413_and_writes_nothing(client,
                                                                                       app):
    lines = [{"variant_id": n, "quantity": 1, "properties": {"Engraving": "x" * 300}}
             for n in range(1, 251)]
    response = client.post("/webhooks/cart", json=cart_body(items=lines))
    assert_error(response, 413, "cart_too_large", field="cart")
    assert "at most 62 KiB" in response.get_json()["error"]["detail"]
    assert event_count(app) == 0


# Under SHOPIFY_API=graphql: the cart context the receiver stores for the backend.

GRAPHQL = {"SHOPIFY_API": "graphql"}
COMPANY = {"companyId": 98369, "companyLocationId": 5501,
           "companyLocationSignature": sign_location(207119551, 98369, 5501, SECRET)}


def stored_payload_of(app, response):
    assert response.status_code == 202, response.get_json()
    return app.extensions["store"].get(response.get_json()["id"])["payload"]


def test_under_graphql_the_cart_s_currency_and_discount_codes_are_stored(make_app):
    app = make_app(**GRAPHQL)
    body = cart_body(currency="EUR", discount_codes=[{"code": "SPRING10", "applicable": True}])
    payload = stored_payload_of(app, app.test_client().post("/webhooks/cart", json=body))
    assert payload["cart_context"] == {"currency": "EUR", "discount_codes": ["SPRING10"]}


def test_under_rest_the_cart_s_currency_and_discount_codes_stay_behind(client, app):
    body = cart_body(currency="EUR", discount_codes=[{"code": "SPRING10", "applicable": True}])
    assert "cart_context" not in stored_payload_of(app, client.post("/webhooks/cart", json=body))


def test_a_bad_currency_is_422_when_currencies_are_carried(make_app):
    app = make_app(**GRAPHQL)
    response = app.test_client().post("/webhooks/cart", json=cart_body(currency="EURO"))
    assert_error(response, 422, "invalid_currency", field="cart.currency")
    assert event_count(app) == 0


def test_with_b2b_orders_a_signed_company_location_is_stored(make_app):
    app = make_app(**GRAPHQL, B2B_ORDERS="1")
    response = app.test_client().post("/webhooks/cart", json={**cart_body(), **COMPANY})
    assert stored_payload_of(app, response)["cart_context"]["company"] \
        == {"company_id": 98369, "location_id": 5501}


def test_with_b2b_orders_a_forged_location_is_401_and_writes_nothing(make_app):
    app = make_app(**GRAPHQL, B2B_ORDERS="1")
    body = {**cart_body(), **COMPANY, "companyLocationId": 5502}
    response = app.test_client().post("/webhooks/cart", json=body)
    assert_error(response, 401, "signature_invalid", field="companyLocationSignature")
    assert event_count(app) == 0


def test_without_b2b_orders_the_company_fields_are_ignored(make_app):
    app = make_app(**GRAPHQL)
    body = {**cart_body(), **COMPANY, "companyLocationSignature": "forged"}
    assert "company" not in stored_payload_of(
        app, app.test_client().post("/webhooks/cart", json=body)).get("cart_context", {})
