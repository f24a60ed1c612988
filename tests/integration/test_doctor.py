"""`flask doctor` against the Shopify simulator served on loopback."""

import os
import socket
import subprocess
import sys

import pytest
from helpers import SECRET, TOKEN
from servers import shopify_simulator

from app.config import BY_NAME, DEFAULT_API_VERSION, ConfigError
from app.ops import doctor
from app.shopify import Answer
from app.shopify.scopes import required_scopes
from app.store import SqliteStore

SIMULATOR_TOKEN = "shpat_simulator_token"


@pytest.fixture(scope="module")
def served():
    """One server for the module: its shutdown waits out a half-second poll."""
    with shopify_simulator(SIMULATOR_TOKEN) as shop:
        yield shop.state, shop.url


@pytest.fixture
def simulator(served):
    state, url = served
    state.reset()
    return state, url


@pytest.fixture
def doctor_app(make_app, simulator):
    """An app pointed at the simulator; overrides change its settings."""
    _, url = simulator
    return lambda **overrides: make_app(**{
        "SHOPIFY_SHOP": url, "SHOPIFY_ACCESS_TOKEN": SIMULATOR_TOKEN, "SHOPIFY_TIMEOUT": "2",
        **overrides,
    })


def by_name(results):
    return {result.name: result for result in results}


def statuses(results):
    return [result.status for result in results]


def test_good_settings_pass_every_check(doctor_app):
    results = doctor.run(doctor_app())
    assert statuses(results) == ["PASS"] * 7
    assert [r.name for r in results] == [
        "configuration", "database", doctor.CREDENTIALS_CHECK, "Shopify answers",
        "access token is valid",
        "token has the write_draft_orders, read_orders scopes",
        f"API version {DEFAULT_API_VERSION} is accepted"]


def test_shop_check_names_the_shop(doctor_app):
    check = by_name(doctor.run(doctor_app()))["Shopify answers"]
    assert check.what == "Simulated Shop (simulator.myshopify.com)"


def test_wrong_token_fails_with_a_token_hint(doctor_app):
    results = by_name(doctor.run(doctor_app(SHOPIFY_ACCESS_TOKEN="shpat_wrong")))
    check = results["access token is valid"]
    assert check.failed
    assert "401" in check.what
    assert "SHOPIFY_ACCESS_TOKEN" in check.hint


def test_wrong_token_skips_the_checks_that_need_it(doctor_app):
    results = by_name(doctor.run(doctor_app(SHOPIFY_ACCESS_TOKEN="shpat_wrong")))
    assert results["token has the write_draft_orders, read_orders scopes"].status == "SKIP"
    assert results[f"API version {DEFAULT_API_VERSION} is accepted"].status == "SKIP"


def test_missing_write_scope_fails_with_a_reinstall_hint(doctor_app, simulator):
    state, _ = simulator
    state.configure(scopes=["read_draft_orders", "read_products"])
    check = by_name(doctor.run(doctor_app()))[
        "token has the write_draft_orders, read_orders scopes"]
    assert check.failed
    assert check.what == "the token has read_draft_orders, read_products"
    assert "add write_draft_orders" in check.hint and "reinstall" in check.hint


def test_rejected_api_version_fails_with_a_version_hint(doctor_app, simulator):
    state, _ = simulator
    state.configure(api_versions=["2025-07"])
    results = doctor.run(doctor_app())
    check = by_name(results)[f"API version {DEFAULT_API_VERSION} is accepted"]
    assert check.failed
    assert "SHOPIFY_API_VERSION" in check.hint
    assert statuses(results) == ["PASS"] * 6 + ["FAIL"]


def closed_port_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"  # nothing listens once closed


def test_unreachable_shop_fails_with_a_shop_hint(make_app):
    results = by_name(doctor.run(make_app(SHOPIFY_SHOP=closed_port_url())))
    check = results["Shopify answers"]
    assert check.failed
    assert "connection failed" in check.what
    assert "SHOPIFY_SHOP" in check.hint
    assert results["access token is valid"].status == "SKIP"


def test_shop_that_answers_too_slowly_fails_with_a_shop_hint(doctor_app, simulator):
    state, _ = simulator
    state.configure(delay_seconds=0.5)
    check = by_name(doctor.run(doctor_app(SHOPIFY_TIMEOUT="0.2")))["Shopify answers"]
    assert check.failed
    assert "no answer within 0.2 seconds" in check.what
    assert "SHOPIFY_SHOP" in check.hint


def test_database_without_the_schema_fails(tmp_path):
    check = doctor.check_database(SqliteStore(str(tmp_path / "empty.sqlite3")))
    assert check.failed
    assert "DATABASE_URL" in check.hint


def test_cli_prints_one_pass_line_per_check_and_exits_0(doctor_app):
    result = doctor_app().test_cli_runner().invoke(args=["doctor"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 7
    assert all(line.startswith("PASS  ") for line in lines)
    assert lines[4] == "PASS  access token is valid"


def test_cli_prints_fail_with_hint_and_exits_1(doctor_app):
    app = doctor_app(SHOPIFY_ACCESS_TOKEN="shpat_wrong")
    result = app.test_cli_runner().invoke(args=["doctor"])
    assert result.exit_code == 1
    assert ("FAIL  access token is valid: Shopify refused the token (401) — hint: set "
            "SHOPIFY_ACCESS_TOKEN") in result.output


def test_cli_output_contains_no_secret(doctor_app):
    app = doctor_app(SHARED_SECRET=SECRET, ADMIN_PASSWORD="admin-password-1")
    output = app.test_cli_runner().invoke(args=["doctor"]).output
    for secret in (SIMULATOR_TOKEN, TOKEN, SECRET, app.config["SECRET_KEY"], "admin-password-1"):
        assert secret not in output


def test_unconfigured_doctor_reports_every_missing_or_malformed_setting(tmp_path):
    environ = {name: value for name, value in os.environ.items()
               if not name.startswith(("SHOPIFY_", "SHARED_", "DATABASE_", "FLASK_"))}
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "doctor"],
                            env={**environ, "GUEST_CARTS": "maybe"}, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr
    assert [line.split(" — ")[0] for line in result.stdout.splitlines()] == [
        "FAIL  configuration: SHOPIFY_SHOP is required but not set",
        "FAIL  configuration: SHARED_SECRET is required but not set",
        "FAIL  configuration: GUEST_CARTS must be one of allow, reject, got 'maybe'",
        "FAIL  configuration: SHOPIFY_CLIENT_ID and SHOPIFY_CLIENT_SECRET are required: the "
        "credentials of the shop's Dev Dashboard app (see docs/connect-your-shop.md); an "
        "app made in the Shopify admin before 2026 sets SHOPIFY_ACCESS_TOKEN instead",
        "SKIP  database and Shopify: need every setting above",
    ]


def test_a_missing_setting_s_hint_is_its_line_of_the_settings_table():
    (check, _) = doctor.check_settings(ConfigError("SHARED_SECRET is required but not set"))
    assert check.hint == BY_NAME["SHARED_SECRET"].doc


def probe_with_scopes(*handles):
    answer = Answer("GET", "https://shop/admin/oauth/access_scopes.json", 200, "{}")
    return doctor.Probe(answer, None, answer, list(handles))


def test_the_stock_policy_needs_the_product_and_inventory_read_scopes():
    needed = required_scopes({"OUT_OF_STOCK_POLICY": "block"})
    check = doctor.check_scopes(probe_with_scopes("write_draft_orders", "read_products"), needed)
    assert check.status == "FAIL"
    assert check.hint.startswith("add read_inventory to the app's Admin API access scopes")


def test_b2b_orders_need_the_customer_and_company_read_scopes():
    assert required_scopes({"B2B_ORDERS": True}) == [
        "write_draft_orders", "read_customers", "read_companies"]


def test_a_write_scope_grants_its_read_scope():
    needed = required_scopes({"INVALID_ITEM_POLICY": "drop"})
    check = doctor.check_scopes(
        probe_with_scopes("write_draft_orders", "write_products", "write_inventory"), needed)
    assert (check.name, check.status) == (
        "token has the write_draft_orders, read_products, read_inventory scopes", "PASS")


def test_following_drafts_needs_the_orders_read_scope():
    assert "read_orders" in required_scopes({"RECONCILE_DAYS": 30})
    assert "read_orders" in required_scopes({"RECONCILE_DAYS": 0,
                                                    "SHOPIFY_WEBHOOK_SECRET": "s"})
    assert "read_orders" not in required_scopes({"RECONCILE_DAYS": 0})


def test_dev_dashboard_credentials_hint_at_a_released_app_version():
    check = doctor.check_scopes(probe_with_scopes("write_draft_orders"),
                                ["write_draft_orders", "read_orders"], dev_dashboard=True)
    assert check.failed
    assert check.hint.startswith("add read_orders to the access scopes of the app's version in "
                                 "the Dev Dashboard")
    assert "shopify app deploy" in check.hint and "release" in check.hint
    assert "Develop apps" not in check.hint


def test_a_legacy_token_keeps_the_admin_hint():
    check = doctor.check_scopes(probe_with_scopes("write_draft_orders"),
                                ["write_draft_orders", "read_orders"])
    assert "Settings > Apps and sales channels > Develop apps" in check.hint


# --- The API version Shopify answers with. ---

def probe_served(version):
    headers = {} if version is None else {"X-Shopify-API-Version": version}
    shop = Answer("GET", "https://shop/admin/api/2024-01/shop.json", 200, "{}", headers)
    return doctor.Probe(shop, None, shop, [])


def test_another_version_answered_warns_that_shopify_serves_its_oldest():
    check = doctor.check_api_version(probe_served("2025-10"), "2024-01")
    assert (check.status, check.failed) == ("WARN", False)
    assert "answered with API version 2025-10" in check.what
    assert "SHOPIFY_API_VERSION" in check.hint


def test_the_version_answered_as_configured_passes():
    assert doctor.check_api_version(probe_served("2024-01"), "2024-01").status == "PASS"


def test_an_answer_without_a_version_header_passes():
    assert doctor.check_api_version(probe_served(None), "2024-01").status == "PASS"


def test_a_warning_is_printed_with_its_hint_and_the_run_passes(make_app, shopify):
    api = f"https://test-shop.myshopify.com/admin/api/{DEFAULT_API_VERSION}"
    shopify.get(f"{api}/shop.json", json={"shop": {"name": "S", "myshopify_domain": "s"}},
                headers={"X-Shopify-API-Version": "2026-01"})
    shopify.get("https://test-shop.myshopify.com/admin/oauth/access_scopes.json",
                json={"access_scopes": [{"handle": "write_draft_orders"},
                                        {"handle": "read_orders"}]})
    result = make_app().test_cli_runner().invoke(args=["doctor"])
    assert result.exit_code == 0, result.output
    assert (f"WARN  API version {DEFAULT_API_VERSION} is accepted: Shopify answered with API "
            f"version 2026-01") in result.output
    assert " — hint: set SHOPIFY_API_VERSION" in result.output


DEV_DASHBOARD = {"SHOPIFY_ACCESS_TOKEN": "", "SHOPIFY_CLIENT_ID": "doctor_client_id",
                 "SHOPIFY_CLIENT_SECRET": "doctor_client_secret"}


@pytest.fixture
def dev_dashboard_shop(start_simulator):
    return lambda **config: start_simulator(SIMULATOR_TOKEN, **{
        "client_id": "doctor_client_id", "client_secret": "doctor_client_secret", **config})


def test_doctor_says_a_legacy_token_is_in_use(doctor_app):
    check = by_name(doctor.run(doctor_app()))[doctor.CREDENTIALS_CHECK]
    assert check.status == "PASS" and "legacy" in check.what


def test_doctor_names_the_grant_the_expiry_and_the_granted_scopes(make_app, dev_dashboard_shop):
    shop = dev_dashboard_shop()
    results = doctor.run(make_app(SHOPIFY_SHOP=shop.url, **DEV_DASHBOARD))
    check = by_name(results)[doctor.CREDENTIALS_CHECK]
    assert check.status == "PASS"
    assert "client credentials grant" in check.what and "valid until" in check.what
    assert "write_draft_orders" in check.what
    assert not any(result.failed for result in results)


@pytest.mark.parametrize("config, code, remedy", [
    ({"organization": False}, "shop_not_permitted", "PUBLIC_URL/auth/shopify"),
    ({"installed": False}, "app_not_installed", "Install app"),
    ({"client_secret": "rotated"}, "invalid_client", "SHOPIFY_CLIENT_SECRET"),
])
def test_doctor_names_the_setting_and_the_remedy_for_a_refused_token(
        make_app, dev_dashboard_shop, config, code, remedy):
    shop = dev_dashboard_shop(**config)
    app = make_app(SHOPIFY_SHOP=shop.url, **DEV_DASHBOARD)
    results = doctor.run(app)
    check = by_name(results)[doctor.CREDENTIALS_CHECK]
    assert check.status == "FAIL" and check.what.startswith(code)
    assert remedy in check.hint
    assert statuses(results)[-1] == "SKIP"
    output = app.test_cli_runner().invoke(args=["doctor"]).output
    assert "doctor_client_secret" not in output
