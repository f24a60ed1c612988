"""Settings from environment variables, checked once at start-up.

Every rule about a setting lives here, in one table (SETTINGS), so a merchant
who mistypes some gets one line naming each instead of a failure on the first
shopper's click; the same table makes doctor's report and the README's tables.
"""

import hashlib
import hmac
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, overload
from urllib.parse import SplitResult, urlsplit


def database_kind(url: str) -> Literal["postgresql", "sqlite"] | None:
    """Which database a DATABASE_URL names: "postgresql", "sqlite" or None (neither).

    The one reading of it, shared by this module's check, `store.open_store` and
    the setup page, so a URL one accepts the others read alike. PostgreSQL's
    prefixes are libpq's, spelled as it reads them (Heroku, Render and Railway
    say postgres://)."""
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql"
    if url.startswith("sqlite:///"):
        return "sqlite"
    return None


def dev_dashboard(settings: Mapping[str, object]) -> bool:
    """Whether Dev Dashboard credentials (a client id and secret) are in use,
    rather than a legacy admin-created app's access token."""
    return bool(settings.get("SHOPIFY_CLIENT_ID"))

# The settings, as `load` builds them and Flask's config holds them: each value
# of the type its Setting's parser gives (text, a number, a flag, a tuple...).
Settings = dict[str, Any]


class ConfigError(ValueError):
    """Settings are missing or malformed: one problem a setting, each message
    starting with the setting's name, so that one run reports them all."""

    def __init__(self, *problems: str) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems

    def lines(self) -> list[str]:
        """What a process that cannot start prints: one line a problem."""
        return [f"configuration error: {problem}" for problem in self.problems]


# Pinned here only. Shopify supports each stable version for at least 12 months,
# then answers requests for it with its oldest supported version (doctor warns
# then): https://shopify.dev/docs/api/usage/versioning
DEFAULT_API_VERSION = "2026-10"
# The body static/send-cart.js posts for the largest cart we accept (250 lines of
# /cart.js, three properties and a 500-character product description each) is
# 519 KB (storefront_body in tests/helpers.py); 1.5 times that leaves room for longer
# descriptions.
DEFAULT_MAX_BODY_BYTES = 768 * 1024
DEFAULT_WEB_THREADS = 16

APP, SERVER, BOTH = "app", "server", "app and server"

_SHOP_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
_SUBPATH = re.compile(r"^[A-Za-z0-9_-]{1,30}$")
_API_VERSION = re.compile(r"^(\d{4}-(01|04|07|10)|unstable)$")


def _shop_base_url(name: str, value: str) -> str:
    """The Admin API base URL for a shop domain or a full base URL."""
    value = value.rstrip("/")
    if _SHOP_DOMAIN.match(value.lower()):
        return f"https://{value.lower()}"
    parts = urlsplit(value)
    if parts.scheme in ("http", "https") and parts.hostname and parts.path in ("", "/") \
            and not parts.query and not parts.fragment:
        return f"{parts.scheme}://{parts.netloc}"
    raise ConfigError(
        f"{name} must be 'your-store.myshopify.com' or a base URL such as "
        f"'http://127.0.0.1:8081', got {value!r}"
    )


def _optional_token(name: str, value: str) -> str | None:
    """A credential (unset: None): one word, and never shown back."""
    if any(c.isspace() for c in value):
        raise ConfigError(f"{name} must not contain spaces")
    return value or None


def _api_version(name: str, value: str) -> str:
    if not _API_VERSION.match(value):
        raise ConfigError(f"{name} must look like {DEFAULT_API_VERSION}, got {value!r}")
    return value


def _origins(name: str, value: str) -> str | tuple[str, ...]:
    if value == "*":
        return "*"
    origins = []
    for origin in value.split(","):
        origin = origin.strip().rstrip("/")
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path:
            raise ConfigError(
                f"{name} must list origins like 'https://shop.example.com', got {origin!r}"
            )
        origins.append(origin)
    return tuple(origins)


def _tags(name: str, value: str) -> str:
    return ",".join(tag.strip() for tag in value.split(",") if tag.strip())


def _text(name: str, value: str) -> str:
    return value


def _optional(name: str, value: str) -> str | None:
    """Unset is None, so that `if settings[name]` reads as "is it set"."""
    return value or None


def _choice(*choices: str) -> Callable[[str, str], str]:
    def parse(name: str, value: str) -> str:
        if value not in choices:
            raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
        return value
    return parse


def _flag(name: str, value: str) -> bool:
    return _choice("0", "1")(name, value) == "1"


# A float, or with kind=int (`_whole`) an int.
@overload
def _number(name: str, value: str) -> float: ...


@overload
def _number(name: str, value: str, kind: type[int]) -> int: ...


def _number(name: str, value: str, kind: type[float] = float) -> float:
    try:
        number = kind(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if number <= 0:
        raise ConfigError(f"{name} must be greater than 0, got {value!r}")
    return number


def _whole(name: str, value: str) -> int:
    return _number(name, value, int)


def _auto_flag(name: str, value: str) -> bool | None:
    """`0`, `1`, or unset (None), which follows SHOPIFY_API once it is read."""
    return None if value == "" else _flag(name, value)


def _count(name: str, value: str) -> int:
    """A whole number of at least 0, where 0 switches the feature off."""
    if not (value.isascii() and value.isdigit()):  # "²" is a digit to isdigit(), not to int()
        raise ConfigError(f"{name} must be a whole number (0 turns it off), got {value!r}")
    return int(value)


def _optional_count(name: str, value: str) -> int | None:
    """A `_count`, or None when unset (the caller supplies the default)."""
    return _count(name, value) if value else None


def _short_text(limit: int) -> Callable[[str, str], str | None]:
    """Optional text of at most `limit` characters (unset: None)."""
    def parse(name: str, value: str) -> str | None:
        if not value:
            return None
        if len(value) > limit:
            raise ConfigError(f"{name} must be at most {limit} characters, got {len(value)}")
        return value
    return parse


def _web_url(name: str, value: str) -> str | None:
    """An http(s) address with a host, without its trailing slash (unset: None)."""
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        # The value is not echoed: a webhook URL may carry its own secret.
        raise ConfigError(f"{name} must be an http:// or https:// address")
    return value.rstrip("/")


def _proxy_subpath(name: str, value: str) -> str:
    """Shopify's rule for an app proxy's subpath (https://shopify.dev/docs/apps/build/
    online-store/app-proxies): letters, digits, "_" and "-", up to 30 characters,
    not admin, services, password or login."""
    if not _SUBPATH.match(value) or value.lower() in ("admin", "services", "password", "login"):
        raise ConfigError(f"{name} must be 1 to 30 letters, digits, '_' or '-' (not admin, "
                          f"services, password or login), got {value!r}")
    return value


def _smtp_url(name: str, value: str) -> str | None:
    """smtp://[user:password@]host[:port] (STARTTLS when offered) or smtps://
    (unset: None)."""
    if not value:
        return None
    parts: SplitResult | None  # None: no port can be read from it
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 (a port that is no number raises here)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError(f"{name} must look like smtp://user:password@host:587 or "
                          f"smtps://user:password@host:465")  # never echoes the password
    return value


def _email(name: str, value: str) -> str | None:
    if not value:
        return None
    local, at, domain = value.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in value):
        raise ConfigError(f"{name} must be an email address, got {value!r}")
    return value


MAX_HOLD_MINUTES = 525_600  # a year: a longer hold is a typo, and past the year 9999 none is dated


def _hold_minutes(name: str, value: str) -> int:
    minutes = _count(name, value)
    if minutes > MAX_HOLD_MINUTES:
        raise ConfigError(f"{name} must be at most {MAX_HOLD_MINUTES} (a year), got {value!r}")
    return minutes


def _lease(name: str, value: str) -> float:
    lease = _number(name, value)
    if lease < 1:
        # Renewed every third of it: a shorter lease would be lost to any pause
        # of the process or the database, and the event delivered twice over.
        raise ConfigError(f"{name} must be at least 1, got {lease:g}")
    return lease


def _database_url(name: str, value: str) -> str:
    """Checked here, resolved by database_settings once the instance folder is known."""
    database_settings(value, "")
    return value


GUEST_FIELD_NAMES = ("email", "name", "phone", "company", "message")
MAX_CUSTOM_FIELDS = 5
MAX_CUSTOM_LABEL_CHARS = 40


def _field_list(value: str) -> list[tuple[str, bool]]:
    """`a*,b` as [("a", True), ("b", False)]: each label, and whether it is required."""
    entries = [entry.strip() for entry in value.split(",") if entry.strip()]
    return [(entry.rstrip("*").strip(), entry.endswith("*")) for entry in entries]


def _guest_fields(name: str, value: str) -> tuple[tuple[str, bool], ...]:
    """GUEST_FIELDS as ((field, required), ...) in the form's order; `none`: ()."""
    if value == "none":
        return ()
    fields = _field_list(value)
    unknown = [field for field, _ in fields if field not in GUEST_FIELD_NAMES]
    if unknown or len({field for field, _ in fields}) != len(fields):
        raise ConfigError(f"{name} must list each of {', '.join(GUEST_FIELD_NAMES)} at most "
                          f"once (a `*` after one makes it required), or be `none`, "
                          f"got {value!r}")
    return tuple(fields)


def _custom_fields(name: str, value: str) -> tuple[tuple[str, bool], ...]:
    """GUEST_CUSTOM_FIELDS as ((label, required), ...): printable labels, each once."""
    fields = _field_list(value)
    labels = [label for label, _ in fields]
    if len(fields) > MAX_CUSTOM_FIELDS or len(set(labels)) != len(labels) or any(
            not label or len(label) > MAX_CUSTOM_LABEL_CHARS or not label.isprintable()
            for label in labels):
        raise ConfigError(f"{name} must list at most {MAX_CUSTOM_FIELDS} different labels of "
                          f"1 to {MAX_CUSTOM_LABEL_CHARS} printable characters, got {value!r}")
    return tuple(fields)


def _captcha_provider(name: str, value: str) -> str | None:
    return _choice("turnstile", "hcaptcha", "recaptcha")(name, value) if value else None


@dataclass(frozen=True)
class Setting:
    """One environment variable: the loader, doctor's report and the README's
    tables are all made from these rows. A table, to paste after a change:
    python -c "from app import config; print(config.markdown_table(config.APP))"
    (config.SERVER for the web process's)."""

    name: str
    default: str | None  # None: required
    parse: Callable[[str, str], object]  # (name, stripped value) -> value; raises ConfigError
    doc: str  # the README's "meaning" cell, and doctor's hint
    shown_default: str = ""  # the README's "default" cell, when not the default itself
    key: str = ""  # its key in the app's settings, when not its name
    scope: str = APP  # APP, SERVER (python -m app.serve), or BOTH
    # A GraphQL-only feature: its one value under SHOPIFY_API=rest (which an
    # unset one takes there), and why REST cannot do more. None: either API.
    rest: object = None
    rest_cannot: str = ""

    @property
    def required(self) -> bool:
        return self.default is None

    def read(self, environ: Mapping[str, str]) -> object:
        value = environ.get(self.name, "").strip() or self.default
        if value is None:
            raise ConfigError(f"{self.name} is required but not set")
        return self.parse(self.name, value)

    def default_cell(self) -> str:
        if self.required:
            return "required"
        return self.shown_default or f"`{self.default}`"


SETTINGS = (
    Setting("SHOPIFY_SHOP", None, _shop_base_url,
            "`your-store.myshopify.com`, or a full base URL such as `http://127.0.0.1:8081` "
            "(a local Admin API simulator or test server)", key="SHOPIFY_BASE_URL"),
    Setting("SHOPIFY_CLIENT_ID", "", _optional_token,
            "the Dev Dashboard app's client id (Dev Dashboard > the app > Settings); with "
            "`SHOPIFY_CLIENT_SECRET`, the way a shop is connected since 2026 (see "
            "docs/connect-your-shop.md)", shown_default="unset"),
    Setting("SHOPIFY_CLIENT_SECRET", "", _optional_token,
            "the Dev Dashboard app's client secret: gets and renews the access token, checks "
            "Shopify's webhooks and the OAuth install; never logged, never echoed",
            shown_default="unset"),
    Setting("SHOPIFY_CLIENT_SECRET_PREVIOUS", "", _optional_token,
            "during a rotation of the client secret, the one being replaced: Shopify signs "
            "with the oldest secret not yet revoked, so webhooks and OAuth callbacks signed "
            "with either are accepted", shown_default="unset"),
    Setting("SHOPIFY_ACCESS_TOKEN", "", _optional_token,
            "for an app made in the Shopify admin before 2026 (a legacy custom app) only: its "
            "Admin API access token (`shpat_…`), with the access scopes the settings need "
            "(`flask --app app doctor` lists them), sent as `X-Shopify-Access-Token`; never "
            "logged, never echoed, scrubbed from stored Shopify answers. Set it or the client "
            "id and secret, not both", shown_default="unset"),
    Setting("SHOPIFY_API_VERSION", DEFAULT_API_VERSION, _api_version,
            "Admin API version: `YYYY-01`, `-04`, `-07`, `-10`, or `unstable`"),
    Setting("SHARED_SECRET", None, _text,
            "the key of the Liquid `hmac_sha256` filter in the HMAC snippet, and what "
            "`SECRET_KEY` derives from; the app proxy snippet holds no secret, but this stays "
            "required (see App proxy in docs/storefront.md)"),
    Setting("DATABASE_URL", "", _database_url,
            "`sqlite:////absolute/path.sqlite3` to choose the SQLite file; "
            "`postgresql://user:password@host:5432/database` (or `postgres://…`, as Heroku, "
            "Render and Railway give it) for PostgreSQL, which several instances can share "
            "(see Database in docs/deploying.md)",
            shown_default="`events.sqlite3` in the Flask instance folder"),
    Setting("ALLOWED_ORIGINS", "*", _origins,
            "comma-separated storefront origins for CORS, e.g. "
            "`https://your-store.com,https://your-store.myshopify.com`; `*` allows any"),
    Setting("GUEST_CARTS", "allow", _choice("allow", "reject"),
            "`allow` (as Mechanic does) or `reject` carts that carry no customer"),
    # A guest's contact form and its spam defence (docs/guest-quotes.md).
    Setting("GUEST_FIELDS", "email*,name,phone,company,message", _guest_fields,
            "the contact fields a guest's form asks for, comma-separated, from `email`, "
            "`name`, `phone`, `company`, `message`; `*` after one makes it required; `none` "
            "asks nothing (a signed-in customer is never asked)"),
    Setting("GUEST_CUSTOM_FIELDS", "", _custom_fields,
            f"up to {MAX_CUSTOM_FIELDS} more fields of the merchant's, by their labels, "
            f"comma-separated (`*` after one: required), e.g. `PO number*,Delivery date`; "
            f"each becomes an attribute of the draft order", shown_default="none"),
    Setting("GUEST_MIN_FILL_SECONDS", "3", _count,
            "a guest's form posted sooner than this after the page fetched it is refused, "
            "as a bot's (with the honeypot field, always on); `0` turns the wait off"),
    Setting("CAPTCHA_PROVIDER", "", _captcha_provider,
            "`turnstile`, `hcaptcha` or `recaptcha`: a guest's form also shows that "
            "provider's CAPTCHA, checked by the receiver with `CAPTCHA_SECRET`",
            shown_default="none"),
    Setting("CAPTCHA_SITE_KEY", "", _optional_token,
            "the provider's site key (public: shown on the page)", shown_default="unset"),
    Setting("CAPTCHA_SECRET", "", _optional_token,
            "the provider's secret key: only the receiver sends it, to the verify endpoint; "
            "never on the page, never logged", shown_default="unset"),
    Setting("CAPTCHA_VERIFY_URL", "", _web_url,
            "the verify endpoint to ask instead of the provider's (a test stand-in)",
            shown_default="the provider's"),
    Setting("SIGNATURE_MODE", "mechanic", _choice("mechanic", "timestamped"),
            "`mechanic`: accept the Mechanic task's never-expiring signature; `timestamped`: "
            "require the snippet's timestamped signature (see Signatures in docs/storefront.md)"),
    Setting("SIGNATURE_TOLERANCE", "3600", _whole,
            "seconds a timestamped signature stays valid after the page was rendered "
            "(an hour: a cart page can stay open a while)"),
    Setting("SECRET_KEY", "", _text, "signs status tokens",
            shown_default="derived from `SHARED_SECRET`"),
    Setting("RUN_WORKER", "1", _flag,
            "`1`: the web process also runs the delivery worker; `0`: web only, with "
            "`flask --app app worker` as a separate process"),
    Setting("DRAFT_ORDER_TAGS", "", _tags,
            "comma-separated tags put on every draft order, e.g. `cart-request`",
            shown_default="none"),
    Setting("MAX_BODY_BYTES", str(DEFAULT_MAX_BODY_BYTES), _whole,
            "largest accepted request body (768 KiB): the body `send-cart.js` posts for the "
            "largest cart accepted, 250 lines of `/cart.js` with three properties and a "
            "500-character product description each, measures 519 KB (`storefront_body` in "
            "`tests/helpers.py`), so the default leaves 1.5x for longer descriptions. "
            "Raise it if your descriptions run past about 1,500 characters. "
            "The web server answers a larger body `413` `body_too_large` before reading it. "
            "Whatever the body, an event keeps at most "
            "64 KiB of it", key="MAX_CONTENT_LENGTH", scope=BOTH),
    Setting("SHOPIFY_TIMEOUT", "30", _number,
            "seconds one Shopify call may take in all, answer included (an answer still "
            "arriving then counts as none)"),
    Setting("MAX_ATTEMPTS", "5", _whole,
            "5xx answers, timeouts or connection errors tolerated before an event fails"),
    Setting("POLL_TIMEOUT", "600", _number,
            "overall seconds allowed for Shopify's `202` polling"),
    Setting("LEASE_SECONDS", "10", _lease,
            "how long after a worker's last sign of life another may take its event over; the "
            "worker renews it every third of it while it delivers, so a slow Shopify call never "
            "loses the event, and a killed process's event resumes within about that long. "
            "At least `1`"),
    Setting("ADMIN_PASSWORD", "", _optional,
            "turns on the event log at `/admin` (HTTP basic auth, any user name)",
            shown_default="unset: no event log"),
    Setting("RETENTION_DAYS", "30", _count,
            "days a completed or failed event (and its Shopify answers) is kept after it "
            "settled; `0` keeps every event (see Retention in docs/deploying.md)"),
    Setting("DEDUPE_WINDOW", "600", _count,
            "seconds during which the same submission sent again (same cart token, lines, note, "
            "attributes, customer, and carried currency, discount codes and company; for a "
            "guest, also the same address) returns the first "
            "submission's event, unless that event failed; `0` turns it off"),
    Setting("RATE_LIMIT_PER_IP", "30", _count,
            "accepted submissions per minute from one IP address, held exactly however many "
            "arrive at once; `0` turns it off"),
    Setting("RATE_LIMIT_PER_CUSTOMER", "10", _count,
            "accepted submissions per minute for one signed-in customer; `0` turns it off"),
    Setting("RATE_LIMIT_PER_EMAIL", "5", _count,
            "accepted guest carts per minute per email typed in the guest form; `0` turns "
            "it off"),
    Setting("STATUS_WAITERS", "", _optional_count,
            "status requests per serving process that may wait for news of their event "
            "(`?wait=`, a long poll, each holding a thread); past it the status URL answers at "
            "once, as a plain poll; `0` turns waiting off; must be fewer than `WEB_THREADS` (see "
            "Long polling in docs/deploying.md)",
            shown_default="half of `WEB_THREADS` (8)"),
    Setting("TRUSTED_PROXIES", "0", _count,
            "how many proxies in front of the app add `X-Forwarded-*` headers (`0`: the headers "
            "are ignored). Set `1` on Heroku, Render, Railway and Fly, so that status URLs are "
            "`https://` and rate limits see the shopper's address"),
    Setting("SHOPIFY_LEAK_RATE", "2", _number,
            "calls per second Shopify's bucket leaks, for pacing (`20` on Shopify Plus)"),
    Setting("SHOPIFY_API", "rest", _choice("rest", "graphql"),
            "`rest` (the REST Admin API, as ever) or `graphql` (the GraphQL Admin API, which "
            "every setting below needs when on; recommended for new installs, see "
            "REST or GraphQL in docs/configuration.md)"),
    Setting("CART_CURRENCY", "", _auto_flag,
            "`1`: the draft order and its invoice are in the cart's currency "
            "(`cart.currency`, the shopper's presentment currency); `0`: the shop's currency",
            shown_default="`1` under `graphql`, `0` under `rest`",
            rest=False, rest_cannot="the REST Admin API cannot carry the cart's currency"),
    Setting("CART_DISCOUNT_CODES", "", _auto_flag,
            "`1`: the discount codes applied in the cart (`cart.discount_codes`) go to the "
            "draft order, and Shopify decides each one; `0`: they are ignored",
            shown_default="`1` under `graphql`, `0` under `rest`",
            rest=False, rest_cannot="the REST Admin API cannot carry discount codes"),
    Setting("ACCEPT_AUTOMATIC_DISCOUNTS", "", _auto_flag,
            "`1`: the draft order gets the shop's automatic discounts, as the cart showed "
            "them; `0`: it does not",
            shown_default="`1` under `graphql`, `0` under `rest`",
            rest=False, rest_cannot="the REST Admin API cannot accept automatic discounts"),
    Setting("B2B_ORDERS", "0", _flag,
            "`1`: a signed-in company contact's cart becomes a draft order for the company "
            "location the snippet signed (its catalog prices and payment terms); `0`: the "
            "snippet's company lines are ignored", rest=False,
            rest_cannot="the REST Admin API cannot draft an order for a company"),
    Setting("RESERVE_INVENTORY_MINUTES", "0", _hold_minutes,
            "minutes the draft order holds its items' inventory from its creation, at most "
            "525600 (a year); `0` holds none", rest=0,
            rest_cannot="the REST Admin API cannot reserve inventory"),
    Setting("INVALID_ITEM_POLICY", "off", _choice("off", "block", "drop"),
            "lines whose variant no longer exists or is not for sale: `off` (Shopify decides), "
            "`block` (the event fails, naming the lines), `drop` (the draft order is made "
            "without them, and the status document lists them)", rest="off",
            rest_cannot="the stock check reads the variants through GraphQL"),
    Setting("OUT_OF_STOCK_POLICY", "allow", _choice("allow", "block", "drop"),
            "lines whose inventory does not cover the quantity (per the variant's inventory "
            "policy): `allow`, `block` or `drop`, as for `INVALID_ITEM_POLICY`", rest="allow",
            rest_cannot="the stock check reads the variants through GraphQL"),
    Setting("SEND_INVOICE", "0", _flag,
            "`1`: once the draft order exists, Shopify sends its invoice to the customer's "
            "email, exactly once (a guest's only with `SEND_INVOICE_TO_GUESTS=1`; else "
            "skipped, and the reason kept); "
            "`0`: the merchant sends it"),
    Setting("SEND_INVOICE_TO_GUESTS", "0", _flag,
            "`1` with `SEND_INVOICE=1`: a guest's invoice goes to the email they typed; "
            "`0`: a guest's draft waits for the merchant to review and send it"),
    Setting("INVOICE_SUBJECT", "", _short_text(255),
            "the invoice email's subject", shown_default="Shopify's"),
    Setting("INVOICE_MESSAGE", "", _short_text(5000),
            "a custom message in the invoice email", shown_default="none"),
    Setting("SHOPIFY_WEBHOOK_SECRET", "", _optional_token,
            "the key Shopify signs its webhooks with (the app's client secret, or a legacy "
            "app's API secret key): turns on `POST /webhooks/shopify`, which follows each "
            "draft order to its end",
            shown_default="`SHOPIFY_CLIENT_SECRET`; unset with a legacy token: no webhooks"),
    Setting("PUBLIC_URL", "", _web_url,
            "the receiver's public address, e.g. `https://your-app.example.com`: the OAuth "
            "install's redirect URL (`PUBLIC_URL/auth/shopify/callback`), the app URL and "
            "the webhooks' address in `shopify.app.toml`, and where `flask --app app webhooks "
            "register` subscribes Shopify's webhooks",
            shown_default="unset"),
    Setting("APP_PROXY_SUBPATH", "send-cart", _proxy_subpath,
            "with Dev Dashboard credentials, the storefront path of the app proxy: the proxy "
            "snippet posts to the shop's own `/apps/<subpath>/cart`, which Shopify forwards, "
            "signed, to `PUBLIC_URL/proxy` (see App proxy in docs/storefront.md)"),
    Setting("RECONCILE_DAYS", "30", _count,
            "days after its creation during which an open draft order is re-read, after 1 "
            "minute, 10 minutes, 1 hour, 1 day, then daily, in case a webhook was lost; `0` "
            "turns it off"),
    Setting("NOTIFY_WEBHOOK_URL", "", _web_url,
            "the merchant is told of each new draft order and each failure by a JSON `POST` "
            "here (a Slack-compatible `text`, plus structured fields)", shown_default="unset"),
    Setting("SMTP_URL", "", _smtp_url,
            "`smtp://user:password@host:587` (STARTTLS when offered) or `smtps://…:465`, to "
            "tell the merchant by email too", shown_default="unset"),
    Setting("NOTIFY_EMAIL", "", _email,
            "the address those emails go to (needs `SMTP_URL`)", shown_default="unset"),
    Setting("NOTIFY_MAX_PER_MINUTE", "6", _count,
            "messages sent per channel in any 60 seconds; past it they are folded into one "
            "digest that says how many and links `/admin` (see merchant.md); `0` turns the "
            "bound off"),
    Setting("PORT", "8000", _whole,
            "the port to listen on, on all interfaces (the platform sets it)", scope=SERVER),
    Setting("WEB_CONCURRENCY", "2", _whole,
            "serving processes, one per core of a small dyno (Heroku sets it by dyno size). "
            "Waitress runs Python on one core per process; each process takes about 60 MiB "
            "under load", scope=SERVER),
    Setting("WEB_THREADS", str(DEFAULT_WEB_THREADS), _whole,
            "threads per serving process that run requests. They only ever get complete "
            "requests. On PostgreSQL each one keeps a database connection", scope=SERVER),
    Setting("REQUEST_TIMEOUT", "15", _whole,
            "seconds a connection may take to send a complete request, counted from when it "
            "opens or from its previous answer (so also how long an idle kept-alive connection "
            "stays open)", scope=SERVER),
)
BY_NAME = {setting.name: setting for setting in SETTINGS}


def stock_check(settings: Mapping[str, object]) -> bool:
    """Whether a stock or availability policy is on, so that the variants are
    read before drafting (and the token needs the product and inventory scopes).
    A policy missing from `settings` counts as its default."""
    return any(settings.get(name, BY_NAME[name].default) != BY_NAME[name].default
               for name in ("INVALID_ITEM_POLICY", "OUT_OF_STOCK_POLICY"))


def _of(scope: str) -> list[Setting]:
    return [setting for setting in SETTINGS if setting.scope in (scope, BOTH)]


def _collect(settings: Iterable[Setting], environ: Mapping[str, str],
             key: Callable[[Setting], str]) -> tuple[Settings, list[str]]:
    """Each setting's value under `key(setting)`, and every problem met."""
    values: Settings = {}
    problems: list[str] = []
    for setting in settings:
        try:
            values[key(setting)] = setting.read(environ)
        except ConfigError as error:
            problems.extend(error.problems)
    return values, problems


def _read(settings: Iterable[Setting], environ: Mapping[str, str],
          key: Callable[[Setting], str]) -> Settings:
    """Each setting's value under `key(setting)`, or every problem at once."""
    values, problems = _collect(settings, environ, key)
    if problems:
        raise ConfigError(*problems)
    return values


def _resolve_api_features(values: Settings, environ: Mapping[str, str]) -> list[str]:
    """Settle the GraphQL-only features in `values` for SHOPIFY_API: an unset
    one is on under graphql, off under rest; one on under rest is a problem
    (returned), found at start-up rather than on a shopper's cart."""
    api = values.get("SHOPIFY_API")
    problems: list[str] = []
    for setting in SETTINGS:
        if setting.rest is None or setting.name not in values or api is None:
            continue
        value = values[setting.name]
        if api == "graphql":
            values[setting.name] = True if value is None else value
        elif value is None:
            values[setting.name] = setting.rest
        elif value != setting.rest:
            # The name first, alone: doctor finds the setting's hint by it.
            problems.append(f"{setting.name} cannot be {environ[setting.name].strip()} under "
                            f"SHOPIFY_API=rest: {setting.rest_cannot}; set SHOPIFY_API=graphql")
    return problems


def _credential_problems(settings: Settings) -> list[str]:
    """How the shop is connected: a Dev Dashboard app's client id and secret, or
    an admin-created app's token (those made before 2026 keep working), never
    both and never half of a pair. Each problem starts with a setting's name."""
    token, client_id = settings.get("SHOPIFY_ACCESS_TOKEN"), settings.get("SHOPIFY_CLIENT_ID")
    secret = settings.get("SHOPIFY_CLIENT_SECRET")
    if "SHOPIFY_CLIENT_ID" not in settings:  # unreadable: already a problem of its own
        return []
    if token and (client_id or secret):
        return ["SHOPIFY_ACCESS_TOKEN and SHOPIFY_CLIENT_ID/SHOPIFY_CLIENT_SECRET are both set: "
                "set the client id and secret of a Dev Dashboard app, or the access token of "
                "an admin-created app made before 2026, not both"]
    if client_id and not secret:
        return ["SHOPIFY_CLIENT_SECRET is required with SHOPIFY_CLIENT_ID: copy both from the "
                "Dev Dashboard (the app > Settings)"]
    if secret and not client_id:
        return ["SHOPIFY_CLIENT_ID is required with SHOPIFY_CLIENT_SECRET: copy both from the "
                "Dev Dashboard (the app > Settings)"]
    if settings.get("SHOPIFY_CLIENT_SECRET_PREVIOUS") and not secret:
        return ["SHOPIFY_CLIENT_SECRET_PREVIOUS needs SHOPIFY_CLIENT_SECRET, the new secret"]
    if not (token or client_id):
        return ["SHOPIFY_CLIENT_ID and SHOPIFY_CLIENT_SECRET are required: the credentials of "
                "the shop's Dev Dashboard app (see docs/connect-your-shop.md); an app "
                "made in the Shopify admin before 2026 sets SHOPIFY_ACCESS_TOKEN instead"]
    return []


def _captcha_problems(settings: Settings) -> list[str]:
    """A CAPTCHA provider needs its site key and secret; keys need a provider."""
    if "CAPTCHA_PROVIDER" not in settings:  # unreadable: already a problem of its own
        return []
    keys = [key for key in ("CAPTCHA_SITE_KEY", "CAPTCHA_SECRET") if settings.get(key)]
    if settings["CAPTCHA_PROVIDER"] and len(keys) < 2:
        return ["CAPTCHA_SITE_KEY and CAPTCHA_SECRET are both required with CAPTCHA_PROVIDER: "
                "copy them from the provider's dashboard"]
    if not settings["CAPTCHA_PROVIDER"] and keys:
        return [f"CAPTCHA_PROVIDER is required with {keys[0]}: turnstile, hcaptcha or "
                f"recaptcha"]
    return []


def client_secrets(settings: Mapping[str, Any]) -> tuple[str, ...]:
    """The secrets Shopify may sign with: the current one, and the previous one
    while a rotation is under way (Shopify signs with the oldest unrevoked one)."""
    return tuple(secret for secret in (settings.get("SHOPIFY_CLIENT_SECRET"),
                                       settings.get("SHOPIFY_CLIENT_SECRET_PREVIOUS")) if secret)


def webhook_secrets(settings: Mapping[str, Any]) -> tuple[str, ...]:
    """The keys a Shopify webhook may be signed with: SHOPIFY_WEBHOOK_SECRET (by
    default the client secret), and the previous client secret during a rotation."""
    keys = (settings.get("SHOPIFY_WEBHOOK_SECRET"), settings.get("SHOPIFY_CLIENT_SECRET_PREVIOUS"))
    return tuple(dict.fromkeys(key for key in keys if key))


def database_settings(url: str, instance_path: str) -> dict[str, str]:
    """DATABASE_URL as the store opens it, and DATABASE_SHOWN: what the setup page
    and the doctor show of it (the SQLite file, or the server without its password)."""
    if not url:
        path = os.path.join(instance_path, "events.sqlite3")
        return {"DATABASE_URL": f"sqlite:///{path}", "DATABASE_SHOWN": path}
    if database_kind(url) == "sqlite":
        return {"DATABASE_URL": url, "DATABASE_SHOWN": url[len("sqlite:///"):]}
    parts = urlsplit(url)
    if database_kind(url) == "postgresql":
        server = parts.netloc.rpartition("@")[2]
        return {"DATABASE_URL": url, "DATABASE_SHOWN": f"postgresql://{server}{parts.path}"}
    raise ConfigError(
        f"DATABASE_URL must be a sqlite:///path or postgresql:// URL, "
        f"got a {parts.scheme or 'malformed'} URL"
    )


def _waiter_problems(settings: Settings, environ: Mapping[str, str]) -> list[str]:
    """Each waiting status request holds one of a process's WEB_THREADS: as many
    waiters as threads would let one status token take them all from the carts.
    Unset, STATUS_WAITERS is half the threads, so a WEB_THREADS set alone always
    starts. (A malformed WEB_THREADS is the web server's to report.)"""
    if "STATUS_WAITERS" not in settings:
        return []
    try:
        threads = server_settings(environ)["WEB_THREADS"]
    except ConfigError:
        threads = DEFAULT_WEB_THREADS
    if settings["STATUS_WAITERS"] is None:
        settings["STATUS_WAITERS"] = threads // 2
    elif settings["STATUS_WAITERS"] >= threads:
        return [f"STATUS_WAITERS must be fewer than WEB_THREADS ({threads}), got "
                f"{settings['STATUS_WAITERS']}: each waiting status request holds a thread, "
                f"and carts need the others"]
    return []


def server_settings(environ: Mapping[str, str]) -> Settings:
    """What the web server (`python -m app.serve`) needs, apart from the app's own
    settings: the port the platform gives, its processes and threads, how long a connection may
    take to send a complete request, and the largest body it buffers."""
    return _read(_of(SERVER), environ,
                 lambda setting: setting.name)


def load(environ: Mapping[str, str], instance_path: str) -> Settings:
    """Build the app's settings from `environ` (a mapping of strings), or raise
    a ConfigError listing every missing or malformed one."""
    settings, problems = _collect(_of(APP), environ,
                                  lambda setting: setting.key or setting.name)
    problems += _resolve_api_features(settings, environ)
    for needed, by in (("NOTIFY_EMAIL", "SMTP_URL"), ("SMTP_URL", "NOTIFY_EMAIL")):
        if settings.get(by) and needed in settings and not settings[needed]:
            problems.append(f"{needed} is required when {by} is set: the merchant's emails "
                            f"need both a server and an address")
    problems += _credential_problems(settings)
    problems += _captcha_problems(settings)
    problems += _waiter_problems(settings, environ)
    if problems:
        raise ConfigError(*problems)
    settings["SHOPIFY_WEBHOOK_SECRET"] = (settings["SHOPIFY_WEBHOOK_SECRET"]
                                          or settings["SHOPIFY_CLIENT_SECRET"])
    settings["SECRET_KEY"] = settings["SECRET_KEY"] or hmac.new(
        settings["SHARED_SECRET"].encode(), b"status-token-key", hashlib.sha256).hexdigest()
    settings.update(database_settings(settings["DATABASE_URL"], instance_path))
    return settings


def markdown_table(scope: str) -> str:
    """The README's table of the settings of `scope`: APP (Configuration), or
    SERVER (Deploying to a PaaS), where the shared ones come last, pointing back."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    def pointer(setting: Setting) -> bool:  # a shared setting in the second table
        return scope == SERVER and setting.scope == BOTH

    for setting in sorted(_of(scope), key=pointer):
        meaning = "as in [Configuration](#configuration)" if pointer(setting) else setting.doc
        rows.append(f"| `{setting.name}` | {setting.default_cell()} | {meaning} |")
    return "\n".join(rows)
