"""`flask --app app shopify-config`: the shopify.app.toml of this receiver."""

import tomllib

import pytest

from app.config import DEFAULT_API_VERSION
from app.ops.app_toml import app_toml, toml_string
from app.shopify.scopes import required_scopes

PUBLIC = "https://receiver.example.com"
CLIENT_ID = "a61950a2cbd5f32876b0b55587ec7a27"


@pytest.fixture
def dashboard_app(make_app):
    """An app with Dev Dashboard credentials (SHOPIFY_CLIENT_ID, set as the
    settings of another branch will load it) and `overrides`."""
    def build(client_id=CLIENT_ID, **overrides):
        app = make_app(**{"PUBLIC_URL": PUBLIC, **overrides})
        app.config["SHOPIFY_CLIENT_ID"] = client_id
        return app
    return build


def printed(app, *args):
    return app.test_cli_runner().invoke(args=["shopify-config", *args])


def test_the_file_parses_as_toml_with_the_apps_values(dashboard_app):
    result = printed(dashboard_app())
    assert result.exit_code == 0, result.output
    assert tomllib.loads(result.output) == {
        "client_id": CLIENT_ID,
        "name": "Cart to draft order",
        "application_url": f"{PUBLIC}/auth/shopify",
        "embedded": False,
        "access_scopes": {"scopes": "write_draft_orders,read_orders,write_app_proxy"},
        "auth": {"redirect_urls": [f"{PUBLIC}/auth/shopify/callback"]},
        "webhooks": {"api_version": DEFAULT_API_VERSION, "subscriptions": [{
            "topics": ["draft_orders/update", "draft_orders/delete", "orders/create"],
            "compliance_topics": ["customers/data_request", "customers/redact", "shop/redact"],
            "uri": f"{PUBLIC}/webhooks/shopify"}]},
        "app_proxy": {"url": f"{PUBLIC}/proxy", "prefix": "apps", "subpath": "send-cart"},
    }


def test_the_app_proxy_subpath_is_the_setting(dashboard_app):
    output = printed(dashboard_app(APP_PROXY_SUBPATH="cart-to-draft")).output
    assert tomllib.loads(output)["app_proxy"]["subpath"] == "cart-to-draft"


def test_the_scopes_are_those_doctor_checks(dashboard_app):
    app = dashboard_app(OUT_OF_STOCK_POLICY="block", SHOPIFY_API="graphql", B2B_ORDERS="1")
    scopes = tomllib.loads(printed(app).output)["access_scopes"]["scopes"]
    assert scopes.split(",") == required_scopes(app.config)
    assert "read_inventory" in scopes and "read_companies" in scopes


def test_the_name_option_names_the_app(dashboard_app):
    output = printed(dashboard_app(), "--name", 'Carts "B2B"').output
    assert tomllib.loads(output)["name"] == 'Carts "B2B"'


def test_the_webhooks_use_the_configured_api_version(dashboard_app):
    output = printed(dashboard_app(SHOPIFY_API_VERSION="2026-07")).output
    assert tomllib.loads(output)["webhooks"]["api_version"] == "2026-07"


def test_without_a_client_id_the_command_stops_naming_it(dashboard_app):
    result = printed(dashboard_app(client_id=None))
    assert result.exit_code == 1
    assert "SHOPIFY_CLIENT_ID" in result.output and "PUBLIC_URL" not in result.output


def test_without_a_public_url_the_command_stops_naming_it(dashboard_app):
    result = printed(dashboard_app(PUBLIC_URL=""))
    assert result.exit_code == 1
    assert "PUBLIC_URL" in result.output and "SHOPIFY_CLIENT_ID" not in result.output


@pytest.mark.parametrize("value", ['a"b', "back\\slash", "line\nbreak", "tab\tbell\x07del\x7f",
                                   "naïve ♥"])
def test_a_value_is_escaped_as_a_toml_string(value):
    assert tomllib.loads(f"key = {toml_string(value)}")["key"] == value


def test_values_that_need_escaping_keep_the_file_readable():
    settings = {"SHOPIFY_CLIENT_ID": 'id"\n[x]', "PUBLIC_URL": "https://r.example/a\"b",
                "SHOPIFY_API_VERSION": "2026-10", "APP_PROXY_SUBPATH": "send-cart"}
    parsed = tomllib.loads(app_toml(settings, "x"))
    assert parsed["client_id"] == 'id"\n[x]'
    assert parsed["auth"]["redirect_urls"] == ['https://r.example/a"b/auth/shopify/callback']


def test_both_missing_settings_are_named_at_once(dashboard_app):
    result = printed(dashboard_app(client_id=None, PUBLIC_URL=""))
    assert result.output.strip() == (
        "shopify-config: set SHOPIFY_CLIENT_ID (the app's client id in the Dev Dashboard) and "
        "PUBLIC_URL (the receiver's public https address) first")
