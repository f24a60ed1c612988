"""`flask --app app doctor`: can this deployment turn carts into draft orders?

A merchant installing the receiver otherwise learns about a wrong shop, token,
scope or API version only when the first shopper's cart fails. Each check is a
small function returning a `Check`, one line for the merchant with what to do,
and a value tests can look at. Shopify gets two read-only calls; no secret is
ever printed.
"""

from dataclasses import dataclass

from .config import BY_NAME, DEFAULT_API_VERSION
from .shopify import Answer, admin_url

PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"
REQUIRED_SCOPE = "write_draft_orders"


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # PASS | FAIL | SKIP (not checked: an earlier check failed)
    what: str = ""
    hint: str = ""

    @property
    def failed(self):
        return self.status == FAIL

    def line(self):
        if self.failed:
            return f"FAIL  {self.name}: {self.what} — hint: {self.hint}"
        return f"{self.status}  {self.name}" + (f": {self.what}" if self.what else "")


@dataclass(frozen=True)
class Probe:
    """Shopify's answers, fetched once and read by several checks."""

    shop: Answer    # GET /admin/api/{version}/shop.json
    scopes: Answer  # GET /admin/oauth/access_scopes.json (unversioned)


def _said(answer):
    return f"GET {answer.url} answered {answer.status}"


def check_settings(error):
    """A configuration that does not load: one FAIL a problem, its hint the
    setting's line of the settings table; the rest needs the settings."""
    return [
        *(Check("configuration", FAIL, problem, BY_NAME[problem.split(" ", 1)[0]].doc)
          for problem in error.problems),
        Check("database and Shopify", SKIP, "need every setting above"),
    ]


def check_configuration(config):
    """create_app already refused a broken configuration; show what was loaded."""
    admin = "on" if config.get("ADMIN_PASSWORD") else "off (set ADMIN_PASSWORD)"
    worker = "in this process" if config["RUN_WORKER"] else "separate (flask worker)"
    return Check("configuration", PASS,
                 f"shop {config['SHOPIFY_BASE_URL']}, API {config['SHOPIFY_API_VERSION']}, "
                 f"database {config['DATABASE_SHOWN']}, guest carts {config['GUEST_CARTS']}, "
                 f"worker {worker}, admin {admin}")


def check_database(store):
    try:
        missing = store.missing_tables()
    except Exception as error:
        return Check("database", FAIL, f"{type(error).__name__}: {error}",
                     "DATABASE_URL must be sqlite:///path to a file this process can write, "
                     "or postgresql://user:password@host:port/database of a server it can reach")
    if missing:
        return Check("database", FAIL, f"tables missing: {', '.join(missing)}",
                     "run `flask --app app init-db` (it creates them), or check DATABASE_URL")
    return Check("database", PASS, "reachable, schema present")


def check_shop_answers(probe):
    if probe.shop.status is None:
        return Check("Shopify answers", FAIL, f"no answer from {probe.shop.url}: {probe.shop.body}",
                     "set SHOPIFY_SHOP to your-store.myshopify.com and check that this host "
                     "can reach it")
    shop = probe.shop.json.get("shop") if isinstance(probe.shop.json, dict) else None
    if probe.shop.status == 200 and isinstance(shop, dict):
        return Check("Shopify answers", PASS,
                     f"{shop.get('name')} ({shop.get('myshopify_domain')})")
    return Check("Shopify answers", PASS, _said(probe.shop))


def check_token(probe):
    scopes = probe.scopes
    if scopes.status is None:
        return Check("access token is valid", SKIP, "Shopify did not answer")
    if scopes.status == 200:
        return Check("access token is valid", PASS)
    if scopes.status == 401:
        return Check("access token is valid", FAIL, "Shopify refused the token (401)",
                     "set SHOPIFY_ACCESS_TOKEN to the Admin API access token of the shop's "
                     "custom app (it starts with shpat_)")
    return Check("access token is valid", FAIL, _said(scopes),
                 "this does not look like a Shopify shop: set SHOPIFY_SHOP to its "
                 "your-store.myshopify.com domain")


def _scope_handles(answer):
    listed = answer.json.get("access_scopes") if isinstance(answer.json, dict) else None
    if not isinstance(listed, list):
        return None
    return [entry.get("handle") for entry in listed if isinstance(entry, dict)]


def check_scope(probe):
    name = f"token has the {REQUIRED_SCOPE} scope"
    if probe.scopes.status != 200:
        return Check(name, SKIP, "needs a valid access token")
    handles = _scope_handles(probe.scopes)
    if handles is None:
        return Check(name, FAIL, f"{_said(probe.scopes)} without a list of access scopes",
                     "set SHOPIFY_SHOP to the shop's your-store.myshopify.com domain")
    if REQUIRED_SCOPE not in handles:
        return Check(name, FAIL, f"the token has {', '.join(handles) or 'no scopes'}",
                     f"add {REQUIRED_SCOPE} to the app's Admin API access scopes and reinstall "
                     "the app (Shopify admin: Settings > Apps and sales channels > Develop apps)")
    return Check(name, PASS)


def check_api_version(probe, version):
    name = f"API version {version} is accepted"
    status = probe.shop.status
    if status == 200:
        return Check(name, PASS)
    if status is None or probe.scopes.status in (None, 401):
        return Check(name, SKIP, "needs an answering shop and a valid access token")
    if status == 404 and probe.scopes.status == 200:
        return Check(name, FAIL, f"Shopify has no Admin API {version} (404 on shop.json)",
                     f"set SHOPIFY_API_VERSION to a supported version such as "
                     f"{DEFAULT_API_VERSION}, or unset it for the default")
    return Check(name, FAIL, _said(probe.shop),
                 "check SHOPIFY_SHOP and SHOPIFY_API_VERSION; Shopify's status page may help")


def probe_shopify(client):
    return Probe(shop=client.get(client.api_url("shop.json")),
                 scopes=client.get(admin_url(client.base_url, "oauth/access_scopes.json")))


def run(app):
    """Every check, in the order a merchant should fix them."""
    probe = probe_shopify(app.extensions["shopify"])
    return [
        check_configuration(app.config),
        check_database(app.extensions["store"]),
        check_shop_answers(probe),
        check_token(probe),
        check_scope(probe),
        check_api_version(probe, app.config["SHOPIFY_API_VERSION"]),
    ]
