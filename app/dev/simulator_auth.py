"""The simulator's app credentials, as Shopify has them since 2026: Dev Dashboard
apps have a client id and secret, and get their access tokens from the shop's
token endpoint (client credentials, an OAuth install's code, or a refresh).

`Tokens` is the book of what was issued: codes, access tokens and refresh
tokens, with their lives on the shop's clock. The query signatures of OAuth
redirects and app launches are here too. It depends on no Flask and on nothing
else in `app`; the shop calls it under its own lock.
"""

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

CODE_SECONDS = 60  # an authorization code's life: single use, and short
GRANTS = ("client_credentials", "authorization_code", "refresh_token")


class TokenRefused(Exception):
    """The token endpoint's refusal: an OAuth error code, why, and the HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(error, description, status)
        self.error, self.description, self.status = error, description, status

    def body(self) -> dict:
        return {"error": self.error, "error_description": self.description}


def query_signature(params: Mapping[str, str], secret: str) -> str:
    """Shopify's `hmac` of a redirect or launch query: hex HMAC-SHA256 of every
    other parameter, sorted by name, as `name=value` joined with `&`, with `%`
    and `&` (and `=` in a name) written %25, %26 (%3D)."""
    def escape(text: str) -> str:
        return text.replace("%", "%25").replace("&", "%26")
    message = "&".join(f"{escape(name).replace('=', '%3D')}={escape(params[name])}"
                       for name in sorted(params) if name != "hmac")
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def host_parameter(shop_domain: str) -> str:
    """The `host` Shopify adds to app URLs: base64 of the shop's admin address."""
    handle = shop_domain.removesuffix(".myshopify.com")
    return base64.b64encode(f"admin.shopify.com/store/{handle}".encode()).decode()


def signing_secret(config: Mapping) -> str:
    """The oldest unrevoked client secret: during a rotation Shopify still signs
    with the previous one, until it is revoked."""
    return config["previous_client_secret"] or config["client_secret"]


def webhook_key(config: Mapping) -> str:
    """What signs outgoing webhooks: an explicit `webhook_secret` (an admin-created
    app's), else the client secret Shopify signs Dev Dashboard apps' webhooks with."""
    return config["webhook_secret"] or signing_secret(config)


def check_client(config: Mapping, client_id: str | None, client_secret: str | None) -> None:
    """TokenRefused (401 invalid_client) unless this is the app's id and one of its
    unrevoked secrets (either one during a rotation)."""
    secrets_held = {config["client_secret"], config["previous_client_secret"]} - {None}
    if client_id != config["client_id"] or client_secret not in secrets_held:
        raise TokenRefused("invalid_client", "Client authentication failed: unknown "
                           "client_id or wrong client_secret.", 401)


def _hex_token(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


@dataclass
class _Access:
    expires_at: float | None  # None: never (a legacy, non-expiring offline token)
    retires: str | None = None  # the refresh token this one's pair replaced
    revoked: bool = False


@dataclass
class _Refresh:
    expires_at: float
    retires: str | None = None  # the refresh token this one replaced
    retired: bool = False  # its replacement was used: no longer accepted
    revoked: bool = False


@dataclass
class Tokens:
    """Codes, access tokens and refresh tokens issued, and what became of them."""

    codes: dict[str, float] = field(default_factory=dict)  # code: when it expires
    access: dict[str, _Access] = field(default_factory=dict)
    refresh: dict[str, _Refresh] = field(default_factory=dict)

    def issue_code(self, now: float) -> str:
        code = secrets.token_hex(16)
        self.codes[code] = now + CODE_SECONDS
        return code

    def client_credentials(self, config: Mapping, now: float) -> dict:
        """A token for the shop organization's own, installed app; no refresh token."""
        if not config["organization"]:
            raise TokenRefused("shop_not_permitted", "Client credentials cannot be used for "
                               "this shop: the app is not owned by the shop's organization.")
        if not config["installed"]:
            raise TokenRefused("app_not_installed", "The app is not installed on this shop.")
        token = _hex_token("shpat_")
        self.access[token] = _Access(now + config["token_seconds"])
        return {"access_token": token, "scope": _scope(config),
                "expires_in": config["token_seconds"]}

    def authorization_code(self, config: Mapping, code: str | None, expiring: bool,
                           now: float) -> dict:
        """Exchange an install's code, once and within CODE_SECONDS. `expiring`
        (expiring=1) gets an expiring token and a refresh token; without it, the
        legacy non-expiring offline token alone."""
        expires_at = self.codes.pop(code, None) if isinstance(code, str) else None
        if expires_at is None or now >= expires_at:
            raise TokenRefused("invalid_grant", "The authorization code is invalid, expired "
                               "or already used.")
        if not expiring:
            token = _hex_token("shpat_")
            self.access[token] = _Access(None)
            return {"access_token": token, "scope": _scope(config)}
        return self._pair(config, now, replacing=None)

    def refresh_with(self, config: Mapping, refresh_token: str | None, now: float) -> dict:
        """A new pair for a live refresh token. Using it retires the one it replaced;
        it stays usable itself until its own replacement is first used."""
        held = self.refresh.get(refresh_token) if isinstance(refresh_token, str) else None
        if held is None or held.retired or held.revoked or now >= held.expires_at:
            raise TokenRefused("invalid_grant", "The refresh token is invalid, expired, "
                               "revoked or already replaced.")
        self._retire(held.retires)
        return self._pair(config, now, replacing=refresh_token)

    def authorizes(self, token: str | None, now: float) -> bool:
        """Whether an issued access token is live; its first use retires the refresh
        token its pair replaced."""
        held = self.access.get(token) if token else None
        if held is None or held.revoked or (held.expires_at is not None
                                            and now >= held.expires_at):
            return False
        self._retire(held.retires)
        return True

    def revoke_all(self) -> dict:
        """The app was uninstalled or its credentials revoked: nothing issued works."""
        live = {"access_tokens": sum(not t.revoked for t in self.access.values()),
                "refresh_tokens": sum(not t.revoked for t in self.refresh.values()),
                "codes": len(self.codes)}
        for token in [*self.access.values(), *self.refresh.values()]:
            token.revoked = True
        self.codes.clear()
        return live

    def _pair(self, config: Mapping, now: float, replacing: str | None) -> dict:
        access, refresh = _hex_token("shpat_"), _hex_token("shprt_")
        self.refresh[refresh] = _Refresh(now + config["refresh_seconds"], retires=replacing)
        self.access[access] = _Access(now + config["expiring_seconds"], retires=replacing)
        return {"access_token": access, "scope": _scope(config),
                "expires_in": config["expiring_seconds"], "refresh_token": refresh,
                "refresh_token_expires_in": config["refresh_seconds"]}

    def _retire(self, refresh_token: str | None) -> None:
        if refresh_token in self.refresh:
            self.refresh[refresh_token].retired = True


def _scope(config: Mapping) -> str:
    return ",".join(config["scopes"])
