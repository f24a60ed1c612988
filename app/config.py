"""Settings from environment variables, checked once at start-up.

Every rule about a setting lives here, so a merchant who mistypes one gets a
single line naming it instead of a failure on the first shopper's click.
"""

import hashlib
import hmac
import os
import re
from urllib.parse import urlsplit

from .store import database_kind


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names it."""


DEFAULT_API_VERSION = "2025-10"
# The body static/send-cart.js posts for the largest cart we accept (250 lines of
# /cart.js, three properties and a 500-character product description each) is
# 519 KB (tests/storefront.py); 1.5 times that leaves room for longer descriptions.
DEFAULT_MAX_BODY_BYTES = 768 * 1024

_SHOP_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
_API_VERSION = re.compile(r"^(\d{4}-(01|04|07|10)|unstable)$")


def _shop_base_url(value):
    """Return the Admin API base URL for a shop domain or a full base URL."""
    value = value.strip().rstrip("/")
    if _SHOP_DOMAIN.match(value.lower()):
        return f"https://{value.lower()}"
    parts = urlsplit(value)
    if parts.scheme in ("http", "https") and parts.hostname and parts.path in ("", "/") \
            and not parts.query and not parts.fragment:
        return f"{parts.scheme}://{parts.netloc}"
    raise ConfigError(
        f"SHOPIFY_SHOP must be 'your-store.myshopify.com' or a base URL such as "
        f"'http://127.0.0.1:8081', got {value!r}"
    )


def _origins(value):
    value = value.strip()
    if value in ("", "*"):
        return "*"
    origins = []
    for origin in value.split(","):
        origin = origin.strip().rstrip("/")
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path:
            raise ConfigError(
                f"ALLOWED_ORIGINS must list origins like 'https://shop.example.com', "
                f"got {origin!r}"
            )
        origins.append(origin)
    return tuple(origins)


def _choice(name, value, choices):
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _number(name, value, kind=float, minimum=0):
    try:
        number = kind(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if number <= minimum:
        raise ConfigError(f"{name} must be greater than {minimum}, got {value!r}")
    return number


def _count(name, value):
    """A whole number of at least 0, where 0 switches the feature off."""
    if not value.strip().isdigit():
        raise ConfigError(f"{name} must be a whole number (0 turns it off), got {value!r}")
    return int(value)


def database_settings(url, instance_path):
    """DATABASE_URL as the store opens it, and DATABASE_PATH: what the setup page
    and the doctor show of it (the SQLite file, or the server without its password)."""
    if not url:
        path = os.path.join(instance_path, "events.sqlite3")
        return {"DATABASE_URL": f"sqlite:///{path}", "DATABASE_PATH": path}
    if database_kind(url) == "sqlite":
        return {"DATABASE_URL": url, "DATABASE_PATH": url[len("sqlite:///"):]}
    parts = urlsplit(url)
    if database_kind(url) == "postgresql":
        server = parts.netloc.rpartition("@")[2]
        return {"DATABASE_URL": url, "DATABASE_PATH": f"postgresql://{server}{parts.path}"}
    raise ConfigError(
        f"DATABASE_URL must be a sqlite:///path or postgresql:// URL, "
        f"got a {parts.scheme or 'malformed'} URL"
    )


def _max_body_bytes(environ):
    return _number("MAX_BODY_BYTES",
                   environ.get("MAX_BODY_BYTES", str(DEFAULT_MAX_BODY_BYTES)), int)


def server_settings(environ):
    """What the web server (`python -m app.serve`) needs, apart from the app's own
    settings: the port the platform gives, its processes and threads, how long a connection may
    take to send a complete request, and the largest body it buffers."""
    return {
        "PORT": _number("PORT", environ.get("PORT", "8000"), int),
        "WEB_CONCURRENCY": _number("WEB_CONCURRENCY", environ.get("WEB_CONCURRENCY", "2"), int),
        "WEB_THREADS": _number("WEB_THREADS", environ.get("WEB_THREADS", "16"), int),
        "REQUEST_TIMEOUT": _number("REQUEST_TIMEOUT", environ.get("REQUEST_TIMEOUT", "15"), int),
        "MAX_BODY_BYTES": _max_body_bytes(environ),
    }


def load(environ, instance_path):
    """Build the app's settings from `environ` (a mapping of strings)."""

    def required(name):
        value = environ.get(name, "").strip()
        if not value:
            raise ConfigError(f"{name} is required but not set")
        return value

    shared_secret = required("SHARED_SECRET")
    token = required("SHOPIFY_ACCESS_TOKEN")
    if any(c.isspace() for c in token):
        raise ConfigError("SHOPIFY_ACCESS_TOKEN must not contain spaces")
    api_version = environ.get("SHOPIFY_API_VERSION", "").strip() or DEFAULT_API_VERSION
    if not _API_VERSION.match(api_version):
        raise ConfigError(
            f"SHOPIFY_API_VERSION must look like {DEFAULT_API_VERSION}, got {api_version!r}"
        )
    secret_key = environ.get("SECRET_KEY", "").strip() or hmac.new(
        shared_secret.encode(), b"status-token-key", hashlib.sha256
    ).hexdigest()
    tags = ",".join(t.strip() for t in environ.get("DRAFT_ORDER_TAGS", "").split(",") if t.strip())

    timeout = _number("SHOPIFY_TIMEOUT", environ.get("SHOPIFY_TIMEOUT", "30"))
    lease = _number("LEASE_SECONDS", environ.get("LEASE_SECONDS", "10"))
    if lease < 1:
        # Renewed every third of it: a shorter lease would be lost to any pause
        # of the process or the database, and the event delivered twice over.
        raise ConfigError(f"LEASE_SECONDS must be at least 1, got {lease:g}")

    return {
        "SHOPIFY_BASE_URL": _shop_base_url(required("SHOPIFY_SHOP")),
        "SHOPIFY_ACCESS_TOKEN": token,
        "SHOPIFY_API_VERSION": api_version,
        "SHARED_SECRET": shared_secret,
        "SECRET_KEY": secret_key,
        **database_settings(environ.get("DATABASE_URL", "").strip(), instance_path),
        "ALLOWED_ORIGINS": _origins(environ.get("ALLOWED_ORIGINS", "*")),
        "GUEST_CARTS": _choice("GUEST_CARTS", environ.get("GUEST_CARTS", "allow").strip(),
                               ("allow", "reject")),
        "RUN_WORKER": _choice("RUN_WORKER", environ.get("RUN_WORKER", "1").strip(),
                              ("0", "1")) == "1",
        "DRAFT_ORDER_TAGS": tags,
        "MAX_CONTENT_LENGTH": _max_body_bytes(environ),
        "SHOPIFY_TIMEOUT": timeout,
        "MAX_ATTEMPTS": _number("MAX_ATTEMPTS", environ.get("MAX_ATTEMPTS", "5"), int),
        "POLL_TIMEOUT": _number("POLL_TIMEOUT", environ.get("POLL_TIMEOUT", "600")),
        "LEASE_SECONDS": lease,
        "SIGNATURE_MODE": _choice("SIGNATURE_MODE",
                                  environ.get("SIGNATURE_MODE", "mechanic").strip(),
                                  ("mechanic", "timestamped")),
        # An hour by default: a shopper may leave a cart page open a while.
        "SIGNATURE_TOLERANCE": _number("SIGNATURE_TOLERANCE",
                                       environ.get("SIGNATURE_TOLERANCE", "3600"), int),
        # The merchant's event log at /admin exists only once a password is set.
        "ADMIN_PASSWORD": environ.get("ADMIN_PASSWORD", "").strip() or None,
        "DEDUPE_WINDOW": _count("DEDUPE_WINDOW", environ.get("DEDUPE_WINDOW", "600")),
        "RATE_LIMIT_PER_IP": _count("RATE_LIMIT_PER_IP",
                                    environ.get("RATE_LIMIT_PER_IP", "30")),
        "RATE_LIMIT_PER_CUSTOMER": _count("RATE_LIMIT_PER_CUSTOMER",
                                          environ.get("RATE_LIMIT_PER_CUSTOMER", "10")),
        "TRUSTED_PROXIES": _count("TRUSTED_PROXIES", environ.get("TRUSTED_PROXIES", "0")),
        # Days a completed or failed event is kept after it settled.
        "RETENTION_DAYS": _count("RETENTION_DAYS", environ.get("RETENTION_DAYS", "30")),
        "SHOPIFY_LEAK_RATE": _number("SHOPIFY_LEAK_RATE",
                                     environ.get("SHOPIFY_LEAK_RATE", "2")),
    }
