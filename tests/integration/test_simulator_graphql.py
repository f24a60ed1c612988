"""The simulator's GraphQL Admin API: draft orders, variants with stock, B2B
companies, the cost bucket and Shopify's error shapes, over the REST side's drafts."""

import time

import pytest
import requests
from servers import shopify_simulator
from simulator_fixtures import *  # noqa: F403 (clock, make_sim, sim, client, state)

from app.dev.simulator import ConnectionDropped

TOKEN = "shpat_simulator_token"
HEADERS = {"X-Shopify-Access-Token": TOKEN}
API = "/admin/api/2025-10"
GRAPHQL = f"{API}/graphql.json"
CREATE = """mutation DraftOrderCreate($input: DraftOrderInput!) {
  draftOrderCreate(input: $input) {
    draftOrder { id legacyResourceId name invoiceUrl status tags customAttributes { key value } }
    userErrors { field message }
  }
}"""
BY_TAG = """query DraftOrderByMarker($query: String!) {
  draftOrders(first: 5, query: $query) { nodes { id tags customAttributes { key value } } }
}"""
VARIANTS = """query PrepareDraft($ids: [ID!]!) {
  nodes(ids: $ids) {
    ... on ProductVariant { id availableForSale inventoryPolicy inventoryQuantity }
  }
}"""
COMPANY = {"companyId": "gid://shopify/Company/1", "companyLocationId":
           "gid://shopify/CompanyLocation/2", "companyContactId": "gid://shopify/CompanyContact/3"}
COMPANIES = {1: {"locations": [2], "contacts": {7: 3}}}


def variant(number):
    return f"gid://shopify/ProductVariant/{number}"


def draft_input(*items, **fields):
    items = items or ({"variantId": variant(39072856), "quantity": 2},)
    return {"lineItems": list(items), **fields}


def ask(client, document, headers=HEADERS, **variables):
    return client.post(GRAPHQL, json={"query": document, "variables": variables},
                       headers=headers)


def create(client, draft=None):
    return ask(client, CREATE, input=draft or draft_input())


def created(response):
    return response.json["data"]["draftOrderCreate"]


def test_draft_order_create_answers_the_draft_order(client):
    response = create(client, draft_input(tags=["web", "cart-event-1"],
                                          customAttributes=[{"key": "_cart_event_id",
                                                             "value": "e1"}]))

    order = created(response)["draftOrder"]
    assert (response.status_code, created(response)["userErrors"]) == (200, [])
    assert order["id"] == f"gid://shopify/DraftOrder/{order['legacyResourceId']}"
    assert (order["name"], order["status"], order["tags"]) == ("#D1", "OPEN",
                                                               ["web", "cart-event-1"])
    assert order["customAttributes"] == [{"key": "_cart_event_id", "value": "e1"}]
    assert order["invoiceUrl"].startswith("http://localhost/548380009/invoices/")


def test_unknown_variant_is_a_user_error_on_its_line_and_creates_nothing(make_sim):
    sim = make_sim(unknown_variants=[123])

    answer = created(create(sim.test_client(), draft_input(
        {"variantId": variant(5), "quantity": 1}, {"variantId": variant(123), "quantity": 1})))

    assert answer["draftOrder"] is None
    assert [e["field"] for e in answer["userErrors"]] == [["lineItems", "1", "variantId"]]
    assert sim.extensions["shopify_simulator"].draft_orders == []


def test_quantity_zero_is_a_user_error_on_its_line(client):
    answer = created(create(client, draft_input({"variantId": variant(5), "quantity": 0})))

    assert answer["userErrors"] == [{"field": ["lineItems", "0", "quantity"],
                                     "message": "Quantity must be greater than or equal to 1"}]


def test_a_currency_the_shop_does_not_have_is_a_user_error(client, state):
    answer = created(create(client, draft_input(presentmentCurrencyCode="JPY")))

    assert [e["field"] for e in answer["userErrors"]] == [["presentmentCurrencyCode"]]
    assert state.draft_orders == []


def test_an_accepted_presentment_currency_becomes_the_drafts_currency(client, state):
    create(client, draft_input(presentmentCurrencyCode="EUR"))

    assert state.draft_orders[0]["currency"] == "EUR"


def test_a_known_discount_code_applies_to_the_subtotal(make_sim):
    sim = make_sim(catalogue={7: {"title": "Shirt", "price": "20"}},
                   discount_codes={"SPRING10": {"percentage": 10}})

    create(sim.test_client(), draft_input({"variantId": variant(7), "quantity": 2},
                                          discountCodes=["SPRING10"]))

    stored = sim.extensions["shopify_simulator"].draft_orders[0]
    assert (stored["subtotal_price"], stored["total_discounts"]) == ("36.00", "4.00")
    assert stored["discount_codes"] == ["SPRING10"]


def test_rest_and_graphql_drafts_of_the_same_lines_carry_the_catalogues_titles_and_prices(
        make_sim):
    sim = make_sim(catalogue={7: {"title": "Shirt - M", "price": "19.50"},
                              8: {"title": "Mug", "price": "20"}})
    client = sim.test_client()

    client.post(f"{API}/draft_orders.json", headers=HEADERS, json={"draft_order": {
        "line_items": [{"variant_id": 7, "quantity": 2}, {"variant_id": 8, "quantity": 1}]}})
    create(client, draft_input({"variantId": variant(7), "quantity": 2},
                               {"variantId": variant(8), "quantity": 1}))

    rest, graphql = sim.extensions["shopify_simulator"].draft_orders
    lines = [(li["title"], li["price"], li["quantity"]) for li in rest["line_items"]]
    assert lines == [("Shirt - M", "19.50", 2), ("Mug", "20.00", 1)]
    assert [(li["title"], li["price"], li["quantity"]) for li in graphql["line_items"]] == lines
    assert rest["subtotal_price"] == graphql["subtotal_price"] == "59.00"


def test_an_unknown_discount_code_is_skipped_and_the_draft_still_made(make_sim):
    sim = make_sim(catalogue={7: {"title": "Shirt", "price": "20"}})

    answer = created(create(sim.test_client(), draft_input(
        {"variantId": variant(7), "quantity": 2}, discountCodes=["NOPE"])))

    stored = sim.extensions["shopify_simulator"].draft_orders[0]
    assert answer["userErrors"] == []
    assert (stored["subtotal_price"], stored["discount_codes"]) == ("40.00", [])


def test_a_consistent_purchasing_company_drafts_for_the_company_contact(make_sim):
    sim = make_sim(companies=COMPANIES)

    answer = created(create(sim.test_client(), draft_input(
        purchasingEntity={"purchasingCompany": COMPANY})))

    stored = sim.extensions["shopify_simulator"].draft_orders[0]
    assert answer["userErrors"] == []
    assert stored["customer"] == {"id": 7}
    assert stored["purchasing_company"] == {"company_id": 1, "company_contact_id": 3,
                                            "company_location_id": 2}


def test_a_location_of_another_company_is_a_user_error(make_sim):
    sim = make_sim(companies={**COMPANIES, 4: {"locations": [5], "contacts": {}}})
    buyer = {**COMPANY, "companyLocationId": "gid://shopify/CompanyLocation/5"}

    answer = created(create(sim.test_client(), draft_input(
        purchasingEntity={"purchasingCompany": buyer})))

    assert [e["field"] for e in answer["userErrors"]] == [
        ["purchasingEntity", "purchasingCompany", "companyLocationId"]]


def test_draft_orders_finds_a_draft_by_tag_quoted_or_not(client):
    create(client, draft_input(tags=["cart-event-abc"]))
    create(client, draft_input(tags=["cart-event-other"]))

    for query in ("tag:'cart-event-abc'", "tag:cart-event-abc"):
        found = ask(client, BY_TAG, query=query).json["data"]["draftOrders"]["nodes"]
        assert [order["tags"] for order in found] == [["cart-event-abc"]]


def test_draft_orders_combines_terms_and_ignores_unknown_filters(client):
    create(client, draft_input(tags=["cart-event-abc"]))

    def found(query):
        return ask(client, BY_TAG, query=query).json["data"]["draftOrders"]["nodes"]

    assert len(found("tag:cart-event-abc updated_at:>='2000-01-01T00:00:00Z' colour:red")) == 1
    assert found("tag:cart-event-abc updated_at:>='2999-01-01T00:00:00Z'") == []


def test_nodes_answers_variants_with_their_stock_and_null_for_unknown_ids(make_sim):
    sim = make_sim(catalogue={7: {"title": "Shirt", "price": 10, "inventory_quantity": 0},
                              8: {"title": "Mug", "price": 5, "inventory_quantity": 3,
                                  "inventory_policy": "continue", "product_status": "draft"}})

    nodes = ask(sim.test_client(), VARIANTS, ids=[variant(7), variant(8), variant(9)]).json[
        "data"]["nodes"]

    assert (nodes[0]["availableForSale"], nodes[0]["inventoryQuantity"]) == (False, 0)
    assert nodes[0]["inventoryItem"] == {"id": "gid://shopify/InventoryItem/7", "tracked": True}
    assert (nodes[1]["inventoryPolicy"], nodes[1]["product"]["status"]) == ("CONTINUE", "DRAFT")
    assert nodes[1]["availableForSale"] is False
    assert nodes[2] is None


def test_without_a_catalogue_every_variant_is_active_and_in_stock(client):
    node = ask(client, VARIANTS, ids=[variant(5)]).json["data"]["nodes"][0]

    assert (node["availableForSale"], node["inventoryQuantity"]) == (True, 100)
    assert node["product"]["status"] == "ACTIVE"


def test_customer_and_company_location_resolve_the_company_contact(make_sim):
    client = make_sim(companies=COMPANIES).test_client()
    query = """query Buyer($customer: ID!, $location: ID!) {
      customer(id: $customer) { companyContactProfiles { id company { id } } }
      companyLocation(id: $location) { company { id } }
    }"""

    data = ask(client, query, customer="gid://shopify/Customer/7",
               location=COMPANY["companyLocationId"]).json["data"]

    assert data["customer"]["companyContactProfiles"] == [
        {"id": COMPANY["companyContactId"], "company": {"id": COMPANY["companyId"]}}]
    assert data["companyLocation"]["company"] == {"id": COMPANY["companyId"]}


def test_shop_and_scopes_are_answered_together(client):
    query = """query ShopAndScopes { shop { name myshopifyDomain currencyCode }
      currentAppInstallation { accessScopes { handle } } }"""

    data = ask(client, query).json["data"]

    assert (data["shop"]["myshopifyDomain"], data["shop"]["currencyCode"]) == (
        "simulator.myshopify.com", "USD")
    assert {"handle": "write_draft_orders"} in data["currentAppInstallation"]["accessScopes"]


def test_every_answer_carries_its_cost_and_the_bucket_after_it(client):
    cost = create(client).json["extensions"]["cost"]

    assert cost == {"requestedQueryCost": 10, "actualQueryCost": 10,
                    "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": 990,
                                       "restoreRate": 100.0}}


def test_queries_cost_one_plus_the_page_or_the_ids(client):
    cost = ask(client, BY_TAG, query="tag:x").json["extensions"]["cost"]["requestedQueryCost"]
    ids = [variant(n) for n in range(1, 4)]

    assert cost == 6
    assert ask(client, VARIANTS, ids=ids).json["extensions"]["cost"]["requestedQueryCost"] == 4


def test_the_bucket_restores_at_the_restore_rate(make_sim, clock):
    client = make_sim(graphql_bucket_size=30, graphql_restore_rate=5).test_client()
    for _ in range(3):
        create(client)

    def available_after(seconds):
        clock.advance(seconds)
        response = create(client).json
        return "errors" in response, response["extensions"]["cost"]["throttleStatus"][
            "currentlyAvailable"]

    assert available_after(0) == (True, 0)
    assert available_after(1) == (True, 5)
    assert available_after(1) == (False, 0)


def test_a_request_the_bucket_cannot_hold_is_throttled_and_creates_nothing(make_sim, clock):
    sim = make_sim(graphql_bucket_size=15)
    client, state = sim.test_client(), sim.extensions["shopify_simulator"]
    create(client)

    response = create(client)

    assert response.status_code == 200
    assert response.json["errors"] == [{"message": "Throttled", "extensions": {
        "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}]
    assert "data" not in response.json
    assert response.json["extensions"]["cost"]["actualQueryCost"] is None
    assert response.json["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 5
    assert len(state.draft_orders) == 1


def test_a_throttled_call_is_logged_as_throttled_and_early(make_sim, clock):
    sim = make_sim(graphql_bucket_size=10)
    client, state = sim.test_client(), sim.extensions["shopify_simulator"]
    create(client)
    create(client)
    clock.advance(0.1)  # 10 points restored
    create(client)

    logged = [(r["status"], r["early"], r["graphql"]) for r in state.requests]
    assert logged == [
        (200, False, {"operation": "DraftOrderCreate", "cost": 10, "throttled": False}),
        (200, True, {"operation": "DraftOrderCreate", "cost": 10, "throttled": True}),
        (200, False, {"operation": "DraftOrderCreate", "cost": 10, "throttled": False}),
    ]


def test_graphql_spends_no_rest_calls(make_sim):
    client = make_sim(bucket_size=1).test_client()
    for _ in range(3):
        create(client)

    assert client.get(f"{API}/shop.json", headers=HEADERS).status_code == 200


def test_a_missing_scope_is_access_denied_for_that_field_only(client, state):
    state.configure(scopes=["read_draft_orders"])

    response = create(client)

    assert response.status_code == 200
    assert response.json["data"] == {"draftOrderCreate": None}
    assert response.json["errors"] == [{
        "message": "Access denied for draftOrderCreate field. "
                   "Required access: `write_draft_orders` access scope.",
        "path": ["draftOrderCreate"],
        "extensions": {"code": "ACCESS_DENIED",
                       "documentation": "https://shopify.dev/api/usage/access-scopes",
                       "requiredAccess": "`write_draft_orders` access scope."}}]
    assert state.draft_orders == []


@pytest.mark.parametrize("query, scope", [
    (VARIANTS, "read_products"),
    ("query C($id: ID!) { customer(id: $id) { id } }", "read_customers"),
    ("query L($id: ID!) { companyLocation(id: $id) { id } }", "read_companies"),
])
def test_each_read_needs_its_scope(client, state, query, scope):
    state.configure(scopes=[s for s in state.config["scopes"] if s != scope])

    errors = ask(client, query, ids=[variant(1)], id="gid://shopify/Customer/1").json["errors"]

    assert errors[0]["extensions"]["requiredAccess"] == f"`{scope}` access scope."


def test_a_graphql_draft_is_listed_and_found_by_the_rest_api(client):
    order = created(create(client, draft_input(
        customAttributes=[{"key": "_cart_event_id", "value": "e1"}])))["draftOrder"]

    listed = client.get(f"{API}/draft_orders.json", headers=HEADERS).json["draft_orders"]
    found = client.get(f"{API}/draft_orders/{order['legacyResourceId']}.json",
                       headers=HEADERS).json["draft_order"]

    assert [d["id"] for d in listed] == [int(order["legacyResourceId"])]
    assert found["note_attributes"] == [{"name": "_cart_event_id", "value": "e1"}]


def test_a_rest_draft_is_found_by_tag_through_graphql(client):
    client.post(f"{API}/draft_orders.json", headers=HEADERS, json={"draft_order": {
        "line_items": [{"variant_id": 5, "quantity": 1}], "tags": "web,cart-event-abc"}})

    found = ask(client, BY_TAG, query="tag:'cart-event-abc'").json["data"]["draftOrders"]["nodes"]

    assert [order["tags"] for order in found] == [["web", "cart-event-abc"]]


@pytest.mark.parametrize("body", [None, {"variables": {}}, {"query": 1}, "not json"])
def test_a_body_that_is_no_graphql_request_is_400(client, body):
    response = client.post(GRAPHQL, json=body, headers=HEADERS)

    assert response.status_code == 400


def test_an_unknown_root_field_is_refused_before_anything_runs(client):
    response = ask(client, "query Q { products(first: 1) { nodes { id } } }")

    assert response.status_code == 200
    assert response.json["errors"][0]["extensions"]["code"] == "undefinedField"


@pytest.mark.parametrize("config, status", [({"down": True}, 503),
                                            ({"api_versions": ["2024-01"]}, 404)])
def test_graphql_sits_behind_the_same_gatekeeper(make_sim, config, status):
    assert create(make_sim(**config).test_client()).status_code == status


def test_a_wrong_token_is_401(client):
    assert ask(client, CREATE, headers={}, input=draft_input()).status_code == 401


def test_fail_next_fails_a_create_but_not_a_read(client, state):
    state.configure(fail_next=1, fail_status=502)

    assert ask(client, BY_TAG, query="tag:x").status_code == 200
    assert create(client).status_code == 502
    assert state.draft_orders == []
    assert create(client).status_code == 200


def test_dropped_answer_after_a_graphql_create_leaves_the_draft(client, state):
    state.configure(drop_after_create=1)

    with pytest.raises(ConnectionDropped):
        create(client)

    assert [d["name"] for d in state.draft_orders] == ["#D1"]
    assert state.requests[-1]["dropped"] is True


def test_a_rejected_create_does_not_spend_drop_after_create(client, state):
    state.configure(drop_after_create=1)

    create(client, draft_input({"variantId": variant(5), "quantity": 0}))

    assert state.config["drop_after_create"] == 1


def test_served_simulator_drops_the_connection_after_a_graphql_create():
    with shopify_simulator(TOKEN, drop_after_create=1) as shop:
        with pytest.raises(requests.ConnectionError):
            requests.post(shop.server.url + GRAPHQL, headers=HEADERS, timeout=5, json={
                "query": CREATE, "variables": {"input": draft_input()}})

        assert [d["name"] for d in shop.state.snapshot("draft_orders")] == ["#D1"]


@pytest.mark.parametrize("config", [
    {"catalogue": {7: {"title": "T", "price": 1, "inventory_policy": "sometimes"}}},
    {"catalogue": {7: {"title": "T", "price": 1, "product_status": "gone"}}},
    {"catalogue": {7: {"title": "T", "price": 1, "tracked": "yes"}}},
    {"currencies": ["euro"]},
    {"discount_codes": {"X": {"percentage": 0}}},
    {"graphql_bucket_size": 0},
    {"graphql_restore_rate": 0},
])
def test_control_api_rejects_invalid_graphql_settings(client, config):
    assert client.post("/_sim/config", json=config).status_code == 400


def test_control_api_accepts_companies_with_string_ids(client):
    response = client.post("/_sim/config", json={"companies": {"1": {
        "locations": ["2"], "contacts": {"7": "3"}}}})

    assert response.json["companies"] == {"1": {"locations": [2], "contacts": {"7": 3}}}


def test_delay_seconds_holds_a_graphql_answer_back_after_the_draft_exists(client, state):
    state.configure(delay_seconds=0.2)

    started = time.monotonic()
    response = create(client)

    assert response.status_code == 200
    assert time.monotonic() - started >= 0.2


def test_operation_name_picks_one_operation_of_several(client):
    document = f"{BY_TAG}\nquery ShopOnly {{ shop {{ name }} }}"
    body = {"query": document, "operationName": "ShopOnly"}

    response = client.post(GRAPHQL, json=body, headers=HEADERS)

    assert list(response.json["data"]) == ["shop"]


@pytest.mark.parametrize("draft", [
    None, draft_input(tags="a,b"), draft_input(customAttributes=[{"value": "no key"}]),
    draft_input("not a line"),
])
def test_an_input_of_the_wrong_shape_is_an_invalid_variable(client, state, draft):
    response = ask(client, CREATE, input=draft)

    assert response.json["data"] == {"draftOrderCreate": None}
    assert response.json["errors"][0]["extensions"]["code"] == "INVALID_VARIABLE"
    assert state.draft_orders == []


def test_no_line_items_is_a_user_error(client):
    answer = created(create(client, {"lineItems": []}))

    assert [e["field"] for e in answer["userErrors"]] == [["lineItems"]]


# --- the draft's lifecycle: invoices, orders, webhook subscriptions

INVOICE = """mutation DraftOrderInvoiceSend($id: ID!, $email: EmailInput) {
  draftOrderInvoiceSend(id: $id, email: $email) {
    draftOrder { id status invoiceSentAt }
    userErrors { field message }
  }
}"""
DRAFT = """query DraftOrder($id: ID!) {
  draftOrder(id: $id) {
    id legacyResourceId status updatedAt invoiceSentAt
    order { legacyResourceId name displayFinancialStatus }
  }
}"""
ORDER = """query Order($id: ID!) { order(id: $id) { id name displayFinancialStatus } }"""
SUBSCRIBE = """mutation WebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!,
    $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}"""
SUBSCRIPTIONS = """query WebhookSubscriptions {
  webhookSubscriptions(first: 10) {
    nodes { id topic uri endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } } }
  }
}"""
HOOKS = "https://example.com/webhooks/shopify"


def customer_draft(client):
    customer = {"purchasingEntity": {"customerId": "gid://shopify/Customer/207119551"}}
    return created(create(client, draft_input(**customer)))["draftOrder"]


def invoice(client, draft_id, **email):
    return ask(client, INVOICE, id=draft_id, email=email or None)


def test_invoice_send_answers_the_draft_invoice_sent_and_records_the_invoice(client, state):
    draft = customer_draft(client)

    answer = invoice(client, draft["id"], subject="Your quote").json["data"]

    sent = answer["draftOrderInvoiceSend"]
    assert sent["userErrors"] == []
    assert (sent["draftOrder"]["status"], sent["draftOrder"]["invoiceSentAt"] is None) == (
        "INVOICE_SENT", False)
    assert [(i["to"], i["subject"], i["api"]) for i in state.invoices] == [
        ("customer207119551@example.com", "Your quote", "graphql")]


def test_invoice_send_costs_ten(client):
    draft = customer_draft(client)

    assert invoice(client, draft["id"]).json["extensions"]["cost"]["requestedQueryCost"] == 10


def test_invoice_send_for_a_guest_draft_is_a_user_error_on_to(client, state):
    draft = created(create(client))["draftOrder"]

    sent = invoice(client, draft["id"]).json["data"]["draftOrderInvoiceSend"]

    assert sent == {"draftOrder": None,
                    "userErrors": [{"field": ["email", "to"], "message": "To can't be blank"}]}
    assert state.invoices == []


def test_invoice_send_for_an_unknown_draft_is_a_user_error_on_id(client):
    sent = invoice(client, "gid://shopify/DraftOrder/1").json["data"]["draftOrderInvoiceSend"]

    assert [e["field"] for e in sent["userErrors"]] == [["id"]]


def test_invoice_send_needs_write_draft_orders(client, state):
    draft = customer_draft(client)
    state.configure(scopes=["read_draft_orders"])

    answer = invoice(client, draft["id"]).json

    assert answer["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
    assert state.invoices == []


def test_dropped_answer_after_a_graphql_invoice_leaves_it_sent(client, state):
    draft = customer_draft(client)
    state.configure(drop_after_invoice=1)

    with pytest.raises(ConnectionDropped):
        invoice(client, draft["id"])

    assert len(state.invoices) == 1


def test_draft_order_of_a_paid_draft_carries_its_order(client):
    draft = customer_draft(client)
    client.post(f"/_sim/draft_orders/{draft['legacyResourceId']}/complete")

    read = ask(client, DRAFT, id=draft["id"]).json["data"]["draftOrder"]

    assert read["status"] == "COMPLETED"
    assert (read["order"]["name"], read["order"]["displayFinancialStatus"]) == ("#1001", "PAID")
    assert read["updatedAt"].endswith("Z")


def test_draft_order_of_a_deleted_draft_is_null(client):
    draft = customer_draft(client)
    client.post(f"/_sim/draft_orders/{draft['legacyResourceId']}/delete")

    assert ask(client, DRAFT, id=draft["id"]).json["data"] == {"draftOrder": None}


def test_order_answers_the_order_a_draft_became_and_needs_read_orders(client, state):
    draft = customer_draft(client)
    order = client.post(f"/_sim/draft_orders/{draft['legacyResourceId']}/complete").json["order"]
    gid = order["admin_graphql_api_id"]

    assert ask(client, ORDER, id=gid).json["data"]["order"]["name"] == "#1001"
    state.configure(scopes=["read_draft_orders"])
    assert ask(client, ORDER, id=gid).json["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"


def test_webhook_subscription_create_subscribes_and_lists_with_its_endpoint(client):
    made = ask(client, SUBSCRIBE, topic="DRAFT_ORDERS_UPDATE",
               webhookSubscription={"uri": HOOKS, "format": "JSON"}).json["data"]

    assert made["webhookSubscriptionCreate"]["userErrors"] == []
    [listed] = ask(client, SUBSCRIPTIONS).json["data"]["webhookSubscriptions"]["nodes"]
    assert (listed["topic"], listed["uri"]) == ("DRAFT_ORDERS_UPDATE", HOOKS)
    assert listed["endpoint"] == {"__typename": "WebhookHttpEndpoint", "callbackUrl": HOOKS}


def test_webhook_subscription_create_takes_the_older_callback_url(client, state):
    ask(client, SUBSCRIBE, topic="ORDERS_CREATE", webhookSubscription={"callbackUrl": HOOKS})

    assert [(w["topic"], w["address"]) for w in state.webhooks] == [("orders/create", HOOKS)]


def test_a_subscription_taken_for_the_topic_is_a_user_error(client):
    for _ in range(2):
        answer = ask(client, SUBSCRIBE, topic="DRAFT_ORDERS_DELETE",
                     webhookSubscription={"uri": HOOKS}).json["data"]

    assert answer["webhookSubscriptionCreate"] == {"webhookSubscription": None, "userErrors": [
        {"field": ["webhookSubscription", "uri"],
         "message": "Address for this topic has already been taken"}]}


def test_graphql_and_rest_see_the_same_subscriptions(client):
    ask(client, SUBSCRIBE, topic="DRAFT_ORDERS_UPDATE", webhookSubscription={"uri": HOOKS})

    listed = client.get(f"{API}/webhooks.json", headers=HEADERS).json["webhooks"]

    assert [(w["topic"], w["address"]) for w in listed] == [("draft_orders/update", HOOKS)]
