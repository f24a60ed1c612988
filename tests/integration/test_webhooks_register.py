"""`flask --app app webhooks register|list` through either backend, and doctor's
check of the subscriptions, against Shopify's documented answers (mocked)."""

import json

import pytest
from helpers import API
from responses import matchers

from app.config import DEFAULT_API_VERSION
from app.ops import doctor
from app.ops.doctor import Probe
from app.shopify import Answer
from app.shopify.scopes import required_scopes

PUBLIC = "https://receiver.example.com"
ADDRESS = f"{PUBLIC}/webhooks/shopify"
REST_LIST = f"{API}/webhooks.json?limit=250"
REST_CREATE = f"{API}/webhooks.json"
GRAPHQL = f"{API}/graphql.json"
TOPICS = ("draft_orders/update", "draft_orders/delete", "orders/create")
ENUMS = ("DRAFT_ORDERS_UPDATE", "DRAFT_ORDERS_DELETE", "ORDERS_CREATE")


@pytest.fixture
def hooks_app(make_app):
    return lambda **overrides: make_app(**{"SHOPIFY_WEBHOOK_SECRET": "shpss_key",
                                          "PUBLIC_URL": PUBLIC, **overrides})


def run(app, *args):
    return app.test_cli_runner().invoke(args=["webhooks", *args])


def rest_list(shopify, *topics, address=ADDRESS):
    shopify.get(REST_LIST, json={"webhooks": [
        {"id": n, "topic": topic, "address": address, "format": "json"}
        for n, topic in enumerate(topics, 1)]})


def graphql_answer(data):
    return {"data": data, "extensions": {"cost": {
        "requestedQueryCost": 10, "actualQueryCost": 10,
        "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1990.0,
                           "restoreRate": 100.0}}}}


def graphql_shop(shopify, *enums, endpoint=GRAPHQL):
    """GraphQL's answers: the subscriptions listed (`uri`, as 2025-10 names it),
    and a subscription made for each create; returns the creates' variables."""
    created = []

    def answer(request):
        body = json.loads(request.body)
        if "webhookSubscriptionCreate" in body["query"]:
            created.append(body["variables"])
            return 200, {}, json.dumps(graphql_answer({"webhookSubscriptionCreate": {
                "webhookSubscription": {"id": "gid://shopify/WebhookSubscription/1"},
                "userErrors": []}}))
        return 200, {}, json.dumps(graphql_answer({"webhookSubscriptions": {"nodes": [
            {"topic": enum, "uri": ADDRESS} for enum in enums]}}))

    shopify.add_callback("POST", endpoint, callback=answer)
    return created


def test_register_subscribes_each_topic_through_rest(hooks_app, shopify):
    rest_list(shopify)
    for topic in TOPICS:
        shopify.post(REST_CREATE, status=201, json={"webhook": {"id": 1}}, match=[
            matchers.json_params_matcher({"webhook": {"topic": topic, "address": ADDRESS,
                                                      "format": "json"}})])
    result = run(hooks_app(), "register")
    assert result.exit_code == 0, result.output
    assert result.output.count("subscribed") == 3


def test_register_again_through_rest_creates_nothing(hooks_app, shopify):
    rest_list(shopify, *TOPICS)  # no POST registered: one would fail the test
    result = run(hooks_app(), "register")
    assert result.exit_code == 0, result.output
    assert "nothing created" in result.output


def test_register_through_rest_keeps_another_address_and_adds_ours(hooks_app, shopify):
    rest_list(shopify, *TOPICS, address="https://old.example.com/webhooks/shopify")
    shopify.post(REST_CREATE, status=201, json={"webhook": {"id": 1}})
    result = run(hooks_app(), "register")
    assert result.output.count("subscribed") == 3


def test_register_subscribes_each_topic_through_graphql(hooks_app, shopify):
    created = graphql_shop(shopify)
    result = run(hooks_app(SHOPIFY_API="graphql"), "register")
    assert result.exit_code == 0, result.output
    assert created == [{"topic": enum, "webhookSubscription": {"uri": ADDRESS, "format": "JSON"}}
                       for enum in ENUMS]


def test_register_again_through_graphql_creates_nothing(hooks_app, shopify):
    created = graphql_shop(shopify, *ENUMS)
    result = run(hooks_app(SHOPIFY_API="graphql"), "register")
    assert "nothing created" in result.output
    assert created == []


def test_register_under_an_older_graphql_version_sends_callback_url(hooks_app, shopify):
    created = graphql_shop(shopify, endpoint=GRAPHQL.replace(DEFAULT_API_VERSION, "2025-04"))
    run(hooks_app(SHOPIFY_API="graphql", SHOPIFY_API_VERSION="2025-04"), "register")
    assert created[0]["webhookSubscription"] == {"callbackUrl": ADDRESS, "format": "JSON"}


def test_register_reports_shopifys_refusal(hooks_app, shopify):
    rest_list(shopify, "draft_orders/update", "draft_orders/delete")
    shopify.post(REST_CREATE, status=422,
                 json={"errors": {"address": ["for this topic has already been taken"]}})
    result = run(hooks_app(), "register")
    assert result.exit_code == 1
    assert "orders/create not subscribed" in result.output
    assert "already been taken" in result.output


def test_register_url_option_overrides_public_url(hooks_app, shopify):
    rest_list(shopify, *TOPICS, address="https://elsewhere.example.com/hooks")
    result = run(hooks_app(), "register", "--url", "https://elsewhere.example.com/hooks")
    assert "nothing created" in result.output


def test_register_refuses_without_a_webhook_secret(make_app):
    result = run(make_app(PUBLIC_URL=PUBLIC), "register")
    assert result.exit_code == 1
    assert "SHOPIFY_WEBHOOK_SECRET" in result.output


def test_register_refuses_without_an_address(hooks_app):
    result = run(hooks_app(PUBLIC_URL=""), "register")
    assert result.exit_code == 1
    assert "PUBLIC_URL" in result.output and "--url" in result.output


def test_a_listed_subscription_of_odd_shape_is_read_as_none_of_ours(hooks_app, shopify):
    shopify.get(REST_LIST, json={"webhooks": [
        {"topic": 5, "address": ADDRESS}, {"topic": "orders/create", "address": {"a": 1}}]})
    for topic in TOPICS:
        shopify.post(REST_CREATE, status=201, json={"webhook": {"topic": topic}})
    result = run(hooks_app(), "register")
    assert result.exit_code == 0, result.output
    assert result.output.count("webhooks: subscribed ") == 3


def test_list_shows_every_subscription(hooks_app, shopify):
    rest_list(shopify, "orders/create")
    result = run(hooks_app(), "list")
    assert result.output == f"orders/create  {ADDRESS}\n"


# --- doctor ---

PROBE = Probe(Answer("GET", "shop.json", 200, "{}"), None,
              Answer("GET", "access_scopes.json", 200, "{}"), [])
LISTING = Answer("GET", REST_LIST, 200, "{}")


def test_doctor_passes_when_every_topic_is_subscribed_naming_the_address():
    subscriptions = [{"topic": topic, "address": ADDRESS} for topic in TOPICS]
    check = doctor.check_webhooks(PROBE, (LISTING, subscriptions), ADDRESS)
    assert (check.status, check.what) == ("PASS", f"at {ADDRESS}")


def test_doctor_fails_naming_the_missing_topics_and_the_command():
    subscriptions = [{"topic": "DRAFT_ORDERS_UPDATE", "address": ADDRESS}]
    check = doctor.check_webhooks(PROBE, (LISTING, subscriptions), ADDRESS)
    assert check.failed
    assert "draft_orders/delete, orders/create" in check.what
    assert check.hint == "run `flask --app app webhooks register`"


def test_doctor_checks_webhooks_only_with_a_webhook_secret(make_app, shopify):
    shopify.get(f"{API}/shop.json", json={"shop": {"name": "S", "myshopify_domain": "s"}})
    shopify.get("https://test-shop.myshopify.com/admin/oauth/access_scopes.json",
                json={"access_scopes": [{"handle": "write_draft_orders"}]})
    names = [check.name for check in doctor.run(make_app())]
    assert "Shopify webhooks are subscribed" not in names


def test_doctor_reads_the_subscriptions_with_a_webhook_secret(hooks_app, shopify):
    shopify.get(f"{API}/shop.json", json={"shop": {"name": "S", "myshopify_domain": "s"}})
    shopify.get("https://test-shop.myshopify.com/admin/oauth/access_scopes.json",
                json={"access_scopes": [{"handle": "write_draft_orders"},
                                        {"handle": "read_orders"}]})
    rest_list(shopify, *TOPICS)
    check = doctor.run(hooks_app())[-1]
    assert (check.name, check.status) == ("Shopify webhooks are subscribed", "PASS")


def test_doctor_asks_for_read_orders_with_a_webhook_secret():
    assert required_scopes({"SHOPIFY_WEBHOOK_SECRET": "shpss_key"}) == [
        "write_draft_orders", "read_orders"]


@pytest.mark.parametrize("api", ["rest", "graphql"])
def test_register_against_the_simulator_subscribes_once_and_doctor_then_passes(
        make_app, start_simulator, api):
    shop = start_simulator("shpat_register")
    app = make_app(SHOPIFY_SHOP=shop.url, SHOPIFY_ACCESS_TOKEN="shpat_register", SHOPIFY_API=api,
                   SHOPIFY_WEBHOOK_SECRET="whsec", PUBLIC_URL="https://receiver.example")
    runner = app.test_cli_runner()
    first = runner.invoke(args=["webhooks", "register"])
    second = runner.invoke(args=["webhooks", "register"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert "nothing created" in second.output
    subscribed = shop.state.snapshot("webhooks")
    assert sorted(entry["topic"] for entry in subscribed) == [
        "draft_orders/delete", "draft_orders/update", "orders/create"]
    assert {entry["address"] for entry in subscribed} == {
        "https://receiver.example/webhooks/shopify"}
    checks = {check.name: check for check in doctor.run(app)}
    assert checks["Shopify webhooks are subscribed"].status == "PASS"


# --- Dev Dashboard credentials: the subscriptions are shopify.app.toml's. ---

def dashboard(app):
    app.config["SHOPIFY_CLIENT_ID"] = "client-id"  # as the Dev Dashboard settings load it
    return app


def test_register_under_dev_dashboard_credentials_points_at_the_app_toml(hooks_app, shopify):
    result = run(dashboard(hooks_app()), "register")  # no call registered: one would fail
    assert result.exit_code == 0, result.output
    assert "shopify.app.toml" in result.output
    assert "flask --app app shopify-config" in result.output


def test_doctor_under_dev_dashboard_credentials_does_not_fail_unlisted_webhooks(
        hooks_app, shopify):
    shopify.get(f"{API}/shop.json", json={"shop": {"name": "S", "myshopify_domain": "s"}})
    shopify.get("https://test-shop.myshopify.com/admin/oauth/access_scopes.json",
                json={"access_scopes": [{"handle": "write_draft_orders"},
                                        {"handle": "read_orders"}]})
    check = doctor.run(dashboard(hooks_app()))[-1]  # webhooks.json is never asked
    assert (check.name, check.status) == ("Shopify webhooks are subscribed", "SKIP")
    assert "declared in shopify.app.toml (`flask --app app shopify-config`" in check.what
    assert "cannot list" in check.what
