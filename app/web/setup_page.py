"""The merchant's landing page (`GET /`): how to install the storefront button,
the snippet ready to paste, and whether this deployment is configured well.

A merchant can check a deploy from the browser without a shell, so the page
shows settings; it never shows a secret (access token, SHARED_SECRET,
SECRET_KEY), only that they are set. Required settings need no row of their
own: without them the app refuses to start.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue

from .. import assets
from ..config import database_kind, dev_dashboard
from ..shopify import shop_domain
from . import page_headers

bp = Blueprint("setup", __name__)
page_headers.protect(bp)

SNIPPET_PATH = assets.TEMPLATES / "snippet.liquid"
RECEIVER_PLACEHOLDER = "https://YOUR-APP.example.com"
SECRET_PLACEHOLDER = "YOUR_SHARED_SECRET"
MODE_ASSIGN = 'assign draft_order_signature_mode = "{}"'
SNIPPET_MODE_ASSIGN = 'assign draft_order_mode = "{}"'
PROXY_PATH_ASSIGN = 'assign draft_order_proxy_path = "{}"'
SECRET_LINE = f'{{%- assign draft_order_secret = "{SECRET_PLACEHOLDER}" -%}}\n'
SNIPPET_MODES = ("proxy", "hmac")  # the app proxy, or the legacy signed customer id


def snippet(receiver_url: str, secret: str | None = None, signature_mode: str = "mechanic",
            mode: str = "hmac", proxy_subpath: str = "send-cart") -> str:
    """templates/snippet.liquid with this app's address and signature mode
    filled in; the secret stays a placeholder unless given (only tests give one).
    In `mode` "proxy" the snippet posts through the shop's /apps/<proxy_subpath>
    and holds no secret: its line is left out."""
    text: str = SNIPPET_PATH.read_text(encoding="utf-8")
    text = text.replace(RECEIVER_PLACEHOLDER, receiver_url.rstrip("/"))
    text = text.replace(MODE_ASSIGN.format("mechanic"), MODE_ASSIGN.format(signature_mode))
    if mode == "proxy":
        text = text.replace(SNIPPET_MODE_ASSIGN.format("hmac"), SNIPPET_MODE_ASSIGN.format(mode))
        text = text.replace(PROXY_PATH_ASSIGN.format("/apps/send-cart"),
                            PROXY_PATH_ASSIGN.format(f"/apps/{proxy_subpath}"))
        return text.replace(SECRET_LINE, "")
    return text if secret is None else text.replace(SECRET_PLACEHOLDER, secret)


def snippet_mode(settings: Mapping[str, Any], asked: str | None) -> str:
    """The snippet the page shows: the one asked for (?snippet=), else the app
    proxy's with Dev Dashboard credentials (its client secret signs the proxy's
    requests), else the HMAC one. Without those credentials there is no proxy."""
    if not dev_dashboard(settings):
        return "hmac"
    return asked if asked in SNIPPET_MODES else "proxy"


@dataclass(frozen=True)
class SettingRow:
    """One setting as the page shows it; not ok: the merchant should look at it."""

    label: str
    value: str
    ok: bool = True
    hint: str = ""


def _database(settings: Mapping[str, Any]) -> SettingRow:
    if database_kind(settings["DATABASE_URL"]) == "postgresql":
        return SettingRow("Event database", f"PostgreSQL, {settings['DATABASE_SHOWN']}")
    path = Path(settings["DATABASE_SHOWN"]).resolve()
    if Path(current_app.instance_path).resolve() in path.parents:
        return SettingRow("Event database", "SQLite, default file in the instance folder",
                          False, "If your host's disk is wiped on deploy, set DATABASE_URL "
                          "to sqlite:/// on a persistent volume.")
    return SettingRow("Event database", "SQLite, from DATABASE_URL")


def _api(settings: Mapping[str, Any]) -> SettingRow:
    if settings["SHOPIFY_API"] == "graphql":
        return SettingRow("Admin API", "GraphQL (SHOPIFY_API=graphql)")
    return SettingRow("Admin API", "REST (SHOPIFY_API=rest)", hint=(
        "Shopify made REST legacy; GraphQL carries the cart's currency, discount codes and "
        "B2B company, and drains a backlog of 400 carts 6.0x faster. Recommended for new "
        "installs: set SHOPIFY_API=graphql."))


def _cart_features(settings: Mapping[str, Any]) -> SettingRow:
    carried = [label for key, label in (("CART_CURRENCY", "the cart's currency"),
                                        ("CART_DISCOUNT_CODES", "its discount codes"),
                                        ("ACCEPT_AUTOMATIC_DISCOUNTS", "automatic discounts"))
               if settings[key]]
    return SettingRow("Draft orders carry", ", ".join(carried) if carried
                      else "lines, note and attributes only (prices are always Shopify's)")


def _b2b(settings: Mapping[str, Any]) -> SettingRow:
    if not settings["B2B_ORDERS"]:
        return SettingRow("B2B orders", "off: the snippet's company lines are ignored")
    return SettingRow("B2B orders", "on: a company contact's cart is drafted for the signed "
                      "company location", hint="The token needs the company read scopes.")


def _stock(settings: Mapping[str, Any]) -> SettingRow:
    minutes = settings["RESERVE_INVENTORY_MINUTES"]
    invalid, out_of_stock = settings["INVALID_ITEM_POLICY"], settings["OUT_OF_STOCK_POLICY"]
    check = "off" if (invalid, out_of_stock) == ("off", "allow") else \
        f"invalid items: {invalid}; out of stock: {out_of_stock}"
    hold = f"held {minutes} minutes" if minutes else "not held"
    return SettingRow("Stock", f"check before drafting {check}; inventory {hold}")


def _guests(settings: Mapping[str, Any]) -> SettingRow:
    """What a guest is asked, and the spam defence (settings as config.load reads them)."""
    fields = (*settings.get("GUEST_FIELDS", ()), *settings.get("GUEST_CUSTOM_FIELDS", ()))
    asked = ", ".join(f"{name}{'*' if required else ''}" for name, required in fields)
    captcha = settings.get("CAPTCHA_PROVIDER") or "no CAPTCHA"
    return SettingRow("Guest carts", f"allowed: a guest's form asks {asked or 'nothing'} "
                      f"(* required); honeypot, {settings.get('GUEST_MIN_FILL_SECONDS', 0)} s "
                      f"minimum fill time, {captcha}")


def setting_rows(settings: Mapping[str, Any]) -> list[SettingRow]:
    """One row per setting a merchant should look at, secrets only as 'set'."""
    origins = settings["ALLOWED_ORIGINS"]
    guests = settings["GUEST_CARTS"] == "allow"
    return [
        SettingRow("Shop", shop_domain(settings["SHOPIFY_BASE_URL"])),
        _api(settings),
        SettingRow("Admin API version", settings["SHOPIFY_API_VERSION"]),
        _cart_features(settings),
        _b2b(settings),
        _stock(settings),
        SettingRow("Shopify credentials", "the Dev Dashboard app's client id and secret "
                   "(hidden): its access token renews by itself" if dev_dashboard(settings)
                   else "a legacy admin-created app's access token (hidden)"),
        SettingRow("Shared secret", "set (hidden)"),
        _guests(settings) if guests
        else SettingRow("Guest carts", "rejected: shoppers must sign in first"),
        SettingRow("Allowed origins", "any website (*)", False,
                   "Set ALLOWED_ORIGINS to your storefront's origins, e.g. "
                   "https://your-store.com,https://your-store.myshopify.com.")
        if origins == "*" else SettingRow("Allowed origins", ", ".join(origins)),
        SettingRow("Delivery worker", "runs in this web process") if settings["RUN_WORKER"]
        else SettingRow("Delivery worker", "not in this process (RUN_WORKER=0)", False,
                        "Make sure a separate `flask --app app worker` process runs."),
        _database(settings),
    ]


@bp.get("/")
def index() -> ResponseReturnValue:
    receiver_url = request.url_root.rstrip("/")
    rows = setting_rows(current_app.config)
    settings = current_app.config
    mode = snippet_mode(settings, request.args.get("snippet"))
    shown = snippet(receiver_url, signature_mode=settings["SIGNATURE_MODE"], mode=mode,
                    proxy_subpath=settings["APP_PROXY_SUBPATH"])
    return render_template("setup.html", receiver_url=receiver_url, snippet=shown,
                           rows=rows, complete=all(row.ok for row in rows),
                           b2b_orders=settings["B2B_ORDERS"],
                           secret_placeholder=SECRET_PLACEHOLDER, snippet_mode=mode,
                           proxy_available=dev_dashboard(settings),
                           proxy_subpath=settings["APP_PROXY_SUBPATH"])
