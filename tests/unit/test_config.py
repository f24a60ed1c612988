import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import (
    APP,
    DEFAULT_API_VERSION,
    SERVER,
    ConfigError,
    Setting,
    load,
    markdown_table,
    server_settings,
    stock_check,
)

ROOT = Path(__file__).resolve().parent.parent.parent
CONFIGURATION_DOC = ROOT / "docs" / "configuration.md"

REQUIRED = {"SHOPIFY_SHOP": "my-store.myshopify.com", "SHOPIFY_ACCESS_TOKEN": "shpat_x",
            "SHARED_SECRET": "s3cret"}


def settings(**environ):
    return load({**REQUIRED, **environ}, "/instance")


def test_defaults_follow_the_documented_table():
    config = settings()
    assert config["SHOPIFY_BASE_URL"] == "https://my-store.myshopify.com"
    assert config["SHOPIFY_API_VERSION"] == DEFAULT_API_VERSION
    assert config["DATABASE_SHOWN"] == "/instance/events.sqlite3"
    assert config["ALLOWED_ORIGINS"] == "*"
    assert config["GUEST_CARTS"] == "allow"
    assert config["RUN_WORKER"] is True
    assert config["MAX_CONTENT_LENGTH"] == 768 * 1024
    assert config["SECRET_KEY"] and config["SECRET_KEY"] != "s3cret"


def test_shop_may_be_a_full_base_url_for_a_local_simulator():
    assert settings(SHOPIFY_SHOP="http://127.0.0.1:8081/")["SHOPIFY_BASE_URL"] \
        == "http://127.0.0.1:8081"


def test_allowed_origins_are_a_comma_separated_list():
    config = settings(ALLOWED_ORIGINS="https://a.example, https://b.example/")
    assert config["ALLOWED_ORIGINS"] == ("https://a.example", "https://b.example")


def test_draft_order_tags_are_normalised():
    assert settings(DRAFT_ORDER_TAGS=" cart , ,b2b ")["DRAFT_ORDER_TAGS"] == "cart,b2b"


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_missing_required_variable_is_named(name):
    with pytest.raises(ConfigError, match=name):
        load({**REQUIRED, name: " "}, "/instance")


@pytest.mark.parametrize("name, value", [
    ("SHOPIFY_SHOP", "my-store"), ("SHOPIFY_SHOP", "ftp://x"),
    ("SHOPIFY_SHOP", "https://my-store.myshopify.com/admin"),
    ("SHOPIFY_API_VERSION", "2025-11"), ("SHOPIFY_API_VERSION", "latest"),
    ("GUEST_CARTS", "maybe"), ("RUN_WORKER", "yes"), ("ALLOWED_ORIGINS", "shop.example.com"),
    ("DATABASE_URL", "mysql://u@h/db"), ("MAX_BODY_BYTES", "lots"), ("MAX_ATTEMPTS", "0"),
    ("SHOPIFY_ACCESS_TOKEN", "shpat x"), ("LEASE_SECONDS", "0.5"),
])
def test_malformed_variable_is_named(name, value):
    with pytest.raises(ConfigError, match=name):
        settings(**{name: value})


def test_a_lease_shorter_than_a_shopify_call_is_accepted():
    """The heartbeat renews the lease during a call: it need not outlast one."""
    assert settings(LEASE_SECONDS="10", SHOPIFY_TIMEOUT="30")["LEASE_SECONDS"] == 10


def test_the_lease_defaults_to_ten_seconds():
    assert settings()["LEASE_SECONDS"] == 10


def test_the_token_never_appears_in_a_config_error():
    with pytest.raises(ConfigError) as raised:
        settings(SHOPIFY_ACCESS_TOKEN="shpat secret")
    assert "shpat secret" not in str(raised.value)


def test_startup_with_a_missing_variable_prints_one_line_and_no_traceback(tmp_path):
    environ = {k: v for k, v in os.environ.items()
               if k not in REQUIRED and not k.startswith(("SHOPIFY_", "DATABASE_"))}
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "worker"],
        env={**environ, "SHARED_SECRET": "x", "SHOPIFY_ACCESS_TOKEN": "t"},
        cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert result.stderr.strip() == "configuration error: SHOPIFY_SHOP is required but not set"


def test_web_server_settings_default_as_the_readme_says():
    assert server_settings({}) == {"PORT": 8000, "WEB_CONCURRENCY": 2, "WEB_THREADS": 16,
                                   "REQUEST_TIMEOUT": 15, "MAX_BODY_BYTES": 768 * 1024}


@pytest.mark.parametrize("name", ["PORT", "WEB_CONCURRENCY", "WEB_THREADS", "REQUEST_TIMEOUT"])
@pytest.mark.parametrize("value", ["0", "1.5", "ten"])
def test_web_server_setting_that_is_not_a_positive_whole_number_is_refused_by_name(name, value):
    with pytest.raises(ConfigError, match=name):
        server_settings({name: value})


def test_web_process_with_a_bad_server_setting_prints_one_line_and_no_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "app.serve"],
                            env={**os.environ, "WEB_THREADS": "many"},
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 3
    assert result.stderr.strip() == "configuration error: WEB_THREADS must be a number, got 'many'"


def test_every_missing_or_malformed_setting_is_reported_at_once():
    with pytest.raises(ConfigError) as raised:
        load({"SHOPIFY_ACCESS_TOKEN": "shpat_x", "GUEST_CARTS": "maybe", "PORT": "x"}, "/i")
    assert raised.value.lines() == [
        "configuration error: SHOPIFY_SHOP is required but not set",
        "configuration error: SHARED_SECRET is required but not set",
        "configuration error: GUEST_CARTS must be one of allow, reject, got 'maybe'",
    ]


def test_every_malformed_server_setting_is_reported_at_once():
    with pytest.raises(ConfigError) as raised:
        server_settings({"PORT": "http", "WEB_THREADS": "0"})
    assert raised.value.problems == ("PORT must be a number, got 'http'",
                                     "WEB_THREADS must be greater than 0, got '0'")


def test_a_blank_setting_takes_its_default():
    assert settings(MAX_ATTEMPTS=" ", GUEST_CARTS="")["MAX_ATTEMPTS"] == 5


def test_the_database_shown_is_the_url_without_its_password():
    url = "postgresql://user:pw@db.example:5432/events"
    assert settings(DATABASE_URL=url)["DATABASE_SHOWN"] == "postgresql://db.example:5432/events"


# To regenerate a table of docs/configuration.md after changing app/config.py's SETTINGS:
# the command in Setting's docstring, which the next test runs.
@pytest.mark.parametrize("scope", [APP, SERVER])
def test_the_command_settings_docstring_gives_prints_the_table(scope):
    [line] = [line.strip() for line in Setting.__doc__.splitlines()
              if line.strip().startswith("python -c ")]
    code = shlex.split(line)[2].replace("config.APP", f"config.{scope.upper()}")

    printed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             cwd=ROOT, timeout=60)

    assert (printed.returncode, printed.stderr) == (0, "")
    assert printed.stdout == markdown_table(scope) + "\n"


def test_the_documented_configuration_table_is_the_settings_table():
    assert markdown_table(APP) in CONFIGURATION_DOC.read_text(encoding="utf-8")


def test_the_documented_web_process_table_is_the_settings_table():
    assert markdown_table(SERVER) in CONFIGURATION_DOC.read_text(encoding="utf-8")


def test_start_up_names_every_missing_setting_in_one_line_each(tmp_path):
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "worker"],
                            env=unconfigured(), cwd=tmp_path, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 3
    assert result.stderr.splitlines() == [
        *(f"configuration error: {name} is required but not set"
          for name in ("SHOPIFY_SHOP", "SHARED_SECRET")),
        "configuration error: SHOPIFY_CLIENT_ID and SHOPIFY_CLIENT_SECRET are required: the "
        "credentials of the shop's Dev Dashboard app (see docs/connect-your-shop.md); an "
        "app made in the Shopify admin before 2026 sets SHOPIFY_ACCESS_TOKEN instead"]


def unconfigured():
    return {name: value for name, value in os.environ.items()
            if not name.startswith(("SHOPIFY_", "SHARED_", "DATABASE_", "FLASK_"))}


def flask(*args, cwd):
    return subprocess.run([sys.executable, "-m", "flask", *args], env=unconfigured(), cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def test_help_lists_the_commands_before_anything_is_configured(tmp_path):
    result = flask("--app", "app", "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert all(f"  {name} " in result.stdout for name in ("worker", "doctor", "prune", "init-db"))


def test_a_command_s_help_works_before_anything_is_configured(tmp_path):
    result = flask("--app", "app", "worker", "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Run the delivery worker alone" in result.stdout


def test_a_bare_flask_help_in_any_folder_is_not_stopped_by_this_app(tmp_path):
    """The package is installed as `app`, which flask imports when the folder has no app.py."""
    result = flask("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_running_the_app_unconfigured_still_stops_at_start_up(tmp_path):
    result = flask("--app", "app", "routes", cwd=tmp_path)
    assert result.returncode == 3
    assert "configuration error: SHARED_SECRET is required but not set" in result.stderr


GRAPHQL_FEATURES = {"CART_CURRENCY": "1", "CART_DISCOUNT_CODES": "1",
                    "ACCEPT_AUTOMATIC_DISCOUNTS": "1", "B2B_ORDERS": "1",
                    "RESERVE_INVENTORY_MINUTES": "15", "INVALID_ITEM_POLICY": "block",
                    "OUT_OF_STOCK_POLICY": "drop"}


def test_the_rest_api_is_the_default_with_every_graphql_feature_off():
    config = settings()
    assert config["SHOPIFY_API"] == "rest"
    assert [config[name] for name in GRAPHQL_FEATURES] == [False, False, False, False, 0,
                                                           "off", "allow"]


def test_under_graphql_unset_cart_features_are_on():
    config = settings(SHOPIFY_API="graphql")
    assert (config["CART_CURRENCY"], config["CART_DISCOUNT_CODES"],
            config["ACCEPT_AUTOMATIC_DISCOUNTS"]) == (True, True, True)


def test_under_graphql_b2b_inventory_holds_and_stock_policies_stay_off_until_set():
    config = settings(SHOPIFY_API="graphql")
    assert (config["B2B_ORDERS"], config["RESERVE_INVENTORY_MINUTES"],
            config["INVALID_ITEM_POLICY"], config["OUT_OF_STOCK_POLICY"]) \
        == (False, 0, "off", "allow")


def test_under_graphql_a_cart_feature_may_be_switched_off():
    assert settings(SHOPIFY_API="graphql", CART_CURRENCY="0")["CART_CURRENCY"] is False


def test_under_graphql_every_feature_takes_its_value():
    config = settings(SHOPIFY_API="graphql", **GRAPHQL_FEATURES)
    assert [config[name] for name in GRAPHQL_FEATURES] == [True, True, True, True, 15,
                                                           "block", "drop"]


def test_under_rest_features_set_off_are_accepted():
    config = settings(CART_CURRENCY="0", CART_DISCOUNT_CODES="0", B2B_ORDERS="0",
                      RESERVE_INVENTORY_MINUTES="0", INVALID_ITEM_POLICY="off",
                      OUT_OF_STOCK_POLICY="allow")
    assert config["CART_CURRENCY"] is False


def test_under_rest_each_graphql_feature_switched_on_is_refused_by_name_at_once():
    with pytest.raises(ConfigError) as raised:
        settings(**GRAPHQL_FEATURES)
    assert [problem.split(" ", 1)[0] for problem in raised.value.problems] \
        == list(GRAPHQL_FEATURES)
    assert all("SHOPIFY_API=graphql" in problem for problem in raised.value.problems)


def test_a_graphql_feature_under_rest_says_what_rest_cannot_do():
    with pytest.raises(ConfigError) as raised:
        settings(CART_CURRENCY="1")
    assert raised.value.problems == (
        "CART_CURRENCY cannot be 1 under SHOPIFY_API=rest: the REST Admin API cannot carry "
        "the cart's currency; set SHOPIFY_API=graphql",)


def test_a_graphql_feature_under_rest_is_reported_with_the_other_problems():
    with pytest.raises(ConfigError) as raised:
        settings(GUEST_CARTS="maybe", B2B_ORDERS="1")
    assert [problem.split(" ", 1)[0] for problem in raised.value.problems] \
        == ["GUEST_CARTS", "B2B_ORDERS"]


@pytest.mark.parametrize("name, value", [
    ("SHOPIFY_API", "soap"), ("CART_CURRENCY", "yes"), ("RESERVE_INVENTORY_MINUTES", "-5"),
    ("INVALID_ITEM_POLICY", "allow"), ("OUT_OF_STOCK_POLICY", "off"),
])
def test_malformed_api_setting_is_named(name, value):
    with pytest.raises(ConfigError, match=name):
        settings(**{"SHOPIFY_API": "graphql", name: value})


def test_a_notification_email_needs_both_a_server_and_an_address():
    with pytest.raises(ConfigError) as raised:
        settings(NOTIFY_EMAIL="merchant@example.com")
    assert raised.value.problems == (
        "SMTP_URL is required when NOTIFY_EMAIL is set: the merchant's emails need both a "
        "server and an address",)


def test_a_malformed_smtp_url_is_refused_without_echoing_its_password():
    with pytest.raises(ConfigError) as raised:
        settings(SMTP_URL="smtp://user:pa55word@host:notaport",
                 NOTIFY_EMAIL="merchant@example.com")
    assert "pa55word" not in str(raised.value)
    assert raised.value.problems[0].startswith("SMTP_URL must look like smtp://")


def test_lifecycle_settings_are_off_when_unset():
    loaded = settings()
    assert (loaded["SEND_INVOICE"], loaded["SHOPIFY_WEBHOOK_SECRET"], loaded["PUBLIC_URL"],
            loaded["NOTIFY_WEBHOOK_URL"], loaded["SMTP_URL"]) == (False, None, None, None, None)
    assert loaded["RECONCILE_DAYS"] == 30


@pytest.mark.parametrize("value", ["²", "١٢", "５"])
def test_a_count_in_digits_other_than_ascii_is_named_not_a_crash(value):
    with pytest.raises(ConfigError, match="DEDUPE_WINDOW"):
        settings(DEDUPE_WINDOW=value)


def test_an_inventory_hold_beyond_a_year_is_named_at_start_up():
    """A typo like 99999999999999 would fail every draft, on a shopper's cart, later."""
    with pytest.raises(ConfigError, match="RESERVE_INVENTORY_MINUTES"):
        settings(SHOPIFY_API="graphql", RESERVE_INVENTORY_MINUTES="99999999999999")


def test_an_inventory_hold_of_a_year_is_accepted():
    assert settings(SHOPIFY_API="graphql", RESERVE_INVENTORY_MINUTES="525600")[
        "RESERVE_INVENTORY_MINUTES"] == 525600


def test_the_stock_check_is_on_when_either_policy_leaves_its_default():
    assert not stock_check(settings(SHOPIFY_API="graphql"))
    assert stock_check(settings(SHOPIFY_API="graphql", OUT_OF_STOCK_POLICY="drop"))
    assert stock_check(settings(SHOPIFY_API="graphql", INVALID_ITEM_POLICY="block"))


DEV_DASHBOARD = {"SHOPIFY_ACCESS_TOKEN": "", "SHOPIFY_CLIENT_ID": "client-id-1",
                 "SHOPIFY_CLIENT_SECRET": "client-secret-1"}


def problems(**environ):
    with pytest.raises(ConfigError) as raised:
        settings(**environ)
    return raised.value.problems


def test_the_client_id_and_secret_are_enough_without_an_access_token():
    config = settings(**DEV_DASHBOARD)
    assert config["SHOPIFY_CLIENT_ID"] == "client-id-1"
    assert config["SHOPIFY_ACCESS_TOKEN"] is None


def test_the_webhook_secret_defaults_to_the_client_secret():
    assert settings(**DEV_DASHBOARD)["SHOPIFY_WEBHOOK_SECRET"] == "client-secret-1"
    assert settings(**DEV_DASHBOARD, SHOPIFY_WEBHOOK_SECRET="other")["SHOPIFY_WEBHOOK_SECRET"] \
        == "other"


def test_an_access_token_beside_client_credentials_is_refused_as_contradictory():
    [problem] = problems(**{**DEV_DASHBOARD, "SHOPIFY_ACCESS_TOKEN": "shpat_x"})
    assert problem.startswith("SHOPIFY_ACCESS_TOKEN and SHOPIFY_CLIENT_ID")
    assert "shpat_x" not in problem


@pytest.mark.parametrize("missing, named", [("SHOPIFY_CLIENT_SECRET", "SHOPIFY_CLIENT_SECRET"),
                                            ("SHOPIFY_CLIENT_ID", "SHOPIFY_CLIENT_ID")])
def test_half_of_the_client_credentials_names_the_other_half(missing, named):
    [problem] = problems(**{**DEV_DASHBOARD, missing: ""})
    assert problem.startswith(f"{named} is required with")
    assert "client-secret-1" not in problem


def test_a_previous_secret_needs_the_new_one():
    [problem] = problems(SHOPIFY_CLIENT_SECRET_PREVIOUS="old")
    assert problem.startswith("SHOPIFY_CLIENT_SECRET_PREVIOUS needs SHOPIFY_CLIENT_SECRET")


def test_neither_kind_of_credentials_names_both():
    [problem] = problems(SHOPIFY_ACCESS_TOKEN="")
    assert problem.startswith("SHOPIFY_CLIENT_ID and SHOPIFY_CLIENT_SECRET are required")
    assert "SHOPIFY_ACCESS_TOKEN" in problem


@pytest.mark.parametrize("waiters, threads", [("16", None), ("8", "8"), ("20", "16")])
def test_status_waiters_as_many_as_the_threads_are_refused_naming_both(waiters, threads):
    environ = {"STATUS_WAITERS": waiters, **({"WEB_THREADS": threads} if threads else {})}
    with pytest.raises(ConfigError, match="STATUS_WAITERS must be fewer than WEB_THREADS"):
        settings(**environ)


def test_status_waiters_fewer_than_the_threads_are_accepted():
    assert settings(STATUS_WAITERS="15", WEB_THREADS="16")["STATUS_WAITERS"] == 15


@pytest.mark.parametrize("threads, waiters", [(None, 8), ("8", 4), ("1", 0), ("40", 20)])
def test_status_waiters_unset_are_half_the_threads_so_web_threads_alone_always_starts(
        threads, waiters):
    assert settings(**({"WEB_THREADS": threads} if threads else {}))["STATUS_WAITERS"] == waiters
