"""The shop's addresses, built here only."""

from typing import TypeGuard
from urllib.parse import urlsplit


def shop_domain(base_url: str) -> str:
    """The shop's host (and port, for a local simulator), as the setup page names it."""
    return urlsplit(base_url).netloc


def admin_url(base_url: str, path: str) -> str:
    """An address under the shop's /admin/: the merchant's pages, and the API
    endpoints Shopify does not version (oauth/access_scopes.json)."""
    return f"{base_url}/admin/{path}"


def admin_api_url(base_url: str, api_version: str, path: str) -> str:
    """An Admin API address (REST resources, or graphql.json), under the version
    the receiver speaks."""
    return admin_url(base_url, f"api/{api_version}/{path}")


def is_web_url(url: object) -> TypeGuard[str]:
    """Whether `url` is an http(s) address: the only links the event log makes, and
    the only invoice URLs kept (autoescaping does not stop a `javascript:` href)."""
    return isinstance(url, str) and url.lower().startswith(("https://", "http://"))


def draft_order_admin_url(base_url: str, draft_order_id: int) -> str:
    """The merchant's page of a draft order in the shop's admin."""
    return admin_url(base_url, f"draft_orders/{draft_order_id}")
