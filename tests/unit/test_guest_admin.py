"""/admin shows who asked: a guest's contact and message on the event's page."""

import html

import pytest
from helpers import submit

PASSWORD = "correct horse battery staple"
AUTH = ("merchant", PASSWORD)
GUEST = {"email": "ann@example.com", "name": "Ann <b>Lee</b>", "message": "Ship by Friday?",
         "custom": {"PO number": "PO-7"}}


@pytest.fixture
def app(make_app):
    return make_app(ADMIN_PASSWORD=PASSWORD, GUEST_FIELDS="email*,name,message",
                    GUEST_CUSTOM_FIELDS="PO number")


def event_page(client, event_id):
    response = client.get(f"/admin/events/{event_id}", auth=AUTH)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_event_page_shows_the_guests_contact_and_message(client):
    text = html.unescape(event_page(client, submit(client, customer_id=None, guest=GUEST)["id"]))
    section = text.split("Who asked (a guest)", 1)[1].split("</dl>", 1)[0]
    for shown in ("ann@example.com", "Ann <b>Lee</b>", "Ship by Friday?", "PO number", "PO-7"):
        assert shown in section


def test_the_guests_words_are_escaped(client):
    text = event_page(client, submit(client, customer_id=None, guest=GUEST)["id"])
    assert "<b>Lee</b>" not in text


def test_a_customers_event_page_has_no_guest_section(client):
    assert "Who asked" not in event_page(client, submit(client)["id"])
