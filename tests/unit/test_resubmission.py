"""When a submission gets an earlier event back: only when the whole submission is
the same, from the same submitter, and the earlier event has not failed."""

from helpers import API, submit

CREATE = f"{API}/draft_orders.json"
REJECTED = {"errors": {"line_items": ["Variant 39072856 does not exist"]}}


def test_the_same_guest_sending_the_same_cart_again_gets_the_first_event(client):
    first = submit(client, customer_id=None)
    assert submit(client, customer_id=None)["id"] == first["id"]


def test_another_guest_sending_the_same_cart_token_and_lines_gets_an_event_of_their_own(client):
    first = submit(client, customer_id=None, address="203.0.113.1", note="Mine")
    second = submit(client, customer_id=None, address="198.51.100.7", note="Mine")
    assert second["id"] != first["id"] and second["status_url"] != first["status_url"]


def test_a_signed_customer_sending_the_same_cart_from_another_address_gets_the_first_event(
        client):
    first = submit(client, address="203.0.113.1")
    assert submit(client, address="198.51.100.7")["id"] == first["id"]


def test_carts_without_a_token_are_never_merged(client):
    assert submit(client, token=None)["id"] != submit(client, token=None)["id"]


def test_a_failed_event_is_not_handed_back_to_the_same_cart_sent_again(client, worker, shopify):
    shopify.post(CREATE, status=422, json=REJECTED)
    first = submit(client)
    worker.run_once()
    again = submit(client)
    assert again["id"] != first["id"] and again["status"] == "queued"


def test_the_same_cart_at_the_rate_limit_still_gets_its_event_back(make_app):
    client = make_app(RATE_LIMIT_PER_IP="1").test_client()
    first = submit(client)
    assert submit(client)["id"] == first["id"]
