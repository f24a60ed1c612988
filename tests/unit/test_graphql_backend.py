"""The GraphQL Admin API backend against Shopify's documented answer shapes:
the DraftOrderInput it sends, and what each answer means for the event."""

import json

import pytest
import requests
from helpers import API, SHOP, TOKEN, Clock, submit

from app.config import DEFAULT_API_VERSION
from app.delivery.worker import Worker
from app.ids import EVENT_MARKER
from app.shopify import make_client
from app.shopify.graphql import GraphQLClient, draft_order_input
from app.shopify.pacing import CostPacer

GRAPHQL = f"{API}/graphql.json"
EVENT = "0d2f7a4e-9c1b-4f3e-8a5d-6b7c8d9e0f1a"
NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z
INVOICE = f"{SHOP}/548380009/invoices/b21e68f2"
DRAFT = {"legacyResourceId": "1069920479", "name": "#D5", "invoiceUrl": INVOICE}
DONE = {"id": 1069920479, "name": "#D5", "invoice_url": INVOICE}
STOCK = {"OUT_OF_STOCK_POLICY": "block"}


def payload(items=((11, 2), (12, 1), (13, 1)), customer_id=207119551, tags="", **context):
    draft = {"line_items": [{"variant_id": variant, "quantity": quantity, "properties": []}
                            for variant, quantity in items],
             "note_attributes": [{"name": "Gift", "value": "yes"},
                                 {"name": EVENT_MARKER, "value": EVENT}]}
    if customer_id is not None:
        draft["customer"] = {"id": customer_id}
        draft["use_customer_default_address"] = True
    if tags:
        draft["tags"] = tags
    return {"draft_order": draft, **({"cart_context": context} if context else {})}


def cost(requested=10, available=990.0, maximum=1000.0, rate=100.0):
    return {"cost": {"requestedQueryCost": requested, "actualQueryCost": requested,
                     "throttleStatus": {"maximumAvailable": maximum,
                                        "currentlyAvailable": available, "restoreRate": rate}}}


def answer(data, **costs):
    return {"data": data, "extensions": cost(**costs)}


def created(draft=DRAFT):
    return answer({"draftOrderCreate": {"draftOrder": draft, "userErrors": []}})


def user_errors(*errors):
    return answer({"draftOrderCreate": {"draftOrder": None, "userErrors": list(errors)}})


def throttled(requested=10, available=4.0, rate=100.0):
    return {"errors": [{"message": "Throttled", "extensions": {
        "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
        "extensions": {"cost": {"requestedQueryCost": requested, "actualQueryCost": None,
                                "throttleStatus": {"maximumAvailable": 1000.0,
                                                   "currentlyAvailable": available,
                                                   "restoreRate": rate}}}}


def access_denied(field="draftOrderCreate", scope="`write_draft_orders` access scope."):
    return {"data": None, "errors": [{
        "message": f"Access denied for {field} field. Required access: {scope}",
        "path": [field], "extensions": {"code": "ACCESS_DENIED", "requiredAccess": scope,
                                        "documentation": "https://shopify.dev/api/usage"}}],
        "extensions": cost(requested=10)}


def variant(number, quantity=10, policy="DENY", tracked=True, for_sale=True, status="ACTIVE"):
    return {"id": f"gid://shopify/ProductVariant/{number}", "legacyResourceId": str(number),
            "availableForSale": for_sale, "inventoryPolicy": policy,
            "inventoryQuantity": quantity, "inventoryItem": {"tracked": tracked},
            "product": {"status": status}}


def sent(call, index=0):
    return json.loads(call.calls[index].request.body)


@pytest.fixture
def pacing_clock():
    return Clock(at=100.0)


@pytest.fixture
def slept():
    return []


@pytest.fixture
def graphql(pacing_clock, slept):
    """A GraphQL client of the mocked shop: `graphql(**features)`."""
    def build(**features):
        pacer = CostPacer(clock=pacing_clock, sleep=slept.append)
        return GraphQLClient(SHOP, TOKEN, DEFAULT_API_VERSION, 5, pacer=pacer, features=features,
                             clock=lambda: NOW)
    return build


def create(client, body=None, prepared=None):
    return client.create(body or payload(), prepared, lambda: True)


# --- The DraftOrderInput: a pure mapping of the stored payload. ---

def test_lines_become_variant_gids_with_their_properties():
    body = payload(items=((11, 2),))
    body["draft_order"]["line_items"][0]["properties"] = [{"name": "Engraving", "value": "A"}]
    assert draft_order_input(body, None, {}, NOW)["lineItems"] == [
        {"variantId": "gid://shopify/ProductVariant/11", "quantity": 2,
         "customAttributes": [{"key": "Engraving", "value": "A"}]}]


def test_the_customer_is_the_purchasing_entity_with_the_default_address():
    mapped = draft_order_input(payload(), None, {}, NOW)
    assert mapped["purchasingEntity"] == {"customerId": "gid://shopify/Customer/207119551"}
    assert mapped["useCustomerDefaultAddress"] is True


def test_a_guest_cart_has_no_purchasing_entity():
    assert "purchasingEntity" not in draft_order_input(payload(customer_id=None), None, {}, NOW)


def test_note_attributes_become_custom_attributes_with_the_event_marker():
    assert draft_order_input(payload(), None, {}, NOW)["customAttributes"] == [
        {"key": "Gift", "value": "yes"}, {"key": EVENT_MARKER, "value": EVENT}]


def test_the_draft_is_tagged_with_the_merchants_tags_and_the_event_marker():
    tags = draft_order_input(payload(tags="wholesale, cart-draft"), None, {}, NOW)["tags"]
    assert tags == ["wholesale", "cart-draft", "cart-event-0d2f7a4e9c1b4f3e8a5d6b7c8d9e0f1a"]


def test_the_cart_currency_becomes_the_presentment_currency():
    mapped = draft_order_input(payload(currency="EUR"), None, {}, NOW)
    assert mapped["presentmentCurrencyCode"] == "EUR"


def test_the_carts_discount_codes_are_passed_for_shopify_to_decide():
    mapped = draft_order_input(payload(discount_codes=["SPRING10", "VIP"]), None, {}, NOW)
    assert mapped["discountCodes"] == ["SPRING10", "VIP"]


def test_an_event_without_cart_context_sends_no_currency_or_codes():
    mapped = draft_order_input(payload(), None, {}, NOW)
    assert "presentmentCurrencyCode" not in mapped and "discountCodes" not in mapped


def test_automatic_discounts_are_accepted_unless_turned_off():
    assert draft_order_input(payload(), None, {}, NOW)["acceptAutomaticDiscounts"] is True
    off = {"ACCEPT_AUTOMATIC_DISCOUNTS": False}
    assert draft_order_input(payload(), None, off, NOW)["acceptAutomaticDiscounts"] is False


def test_a_purchasing_company_replaces_the_customer():
    company = {"companyId": "gid://shopify/Company/1",
               "companyContactId": "gid://shopify/CompanyContact/5",
               "companyLocationId": "gid://shopify/CompanyLocation/2"}
    mapped = draft_order_input(payload(), {"dropped": [], "purchasing_company": company}, {}, NOW)
    assert mapped["purchasingEntity"] == {"purchasingCompany": company}
    assert "useCustomerDefaultAddress" not in mapped


def test_dropped_lines_are_left_out():
    prepared = {"dropped": [{"line": 1, "variant_id": 12, "code": "out_of_stock",
                             "detail": "This item is out of stock: 1 requested."}]}
    lines = draft_order_input(payload(), prepared, {}, NOW)["lineItems"]
    assert [line["variantId"] for line in lines] == ["gid://shopify/ProductVariant/11",
                                                     "gid://shopify/ProductVariant/13"]


def test_inventory_is_reserved_for_the_configured_minutes():
    mapped = draft_order_input(payload(), None, {"RESERVE_INVENTORY_MINUTES": 30}, NOW)
    assert mapped["reserveInventoryUntil"] == "2026-01-01T00:30:00Z"


def test_no_inventory_is_reserved_by_default():
    assert "reserveInventoryUntil" not in draft_order_input(payload(), None, {}, NOW)


# --- draftOrderCreate. ---

def test_create_sends_the_named_mutation_with_its_input_as_variables(graphql, shopify):
    call = shopify.post(GRAPHQL, json=created())
    create(graphql())
    request = call.calls[0].request
    assert request.headers["X-Shopify-Access-Token"] == TOKEN
    body = json.loads(request.body)
    assert body["query"].strip().startswith("mutation DraftOrderCreate($input: DraftOrderInput!)")
    assert body["variables"]["input"]["lineItems"][0]["variantId"] == \
        "gid://shopify/ProductVariant/11"


def test_a_created_draft_completes_with_its_id_name_and_invoice(graphql, shopify):
    shopify.post(GRAPHQL, json=created())
    _, outcome = create(graphql())
    assert (outcome.kind, outcome.draft_order) == ("created", DONE)


def test_create_waits_for_ready_after_pacing_and_may_not_send(graphql):
    assert graphql().create(payload(), None, lambda: False) == (None, None)


@pytest.mark.parametrize("draft_id", ["0", "-7", "7.0", True, None, "9" * 30])
def test_a_draft_without_a_valid_id_is_an_unexpected_answer(graphql, shopify, draft_id):
    shopify.post(GRAPHQL, json=created({**DRAFT, "legacyResourceId": draft_id}))
    _, outcome = create(graphql())
    assert (outcome.kind, outcome.code) == ("rejected", "shopify_unexpected_answer")


def test_a_malformed_name_and_invoice_url_are_dropped(graphql, shopify):
    shopify.post(GRAPHQL, json=created({**DRAFT, "name": {"x": 1},
                                        "invoiceUrl": "javascript:alert(1)"}))
    _, outcome = create(graphql())
    assert outcome.draft_order == {"id": 1069920479, "name": None, "invoice_url": None}


def test_throttled_waits_until_the_requested_cost_is_restored(graphql, shopify):
    shopify.post(GRAPHQL, json=throttled(requested=10, available=4.0, rate=100.0))
    _, outcome = create(graphql())
    assert outcome.kind == "throttled"
    assert outcome.retry_after == pytest.approx(0.06)
    assert outcome.nothing_created


def test_throttled_holds_the_next_request_back_until_restored(graphql, shopify, slept):
    client = graphql()
    shopify.post(GRAPHQL, json=throttled(requested=10, available=0.0, rate=5.0))
    create(client)
    shopify.post(GRAPHQL, json=created())
    create(client)
    assert slept == [pytest.approx(2.0)]


@pytest.mark.parametrize("rate", [0, -1, "fast", None])
def test_throttled_with_an_unreadable_cost_waits_a_second(graphql, shopify, rate):
    shopify.post(GRAPHQL, json=throttled(rate=rate))
    _, outcome = create(graphql())
    assert outcome.retry_after == 1.0


def test_throttled_for_an_impossible_wait_is_capped(graphql, shopify):
    shopify.post(GRAPHQL, json=throttled(requested=1000, available=0.0, rate=0.001))
    _, outcome = create(graphql())
    assert outcome.retry_after == 300.0


def test_access_denied_names_the_missing_scope(graphql, shopify):
    shopify.post(GRAPHQL, json=access_denied())
    _, outcome = create(graphql())
    assert (outcome.kind, outcome.code) == ("rejected", "shopify_access_denied")
    assert "write_draft_orders" in outcome.detail
    assert outcome.nothing_created


def test_access_denied_keeps_only_a_bounded_scope_text(graphql, shopify):
    shopify.post(GRAPHQL, json=access_denied(scope="x" * 5000))
    _, outcome = create(graphql())
    assert len(outcome.detail) < 400


def bare_denial(field):
    """An ACCESS_DENIED as Shopify may send it: no requiredAccess, no scope named."""
    return {"data": None, "errors": [{"message": f"Access denied for {field} field.",
                                      "extensions": {"code": "ACCESS_DENIED"}}]}


def test_access_denied_without_required_access_names_the_scope_draft_creation_needs(
        graphql, shopify):
    shopify.post(GRAPHQL, json=bare_denial("draftOrderCreate"))
    _, outcome = create(graphql())
    assert outcome.detail == ("The access token lacks the write_draft_orders scope this call "
                              "needs. Shopify says: Access denied for draftOrderCreate field.")


def test_access_denied_keeps_required_access_missing_from_shopifys_message(graphql, shopify):
    denial = bare_denial("draftOrderCreate")
    denial["errors"][0]["extensions"]["requiredAccess"] = "`write_draft_orders` access scope."
    shopify.post(GRAPHQL, json=denial)
    _, outcome = create(graphql())
    assert outcome.detail.endswith("Shopify says: Access denied for draftOrderCreate field. "
                                   "Required access: `write_draft_orders` access scope.")


def test_access_denied_on_sending_the_invoice_names_write_draft_orders(graphql, shopify):
    shopify.post(GRAPHQL, json=bare_denial("draftOrderInvoiceSend"))
    _, outcome = graphql().send_invoice(1069920479, None, None, lambda: True)
    assert outcome.detail.startswith("The access token lacks the write_draft_orders scope")


def test_access_denied_on_a_re_read_names_the_draft_and_order_read_scopes(graphql, shopify):
    shopify.post(GRAPHQL, json=bare_denial("order"))
    _, outcome = graphql().read_draft(1069920479)
    assert outcome.detail.startswith(
        "The access token lacks one of the read_draft_orders, read_orders scopes")


def test_access_denied_on_a_lookup_names_read_draft_orders(graphql, shopify):
    shopify.post(GRAPHQL, json=bare_denial("draftOrders"))
    _, outcome = graphql().lookup(EVENT, 0)
    assert outcome.detail.startswith("The access token lacks the read_draft_orders scope")


def test_access_denied_on_a_company_preparation_names_the_company_scopes(graphql, shopify):
    shopify.post(GRAPHQL, json=bare_denial("companyLocation"))
    _, outcome = graphql().prepare(payload(company=COMPANY))
    assert "read_customers, read_companies scopes" in outcome.detail
    assert "read_products" not in outcome.detail


def test_a_graphql_403_names_the_scope_of_the_operation(graphql, shopify):
    shopify.post(GRAPHQL, status=403, json={"errors": "Forbidden"})
    _, outcome = create(graphql())
    assert (outcome.code, outcome.detail) == (
        "shopify_forbidden", "The access token lacks the write_draft_orders scope this call "
                             "needs. Shopify says: Forbidden")


def test_a_refused_webhook_subscription_names_its_topics_scope(graphql, shopify):
    shopify.post(GRAPHQL, json=bare_denial("webhookSubscriptionCreate"))
    _, why = graphql().create_webhook("orders/create", "https://r.example/webhooks/shopify")
    assert why.startswith("The access token lacks the read_orders scope")


def test_any_other_top_level_error_fails_the_event(graphql, shopify):
    shopify.post(GRAPHQL, json={"errors": [{"message": "Field 'nope' doesn't exist",
                                            "extensions": {"code": "undefinedField"}}]})
    _, outcome = create(graphql())
    assert (outcome.kind, outcome.code) == ("rejected", "shopify_graphql_error")
    assert "Field 'nope' doesn't exist" in outcome.detail


def test_user_errors_fail_the_event_naming_the_cart_lines(graphql, shopify):
    shopify.post(GRAPHQL, json=user_errors(
        {"field": ["lineItems", "2", "variantId"], "message": "Product variant is invalid"}))
    _, outcome = create(graphql())
    assert (outcome.kind, outcome.code) == ("rejected", "shopify_rejected")
    assert outcome.lines == ({"line": 2, "variant_id": 13, "code": "rejected_by_shopify",
                              "detail": "Product variant is invalid"},)
    assert outcome.nothing_created


def test_several_user_errors_on_one_line_name_it_once(graphql, shopify):
    """An answer repeating an error would otherwise store (and show the shopper)
    hundreds of line objects for one cart line."""
    shopify.post(GRAPHQL, json=user_errors(*[
        {"field": ["lineItems", "2", "quantity"], "message": f"Problem {n}"} for n in range(300)]))
    _, outcome = create(graphql())
    assert [(line["line"], line["detail"]) for line in outcome.lines] == [(2, "Problem 0")]


def test_a_user_error_line_counts_past_the_dropped_lines(graphql, shopify):
    dropped = {"dropped": [{"line": 0, "variant_id": 11, "code": "out_of_stock",
                            "detail": "This item is out of stock: 2 requested."}]}
    shopify.post(GRAPHQL, json=user_errors(
        {"field": ["lineItems", "1", "quantity"], "message": "Quantity is too large"}))
    _, outcome = create(graphql(), prepared=dropped)
    assert [(line["line"], line["variant_id"]) for line in outcome.lines] == [(2, 13)]


def test_a_user_error_about_no_line_is_told_in_the_detail(graphql, shopify):
    shopify.post(GRAPHQL, json=user_errors(
        {"field": ["presentmentCurrencyCode"], "message": "Currency is not supported"}))
    _, outcome = create(graphql())
    assert outcome.lines == ()
    assert "Currency is not supported" in outcome.detail


@pytest.mark.parametrize("field", [["lineItems", "9"], ["lineItems", "-1"], ["lineItems", "x"],
                                   ["lineItems", "٣"], "lineItems.0", None])
def test_a_user_error_naming_no_posted_line_is_about_the_draft(graphql, shopify, field):
    shopify.post(GRAPHQL, json=user_errors({"field": field, "message": "Odd"}))
    _, outcome = create(graphql())
    assert outcome.lines == () and "Odd" in outcome.detail


def test_5xx_is_unavailable_and_the_draft_may_exist(graphql, shopify):
    shopify.post(GRAPHQL, status=503)
    _, outcome = create(graphql())
    assert outcome.kind == "unavailable" and not outcome.nothing_created


def test_a_timeout_is_unavailable_and_the_draft_may_exist(graphql, shopify):
    shopify.post(GRAPHQL, body=requests.ReadTimeout("no answer"))
    _, outcome = create(graphql())
    assert outcome.kind == "unavailable" and not outcome.nothing_created


@pytest.mark.parametrize("status, code", [(401, "shopify_unauthorized"),
                                          (402, "shopify_payment_required"),
                                          (403, "shopify_forbidden"),
                                          (404, "shopify_not_found"), (423, "shopify_locked")])
def test_4xx_statuses_fail_as_for_rest(graphql, shopify, status, code):
    shopify.post(GRAPHQL, status=status, json={"errors": "[API] Invalid API key"})
    _, outcome = create(graphql())
    assert (outcome.kind, outcome.code, outcome.nothing_created) == ("rejected", code, True)


@pytest.mark.parametrize("body", ["<html>gateway</html>", "[]", '{"data": null}',
                                  '{"data": {"draftOrderCreate": null}}',
                                  '{"data": {"draftOrderCreate": {"userErrors": []}}}'])
def test_a_200_that_is_no_graphql_answer_may_still_have_made_the_draft(graphql, shopify, body):
    shopify.post(GRAPHQL, body=body)
    _, outcome = create(graphql())
    assert outcome.kind == "unavailable" and not outcome.nothing_created


def test_the_token_in_an_answer_is_redacted(graphql, shopify):
    shopify.post(GRAPHQL, json={"errors": [{"message": f"bad token {TOKEN}"}]})
    sent_answer, outcome = create(graphql())
    assert TOKEN not in sent_answer.body and TOKEN not in outcome.detail


# --- The lookup by the marker tag. ---

def marked(event_id=EVENT, **draft):
    return {**DRAFT, **draft, "customAttributes": [{"key": EVENT_MARKER, "value": event_id}]}


def listed(*nodes):
    return answer({"draftOrders": {"nodes": list(nodes)}}, requested=7)


def test_the_lookup_searches_the_marker_tag(graphql, shopify):
    call = shopify.post(GRAPHQL, json=listed())
    graphql().lookup(EVENT, NOW)
    body = sent(call)
    assert body["query"].strip().startswith("query DraftOrderByMarker($query: String!)")
    assert body["variables"] == {"query": "tag:'cart-event-0d2f7a4e9c1b4f3e8a5d6b7c8d9e0f1a'"}


def test_the_lookup_finds_the_draft_carrying_the_event_id(graphql, shopify):
    shopify.post(GRAPHQL, json=listed(marked("another-event", name="#D4"), marked()))
    _, outcome = graphql().lookup(EVENT, NOW)
    assert (outcome.kind, outcome.draft_order) == ("created", DONE)


def test_a_tagged_draft_without_the_event_attribute_is_not_the_events(graphql, shopify):
    shopify.post(GRAPHQL, json=listed({**DRAFT, "customAttributes": []}))
    _, outcome = graphql().lookup(EVENT, NOW)
    assert outcome.kind == "absent"


def test_an_empty_readable_list_means_no_draft(graphql, shopify):
    shopify.post(GRAPHQL, json=listed())
    _, outcome = graphql().lookup(EVENT, NOW)
    assert outcome.kind == "absent"


@pytest.mark.parametrize("body", ["not json", '{"data": null}', '{"data": {"draftOrders": []}}',
                                  '{"data": {"draftOrders": {"nodes": {}}}}'])
def test_a_garbled_list_is_never_read_as_no_draft(graphql, shopify, body):
    shopify.post(GRAPHQL, body=body)
    _, outcome = graphql().lookup(EVENT, NOW)
    assert outcome.kind == "unavailable"


@pytest.mark.parametrize("node", [None, "draft", {**DRAFT, "customAttributes": None},
                                  {**DRAFT, "customAttributes": {"key": EVENT_MARKER}}])
def test_a_tagged_draft_whose_attributes_cannot_be_read_is_never_read_as_no_draft(
        graphql, shopify, node):
    """Only the event's drafts carry its tag: reading such a node as "none" would
    post the event a second draft."""
    shopify.post(GRAPHQL, json=listed(node))
    _, outcome = graphql().lookup(EVENT, NOW)
    assert outcome.kind == "unavailable"


def test_a_throttled_lookup_waits_like_a_create(graphql, shopify):
    shopify.post(GRAPHQL, json=throttled(requested=7, available=2.0, rate=50.0))
    _, outcome = graphql().lookup(EVENT, NOW)
    assert (outcome.kind, outcome.retry_after) == ("throttled", pytest.approx(0.1))


# --- The preparation: stock and availability policy, and the B2B contact. ---

def stock(*nodes):
    return answer({"nodes": list(nodes)}, requested=6)


def test_no_preparation_by_default(graphql):
    assert not graphql().needs_preparation(payload())


@pytest.mark.parametrize("features", [{"OUT_OF_STOCK_POLICY": "block"},
                                      {"OUT_OF_STOCK_POLICY": "drop"},
                                      {"INVALID_ITEM_POLICY": "block"}])
def test_a_stock_policy_needs_preparation(graphql, features):
    assert graphql(**features).needs_preparation(payload())


def test_a_company_cart_needs_preparation(graphql):
    assert graphql().needs_preparation(payload(company={"company_id": 1, "location_id": 2}))


def test_the_stock_check_reads_each_variant_once_in_one_query(graphql, shopify):
    call = shopify.post(GRAPHQL, json=stock(variant(11), variant(12)))
    graphql(**STOCK).prepare(payload(items=((11, 1), (12, 1), (11, 1))))
    body = sent(call)
    assert body["query"].strip().startswith("query PrepareDraft($variantIds: [ID!]!)")
    assert "customer" not in body["query"] and "companyLocation" not in body["query"]
    assert body["variables"] == {"variantIds": ["gid://shopify/ProductVariant/11",
                                                "gid://shopify/ProductVariant/12"]}


def test_everything_in_stock_is_prepared_with_nothing_dropped(graphql, shopify):
    shopify.post(GRAPHQL, json=stock(variant(11), variant(12), variant(13)))
    _, outcome = graphql(**STOCK).prepare(payload())
    assert (outcome.kind, outcome.prepared) == ("prepared", {"dropped": []})


def test_out_of_stock_under_block_fails_naming_the_line(graphql, shopify):
    shopify.post(GRAPHQL, json=stock(variant(11, quantity=1), variant(12), variant(13)))
    _, outcome = graphql(**STOCK).prepare(payload())
    assert (outcome.kind, outcome.code) == ("rejected", "items_unavailable")
    assert outcome.lines == ({"line": 0, "variant_id": 11, "code": "out_of_stock",
                              "detail": "This item is out of stock: 2 requested."},)
    assert outcome.nothing_created


def test_quantities_of_one_variant_are_summed_across_lines(graphql, shopify):
    shopify.post(GRAPHQL, json=stock(variant(11, quantity=3)))
    _, outcome = graphql(**STOCK).prepare(payload(items=((11, 2), (11, 2))))
    assert [line["line"] for line in outcome.lines] == [0, 1]


@pytest.mark.parametrize("node", [variant(11, quantity=0, policy="CONTINUE"),
                                  variant(11, quantity=0, tracked=False)])
def test_stock_that_shopify_does_not_enforce_is_no_shortage(graphql, shopify, node):
    shopify.post(GRAPHQL, json=stock(node))
    _, outcome = graphql(**STOCK).prepare(payload(items=((11, 5),)))
    assert outcome.kind == "prepared"


def test_out_of_stock_under_drop_prepares_the_draft_without_the_line(graphql, shopify):
    shopify.post(GRAPHQL, json=stock(variant(11), variant(12, quantity=0), variant(13)))
    _, outcome = graphql(OUT_OF_STOCK_POLICY="drop").prepare(payload())
    assert outcome.kind == "prepared"
    assert outcome.prepared["dropped"] == [{"line": 1, "variant_id": 12, "code": "out_of_stock",
                                            "detail": "This item is out of stock: 1 requested."}]


def test_every_line_dropped_fails_the_event(graphql, shopify):
    shopify.post(GRAPHQL, json=stock(variant(11, quantity=0)))
    _, outcome = graphql(OUT_OF_STOCK_POLICY="drop").prepare(payload(items=((11, 1),)))
    assert (outcome.kind, outcome.code) == ("rejected", "items_unavailable")
    assert [line["code"] for line in outcome.lines] == ["out_of_stock"]


def test_a_missing_variant_under_invalid_item_block_fails(graphql, shopify):
    shopify.post(GRAPHQL, json=stock(variant(11), None, variant(13)))
    _, outcome = graphql(INVALID_ITEM_POLICY="block").prepare(payload())
    assert [(line["line"], line["code"]) for line in outcome.lines] == [(1, "variant_not_found")]


@pytest.mark.parametrize("node", [variant(12, for_sale=False), variant(12, status="ARCHIVED"),
                                  variant(12, status="DRAFT")])
def test_an_item_not_for_sale_is_invalid(graphql, shopify, node):
    shopify.post(GRAPHQL, json=stock(variant(11), node, variant(13)))
    _, outcome = graphql(INVALID_ITEM_POLICY="drop").prepare(payload())
    assert [(line["line"], line["code"]) for line in outcome.prepared["dropped"]] == [
        (1, "not_available")]


def test_invalid_items_are_left_to_shopify_when_the_policy_is_off(graphql, shopify):
    shopify.post(GRAPHQL, json=stock(variant(11), None, variant(13)))
    _, outcome = graphql(**STOCK).prepare(payload())
    assert (outcome.kind, outcome.prepared) == ("prepared", {"dropped": []})


def test_blocking_lines_win_over_dropped_ones(graphql, shopify):
    shopify.post(GRAPHQL, json=stock(variant(11, quantity=0), None, variant(13)))
    _, outcome = graphql(OUT_OF_STOCK_POLICY="drop", INVALID_ITEM_POLICY="block").prepare(
        payload())
    assert outcome.kind == "rejected"
    assert [line["code"] for line in outcome.lines] == ["variant_not_found"]


@pytest.mark.parametrize("nodes", [[variant(11)], [variant(99), variant(12), variant(13)],
                                   "lots", [variant(11), variant(12), "x"]])
def test_an_unreadable_list_of_variants_is_tried_again(graphql, shopify, nodes):
    shopify.post(GRAPHQL, json=answer({"nodes": nodes}))
    _, outcome = graphql(**STOCK).prepare(payload())
    assert outcome.kind == "unavailable"


COMPANY = {"company_id": 1, "location_id": 2}
CONTACT = {"companyId": "gid://shopify/Company/1",
           "companyContactId": "gid://shopify/CompanyContact/5",
           "companyLocationId": "gid://shopify/CompanyLocation/2"}


def company_answer(profiles, location_company=1):
    return answer({
        "customer": {"companyContactProfiles": profiles},
        "companyLocation": {"id": "gid://shopify/CompanyLocation/2",
                            "company": {"id": f"gid://shopify/Company/{location_company}"}}})


def profile(contact, company):
    return {"id": f"gid://shopify/CompanyContact/{contact}",
            "company": {"id": f"gid://shopify/Company/{company}"}}


def test_the_company_read_asks_for_the_customer_and_the_signed_location(graphql, shopify):
    call = shopify.post(GRAPHQL, json=company_answer([profile(5, 1)]))
    graphql().prepare(payload(company=COMPANY))
    body = sent(call)
    assert "nodes(" not in body["query"]
    assert body["variables"] == {"customerId": "gid://shopify/Customer/207119551",
                                 "locationId": "gid://shopify/CompanyLocation/2"}


def test_the_contact_in_the_locations_company_becomes_the_purchasing_company(graphql, shopify):
    shopify.post(GRAPHQL, json=company_answer([profile(4, 9), profile(5, 1)]))
    _, outcome = graphql().prepare(payload(company=COMPANY))
    assert outcome.prepared == {"dropped": [], "purchasing_company": CONTACT}


def test_a_customer_who_is_no_contact_of_the_company_fails(graphql, shopify):
    shopify.post(GRAPHQL, json=company_answer([profile(4, 9)]))
    _, outcome = graphql().prepare(payload(company=COMPANY))
    assert (outcome.kind, outcome.code) == ("rejected", "b2b_contact_not_found")
    assert outcome.nothing_created


@pytest.mark.parametrize("contact", ["../../x\"<script>", "0", "5 ", "9" * 30])
def test_a_contact_whose_id_is_no_contact_id_is_passed_over(graphql, shopify, contact):
    """It would be stored with the event and sent back to Shopify as the purchaser."""
    shopify.post(GRAPHQL, json=company_answer([profile(contact, 1)]))
    _, outcome = graphql().prepare(payload(company=COMPANY))
    assert outcome.code == "b2b_contact_not_found"


def test_a_location_of_another_company_fails(graphql, shopify):
    shopify.post(GRAPHQL, json=company_answer([profile(5, 1)], location_company=9))
    _, outcome = graphql().prepare(payload(company=COMPANY))
    assert outcome.code == "b2b_contact_not_found"


def test_stock_and_company_are_read_in_one_query(graphql, shopify):
    data = {**company_answer([profile(5, 1)])["data"],
            "nodes": [variant(11), variant(12, quantity=0), variant(13)]}
    call = shopify.post(GRAPHQL, json=answer(data))
    _, outcome = graphql(OUT_OF_STOCK_POLICY="drop").prepare(payload(company=COMPANY))
    assert len(shopify.calls) == 1 and "nodes(" in sent(call)["query"]
    assert outcome.prepared["purchasing_company"] == CONTACT
    assert [line["line"] for line in outcome.prepared["dropped"]] == [1]


def test_a_preparation_denied_a_scope_names_it(graphql, shopify):
    shopify.post(GRAPHQL, json=access_denied("nodes", "`read_products` access scope."))
    _, outcome = graphql(**STOCK).prepare(payload())
    assert outcome.code == "shopify_access_denied" and "read_products" in outcome.detail


# --- For doctor. ---

def shop_and_scopes():
    return answer({"shop": {"name": "Test", "myshopifyDomain": "test-shop.myshopify.com",
                            "currencyCode": "EUR"},
                   "currentAppInstallation": {"accessScopes": [
                       {"handle": "write_draft_orders"}, {"handle": "read_products"}]}})


def test_read_shop_and_scopes_gives_name_domain_and_currency(graphql, shopify):
    shopify.post(GRAPHQL, json=shop_and_scopes())
    _, shop, _, _ = graphql().read_shop_and_scopes()
    assert shop == {"name": "Test", "domain": "test-shop.myshopify.com", "currency": "EUR"}


def test_read_shop_and_scopes_gives_the_granted_handles(graphql, shopify):
    shopify.post(GRAPHQL, json=shop_and_scopes())
    _, _, _, scopes = graphql().read_shop_and_scopes()
    assert scopes == ["write_draft_orders", "read_products"]


def test_read_shop_and_scopes_of_an_unreadable_answer_has_no_scopes(graphql, shopify):
    shopify.post(GRAPHQL, status=401, json={"errors": "[API] Invalid API key"})
    _, _, _, scopes = graphql().read_shop_and_scopes()
    assert scopes is None


# --- Choosing the backend. ---

def test_make_client_builds_the_graphql_backend_when_chosen(app):
    client = make_client({**app.config, "SHOPIFY_API": "graphql"})
    assert isinstance(client, GraphQLClient)
    assert client.endpoint == GRAPHQL


# --- Through the worker. ---

@pytest.fixture
def graphql_worker(app, clock, graphql):
    """A worker of `app` delivering through a GraphQL client: `graphql_worker(**features)`."""
    core = app.extensions["worker"]
    return lambda **features: Worker(core.store, graphql(**features), core.policy,
                                     core.lease_seconds, clock=clock)


def test_an_event_with_a_dropped_line_completes_and_keeps_it(client, graphql_worker, shopify,
                                                             store):
    worker = graphql_worker(OUT_OF_STOCK_POLICY="drop")
    shopify.post(GRAPHQL, json=stock(variant(39072856, quantity=0), variant(457924702)))
    event_id = submit(client)["id"]
    assert worker.run_once()
    post = shopify.post(GRAPHQL, json=created())
    assert worker.run_once()
    event = store.get(event_id)
    assert (event["status"], event["draft_order_id"]) == ("completed", 1069920479)
    assert [line["variant_id"] for line in event["prepared"]["dropped"]] == [39072856]
    assert [line["variantId"] for line in sent(post)["variables"]["input"]["lineItems"]] == [
        "gid://shopify/ProductVariant/457924702"]


def test_a_user_error_fails_the_event_with_its_lines(client, graphql_worker, shopify, store):
    worker = graphql_worker()
    shopify.post(GRAPHQL, json=user_errors(
        {"field": ["lineItems", "1", "variantId"], "message": "Product variant is invalid"}))
    event_id = submit(client)["id"]
    assert worker.run_once()
    event = store.get(event_id)
    assert (event["status"], event["error_code"]) == ("failed", "shopify_rejected")
    assert event["error_lines"] == [{"line": 1, "variant_id": 457924702,
                                     "code": "rejected_by_shopify",
                                     "detail": "Product variant is invalid"}]
    assert not event["maybe_posted"]


def test_a_lost_answer_is_looked_up_by_tag_before_posting_again(client, graphql_worker, shopify,
                                                                clock, store):
    worker = graphql_worker()
    shopify.post(GRAPHQL, body=requests.ConnectionError("dropped after sending"))
    event_id = submit(client)["id"]
    worker.run_once()
    assert store.get(event_id)["maybe_posted"]
    shopify.post(GRAPHQL, json=listed(marked(event_id)))
    clock.advance(60)
    worker.run_once()
    event = store.get(event_id)
    assert (event["status"], event["draft_order_name"]) == ("completed", "#D5")
    assert "DraftOrderByMarker" in sent(shopify, 1)["query"]



BLOCK_ALL = {"OUT_OF_STOCK_POLICY": "block", "INVALID_ITEM_POLICY": "block"}


@pytest.mark.parametrize("garbled", [{"inventoryItem": "tracked"}, {"inventoryQuantity": "0"}])
def test_a_garbled_stock_field_blocks_nothing(graphql, shopify, garbled):
    shopify.post(GRAPHQL, json=stock({**variant(11, quantity=0), **garbled}))
    _, outcome = graphql(**BLOCK_ALL).prepare(payload(items=((11, 1),)))
    assert outcome.kind == "prepared"


@pytest.mark.parametrize("garbled", [{"product": ["ARCHIVED"]}, {"product": {"status": 0}},
                                     {"availableForSale": "no"}])
def test_a_garbled_availability_field_blocks_nothing(graphql, shopify, garbled):
    shopify.post(GRAPHQL, json=stock({**variant(11), **garbled}))
    _, outcome = graphql(**BLOCK_ALL).prepare(payload(items=((11, 1),)))
    assert outcome.kind == "prepared"
