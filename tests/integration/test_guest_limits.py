"""A guest's submissions per email address (RATE_LIMIT_PER_EMAIL): counted
exactly, in the event's insert transaction, by a keyed hash of the address."""

import pytest
from helpers import cart_body

from app.intake import contact


@pytest.fixture
def app(make_app):
    return make_app(GUEST_FIELDS="email*", RATE_LIMIT_PER_EMAIL="2", RATE_LIMIT_PER_IP="0")


def guest_post(client, email, token):
    body = cart_body(customer_id=None, guest={"email": email})
    body["cart"]["token"] = token  # another cart each time: no resubmission
    return client.post("/webhooks/cart", json=body)


def test_an_email_past_its_limit_gets_429_naming_the_email_address(client):
    assert [guest_post(client, "ann@example.com", f"c{n}").status_code for n in range(2)] == [
        202, 202]
    refused = guest_post(client, "ANN@example.com", "c3")
    assert refused.status_code == 429
    assert "this email address" in refused.get_json()["error"]["detail"]
    assert int(refused.headers["Retry-After"]) >= 1


def test_another_email_from_the_same_address_is_not_limited(client):
    for n in range(2):
        guest_post(client, "ann@example.com", f"c{n}")
    assert guest_post(client, "bob@example.com", "c9").status_code == 202


def test_the_event_keeps_a_keyed_hash_of_the_email_not_the_email(client, store, app):
    event_id = guest_post(client, "ann@example.com", "c1").get_json()["id"]
    with store._connect() as conn:
        [key] = conn.execute("SELECT guest_key FROM events WHERE id = ?", (event_id,)).fetchone()
    guest = contact.Guest(email="ann@example.com")
    assert key == contact.rate_key(guest, app.config["SECRET_KEY"])
    assert "ann" not in key

