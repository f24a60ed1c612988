import os
import subprocess
import sys

import pytest

from app.config import DEFAULT_API_VERSION, ConfigError, load, server_settings

REQUIRED = {"SHOPIFY_SHOP": "my-store.myshopify.com", "SHOPIFY_ACCESS_TOKEN": "shpat_x",
            "SHARED_SECRET": "s3cret"}


def settings(**environ):
    return load({**REQUIRED, **environ}, "/instance")


def test_defaults_follow_the_documented_table():
    config = settings()
    assert config["SHOPIFY_BASE_URL"] == "https://my-store.myshopify.com"
    assert config["SHOPIFY_API_VERSION"] == DEFAULT_API_VERSION
    assert config["DATABASE_PATH"] == "/instance/events.sqlite3"
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
