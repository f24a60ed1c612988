"""A guest's contact through the simulator's GraphQL endpoint: the draft keeps
the email and billing address DraftOrderInput carries."""

from simulator_fixtures import *  # noqa: F403 (clock, make_sim, sim, client, state)

from app.intake import contact
from app.intake.cart import draft_order_payload
from app.shopify.graphql import CREATE, draft_order_input

HEADERS = {"X-Shopify-Access-Token": "shpat_simulator_token"}  # simulator_fixtures' token
GRAPHQL = "/admin/api/2025-10/graphql.json"
GUEST = contact.Guest(email="ann@example.com", name="Ann Lee", company="Lee & Co")


def test_a_guests_draft_keeps_the_email_and_billing_address(client, state):
    payload = draft_order_payload({"items": [{"variant_id": 39072856, "quantity": 1}]},
                                  guest=GUEST)
    response = client.post(GRAPHQL, headers=HEADERS,
                           json={"query": CREATE,
                                 "variables": {"input": draft_order_input(payload, None, {}, 0)}})
    assert response.json["data"]["draftOrderCreate"]["userErrors"] == []
    [draft] = state.draft_orders
    assert draft["email"] == "ann@example.com"
    assert draft["billing_address"] == {"first_name": "Ann", "last_name": "Lee",
                                        "company": "Lee & Co"}
