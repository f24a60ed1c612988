"""SHOPIFY_API=graphql end to end: carts through the receiver, the worker and
the GraphQL backend to the simulator's GraphQL endpoint, and back to the
status document the shopper's page reads."""

import pytest
from helpers import submit

from app.delivery.worker import Worker
from app.intake.signature import sign, sign_location
from app.ops import doctor
from app.shopify import GraphQLClient

TOKEN = "shpat_graphql_test"
SHIRT, MUG, POSTER = 39072856, 457924702, 808950810
CATALOGUE = {
    SHIRT: {"title": "Shirt", "price": "19.50"},
    MUG: {"title": "Mug", "price": "20.00", "inventory_quantity": 1, "inventory_policy": "deny"},
    POSTER: {"title": "Poster", "price": "15.00", "product_status": "archived"},
}
LINES = [{"variant_id": SHIRT, "quantity": 2}, {"variant_id": MUG, "quantity": 3}]


@pytest.fixture
def graphql_receiver(make_app, start_simulator, clock):
    """(client, worker, store, shop) of a receiver on SHOPIFY_API=graphql, its shop
    configured by `shop_config`, its settings by `settings`."""
    def build(shop_config=None, **settings):
        shop = start_simulator(TOKEN, catalogue=CATALOGUE,
                               discount_codes={"SPRING10": {"percentage": 10}},
                               **(shop_config or {}))
        app = make_app(SHOPIFY_SHOP=shop.url, SHOPIFY_ACCESS_TOKEN=TOKEN, SHOPIFY_API="graphql",
                       SHOPIFY_TIMEOUT="5", **settings)
        core = app.extensions["worker"]
        worker = Worker(core.store, core.client, core.policy, core.lease_seconds, clock=clock)
        return app.test_client(), worker, core.store, shop
    return build


def deliver(worker, store, event_id, clock):
    """Run the worker until the event settles; the settled event."""
    while store.get(event_id)["status"] not in ("completed", "failed"):
        assert worker.run_once() or clock.advance(60) is None
        assert clock.offset < 3600
    return store.get(event_id)


def status_of(client, accepted):
    return client.get(accepted["status_url"]).get_json()


def test_a_cart_in_euros_with_a_code_becomes_a_draft_in_euros_with_the_code(graphql_receiver,
                                                                            clock):
    client, worker, store, shop = graphql_receiver()
    accepted = submit(client, items=[LINES[0]], currency="EUR",
                      discount_codes=[{"code": "SPRING10", "applicable": True}])
    event = deliver(worker, store, accepted["id"], clock)
    [draft] = shop.state.draft_orders
    assert event["status"] == "completed" and event["draft_order_id"] == draft["id"]
    assert (draft["currency"], draft["discount_codes"]) == ("EUR", ["SPRING10"])
    assert status_of(client, accepted)["draft_order"]["name"] == draft["name"]


def test_the_draft_carries_the_event_marker_as_a_tag_and_an_attribute(graphql_receiver, clock):
    client, worker, store, shop = graphql_receiver(DRAFT_ORDER_TAGS="cart-request")
    accepted = submit(client, items=[LINES[0]])
    deliver(worker, store, accepted["id"], clock)
    [draft] = shop.state.draft_orders
    assert f"cart-event-{accepted['id'].replace('-', '')}" in draft["tags"]
    assert "cart-request" in draft["tags"]
    assert {"name": "_cart_event_id", "value": accepted["id"]} in draft["note_attributes"]


def test_an_out_of_stock_line_is_dropped_and_listed_for_the_shopper(graphql_receiver, clock):
    client, worker, store, shop = graphql_receiver(OUT_OF_STOCK_POLICY="drop")
    accepted = submit(client, items=LINES)
    deliver(worker, store, accepted["id"], clock)
    [draft] = shop.state.draft_orders
    assert [line["variant_id"] for line in draft["line_items"]] == [SHIRT]
    document = status_of(client, accepted)
    assert document["status"] == "completed"
    assert [(line["line"], line["variant_id"], line["code"])
            for line in document["dropped_lines"]] == [(1, MUG, "out_of_stock")]


def test_a_blocked_out_of_stock_line_fails_the_event_naming_the_line(graphql_receiver, clock):
    client, worker, store, shop = graphql_receiver(OUT_OF_STOCK_POLICY="block")
    accepted = submit(client, items=LINES)
    deliver(worker, store, accepted["id"], clock)
    document = status_of(client, accepted)
    assert (document["status"], document["error"]["code"]) == ("failed", "items_unavailable")
    assert [(line["line"], line["code"]) for line in document["error"]["lines"]] == [
        (1, "out_of_stock")]
    assert shop.state.draft_orders == []


def test_an_archived_product_is_an_invalid_item_the_policy_drops(graphql_receiver, clock):
    client, worker, store, shop = graphql_receiver(INVALID_ITEM_POLICY="drop")
    accepted = submit(client, items=[LINES[0], {"variant_id": POSTER, "quantity": 1}])
    deliver(worker, store, accepted["id"], clock)
    [dropped] = status_of(client, accepted)["dropped_lines"]
    assert (dropped["line"], dropped["code"]) == (1, "not_available")
    assert [line["variant_id"] for line in shop.state.draft_orders[0]["line_items"]] == [SHIRT]


def test_an_unknown_variant_fails_with_shopify_s_words_on_its_line(graphql_receiver, clock):
    client, worker, store, shop = graphql_receiver()
    accepted = submit(client, items=[LINES[0], {"variant_id": 999, "quantity": 1}])
    event = deliver(worker, store, accepted["id"], clock)
    assert event["error_code"] == "shopify_rejected"
    [line] = status_of(client, accepted)["error"]["lines"]
    assert (line["line"], line["variant_id"]) == (1, 999)


def test_a_company_contact_gets_a_draft_for_the_company_location(graphql_receiver, clock):
    customer, company, location = 207119551, 3301, 4401
    client, worker, store, shop = graphql_receiver(
        {"companies": {company: {"locations": [location], "contacts": {customer: 5501}}}},
        B2B_ORDERS="1")
    body = {"companyId": company, "companyLocationId": location,
            "companyLocationSignature": sign_location(customer, company, location,
                                                      "storefront-secret")}
    response = client.post("/webhooks/cart", json={
        "cart": {"token": "c1-b2b", "items": [LINES[0]]}, "customerId": customer,
        "customerIdSignature": sign(customer, "storefront-secret"), **body})
    assert response.status_code == 202, response.get_json()
    event = deliver(worker, store, response.get_json()["id"], clock)
    assert event["status"] == "completed"
    assert shop.state.draft_orders[0]["purchasing_company"] == {
        "company_id": company, "company_contact_id": 5501, "company_location_id": location}


def test_a_lost_answer_after_creation_still_gives_one_draft(graphql_receiver, clock):
    client, worker, store, shop = graphql_receiver({"drop_after_create": 1})
    accepted = submit(client, items=[LINES[0]])
    event = deliver(worker, store, accepted["id"], clock)
    [draft] = shop.state.draft_orders
    assert (event["status"], event["draft_order_id"]) == ("completed", draft["id"])


def test_a_small_cost_bucket_is_waited_out_without_a_throttled_call(graphql_receiver, clock):
    client, worker, store, shop = graphql_receiver(
        {"graphql_bucket_size": 25, "graphql_restore_rate": 50})
    accepted = [submit(client, items=[LINES[0]], token=f"c1-{n}") for n in range(4)]
    for event in accepted:
        assert deliver(worker, store, event["id"], clock)["status"] == "completed"
    assert not any(entry.get("graphql", {}).get("throttled") for entry in shop.state.requests)


def test_a_token_without_the_write_scope_fails_naming_it(graphql_receiver, clock):
    client, worker, store, shop = graphql_receiver({"scopes": ["read_draft_orders"]})
    accepted = submit(client, items=[LINES[0]])
    event = deliver(worker, store, accepted["id"], clock)
    assert event["error_code"] == "shopify_access_denied"
    assert "write_draft_orders" in event["error_detail"]


STOCK_SCOPES = ("token has the write_draft_orders, read_products, read_inventory, read_orders "
                "scopes")


def test_doctor_passes_through_graphql_when_the_token_has_every_scope(graphql_receiver):
    client, *_ = graphql_receiver(
        {"scopes": ["write_draft_orders", "read_products", "read_inventory", "read_orders"]},
        OUT_OF_STOCK_POLICY="drop")
    results = doctor.run(client.application)
    assert [check.status for check in results] == ["PASS"] * 7
    assert results[5].name == STOCK_SCOPES


def test_doctor_names_the_scope_the_stock_policy_lacks(graphql_receiver):
    client, *_ = graphql_receiver({"scopes": ["write_draft_orders", "read_products",
                                              "read_orders"]},
                                  OUT_OF_STOCK_POLICY="drop")
    scopes = {check.name: check for check in doctor.run(client.application)}[STOCK_SCOPES]
    assert scopes.status == "FAIL" and "add read_inventory" in scopes.hint


def test_the_lookup_after_a_lost_answer_waits_for_shopify_s_search_index(graphql_receiver,
                                                                        clock):
    client, worker, store, shop = graphql_receiver({"drop_after_create": 1})
    event_id = submit(client, items=[LINES[0]])["id"]
    worker.run_once()
    event = store.get(event_id)
    assert event["maybe_posted"] == 1
    assert event["next_attempt_at"] - event["updated_at"] >= GraphQLClient.lookup_lag


def test_doctor_asks_graphql_for_the_shop_and_its_scopes_in_one_call(graphql_receiver):
    client, _, _, shop = graphql_receiver()
    doctor.run(client.application)
    assert [entry["graphql"]["operation"] for entry in shop.state.snapshot("requests")
            if "graphql" in entry] == ["ShopAndScopes"]
