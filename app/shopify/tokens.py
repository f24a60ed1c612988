"""The shop's access token: a legacy admin-created app's, as it is, or one the
Dev Dashboard app's client id and secret get and keep fresh.

A managed token lives in the event store (app/store/credentials.py), so every
process and instance shares one token and one renewal. It is encrypted there
with Fernet (the `cryptography` package), keyed from the client secret, and
read with the previous secret's key too during a rotation.

It is renewed ahead of expiry, in the last tenth of its life and at most five
minutes before the end, so it serves most of its life and is never sent
expired; while one process renews, the others go on with the old token as long
as it lasts. A 401 asks for a renewal at once (`refused`).

When the merchant's setup keeps us from a token (wrong credentials, the app
not installed, the shop not permitted, a refresh token gone), calls raise
CredentialsUnavailable: the carts wait, the problem is recorded (and the
merchant notified once), and the token endpoint is asked again only every
PROBLEM_RETRY_SECONDS, and at once after a restart.
"""

import base64
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeGuard

import requests
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .http import deadline_session, exchange
from .oauth import (
    CLIENT_CREDENTIALS,
    INSTALLED,
    SETUP_ERRORS,
    Grant,
    Refusal,
    client_credentials_form,
    code_form,
    read_grant,
    refresh_form,
)

log = logging.getLogger(__name__)

LEGACY = "legacy token"
RENEWAL_SHARE = 0.1          # of a token's life, at its end, in which it is renewed
MAX_RENEWAL_MARGIN = 300.0   # seconds: a day's token is renewed in its last five minutes
PROBLEM_RETRY_SECONDS = 60.0
RENEWAL_RETRY_SECONDS = 10.0  # after a failed renewal, while the old token still serves
WAIT_STEP_SECONDS = 0.1      # while another process renews a token that has run out


UNAUTHORIZED = "shopify_unauthorized"  # a token just issued refused: no new token mends it
REVOKED = ("Shopify refused a token it had just issued (401): the app was uninstalled or "
           "its access revoked. Install it again (Dev Dashboard, or PUBLIC_URL/auth/shopify).")


class CredentialsUnavailable(Exception):
    """The merchant's setup keeps us from a token: nothing was sent, and
    nothing will change until the setup does. `code` and `detail` are safe to
    store and show: they never hold a secret."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code, self.detail = code, detail


class TokenUnavailable(Exception):
    """The token endpoint failed for now (no answer, a 5xx): nothing was sent;
    try again later, as after any failed Shopify call."""


@dataclass(frozen=True)
class TokenStatus:
    """What doctor and /admin say of the token: never the token itself."""

    kind: str                      # LEGACY, CLIENT_CREDENTIALS, INSTALLED, or "none yet"
    expires_at: float | None = None
    scope: str | None = None
    problem: tuple[str, str] | None = None  # (code, detail) the merchant must fix


class Tokens(Protocol):
    """What Transport asks of a token source."""

    def current(self) -> str: ...
    def refused(self, token: str) -> str | None: ...
    def revoked(self) -> None: ...
    def worked(self) -> None: ...
    def waiting_until(self) -> float: ...
    def status(self) -> TokenStatus: ...


# The merchant's notifications of a new problem: (code, detail, now) -> rows.
Notifications = Callable[[str, str, float], tuple[dict[str, str], ...]]


class CredentialsStore(Protocol):
    """What ManagedToken asks of the event store (app/store/credentials.py).
    A row is the database's, one value per column: Any (a Mapping, so the
    store's own TypedDict row, store/rows.py's Credentials, is one)."""

    def credentials(self) -> Mapping[str, Any] | None: ...
    def begin_renewal(self, client_id: str, owner: str, now: float,
                      until: float) -> Mapping[str, Any] | None: ...
    def save_token(self, owner: str | None, client_id: str, grant_kind: str, access_token: str,
                   scope: str, issued_at: float, expires_at: float | None,
                   refresh_token: str | None, refresh_expires_at: float | None, now: float,
                   unfixed: str | None = None) -> int | None: ...
    def discard_token(self, version: int) -> None: ...
    def end_renewal(self, owner: str, now: float, problem: tuple[str, str] | None = None,
                    notifications: tuple[dict[str, str], ...] = ()) -> bool: ...
    def clear_problem(self, code: str) -> bool: ...


class LegacyToken:
    """An admin-created app's `shpat_` token: it never expires, and a 401 is final."""

    def __init__(self, token: str):
        self._token = token

    def current(self) -> str:
        return self._token

    def refused(self, token: str) -> str | None:
        return None

    def revoked(self) -> None:
        """Never asked: a legacy token is never renewed."""

    def worked(self) -> None:
        """Nothing to clear: a legacy token records no problem."""

    def waiting_until(self) -> float:
        return 0.0

    def status(self) -> TokenStatus:
        return TokenStatus(LEGACY)


def as_tokens(token: "str | Tokens") -> Tokens:
    """A token source from a legacy token's text, or the source itself."""
    return LegacyToken(token) if isinstance(token, str) else token


def renew_at(issued_at: float, expires_at: float) -> float:
    """When a token of that life is due for renewal."""
    margin = min((expires_at - issued_at) * RENEWAL_SHARE, MAX_RENEWAL_MARGIN)
    return expires_at - max(margin, 0.0)


def cipher(secrets: Sequence[str]) -> MultiFernet:
    """Encrypts with the first secret's key, decrypts with any of them'."""
    return MultiFernet([Fernet(_key(secret)) for secret in secrets if secret])


def _key(secret: str) -> bytes:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"cart-draft-orders: the shop's access token at rest").derive(
        secret.encode())
    return base64.urlsafe_b64encode(derived)


@dataclass(frozen=True)
class _Held:
    """The stored token, decrypted, with when it falls due."""

    grant_kind: str
    token: str
    expires_at: float
    renew_at: float
    refresh_token: str | None
    refresh_expires_at: float | None
    version: int


class ManagedToken:
    def __init__(self, store: CredentialsStore, base_url: str, client_id: str,
                 secrets: Sequence[str], timeout: float, clock: Callable[[], float] = time.time,
                 session: requests.Session | None = None,
                 notifications: Notifications = lambda *_: (),
                 sleep: Callable[[float], None] = time.sleep):
        self.store = store
        self.base_url = base_url
        self.client_id = client_id
        self.timeout = timeout
        self.clock = clock
        self._secrets = tuple(secret for secret in secrets if secret)
        self._cipher = cipher(self._secrets)
        self._session = deadline_session() if session is None else session
        self._notifications = notifications  # the merchant's, for a new problem
        self._sleep = sleep
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._lock = threading.Lock()  # one renewal at a time in this process
        self._held: _Held | None = None
        self._blocked_until = 0.0
        self._blocked_version = 0  # the stored token's version when the problem was met
        self._problem: CredentialsUnavailable | None = None
        self._unauthorized_on_record = True  # unknown at start: cleared by a call that works

    # --- What Transport asks. ---

    def current(self) -> str:
        with self._lock:
            held, now = self._held, self.clock()
            if held is not None and now < held.renew_at:
                return held.token
            return self._obtain(refused=None)

    def refused(self, token: str) -> str | None:
        """Shopify answered 401 to `token`: a token renewed since (by us or
        another process), or a new one now. A 401 to that one is no longer the
        token's fault: the app was uninstalled or its access revoked."""
        with self._lock:
            if self._held is not None and self._held.token != token:
                return self._held.token
            self._held = None
            return self._obtain(refused=token)

    def revoked(self) -> None:
        """Shopify refused a token just renewed: the setup, not the token, is
        wrong. The token is forgotten (never sent again), the problem recorded
        under the renewal lease, and this process waits."""
        with self._lock:
            held, self._held = self._held, None
            now = self.clock()
            if held is not None:
                self.store.discard_token(held.version)
            self._unauthorized_on_record = True
            if self.store.begin_renewal(self.client_id, self.owner, now,
                                        now + self.timeout + 5) is None:
                # Another process renews: it will meet the problem for itself.
                self._block(CredentialsUnavailable(UNAUTHORIZED, REVOKED), now)
                raise CredentialsUnavailable(UNAUTHORIZED, REVOKED)
            self._refused(Refusal(UNAUTHORIZED, REVOKED, setup=True), now)

    def worked(self) -> None:
        """A call went through: a refused-token problem on record is over."""
        if self._unauthorized_on_record:
            self._unauthorized_on_record = False
            self.store.clear_problem(UNAUTHORIZED)

    def waiting_until(self) -> float:
        """Until when this process knows the setup keeps it from a token; no
        longer once another process has stored a token since (an install, say)."""
        if self._blocked_until > self.clock():
            row = self.store.credentials()
            if row is not None and row["version"] > self._blocked_version \
                    and self._readable(row) is not None:
                self._blocked_until = 0.0
        return self._blocked_until

    def status(self) -> TokenStatus:
        row = self.store.credentials()
        held = self._readable(row)
        problem = (row["problem_code"], row["problem_detail"]) \
            if row is not None and row["problem_code"] else None
        if held is None or row is None:  # no row holds no token
            return TokenStatus("none yet", problem=problem)
        return TokenStatus(held.grant_kind, held.expires_at, row["scope"], problem)

    # --- The OAuth install's code, traded by app/web/auth.py's callback. ---

    def install(self, code: str) -> Grant | Refusal:
        """Trade an approved install's `code` for an expiring offline token and
        keep it, over whatever token there was."""
        now = self.clock()
        result = read_grant(*self._ask(code_form(self.client_id, self._secrets[0], code)),
                            issued_at=now)
        if isinstance(result, Grant):
            if result.refresh_token is None or result.expires_at is None:
                return Refusal("not_expiring", "Shopify's install answer carried no refresh "
                                               "token.", setup=True)
            with self._lock:
                self._save(None, INSTALLED, result, now)
        return result

    # --- Renewal. ---

    def _obtain(self, refused: str | None) -> str:
        """The stored token if it is not due (nor the one just refused), else a
        renewed one; single-flight across processes through the store's lease."""
        now = self.clock()
        if self.waiting_until() > now and self._problem is not None:
            raise self._problem
        give_up_at = now + self.timeout + 5
        while True:
            held = self._readable(self.store.credentials())
            if self._serves(held, refused, now):
                self._held = held
                return held.token
            taken = self.store.begin_renewal(self.client_id, self.owner, now,
                                             now + self.timeout + 5)
            if taken is not None:
                break
            # Another process renews: its old token serves until it runs out.
            if held is not None and held.token != refused and now < held.expires_at:
                return held.token
            if now > give_up_at:
                raise TokenUnavailable("Another process's token renewal did not finish.")
            self._sleep(WAIT_STEP_SECONDS)
            now = self.clock()
        held = self._readable(taken)
        if self._serves(held, refused, now):  # renewed by another meanwhile
            self.store.end_renewal(self.owner, now)
            self._held = held
            return held.token
        try:
            return self._renew(held, now)
        except TokenUnavailable:
            if held is None or held.token == refused or now >= held.expires_at:
                raise
            # The old token still serves: go on with it, and try again shortly.
            self._held = replace(held, renew_at=min(now + RENEWAL_RETRY_SECONDS,
                                                    held.expires_at))
            return held.token
        except CredentialsUnavailable:
            raise
        except Exception:
            self.store.end_renewal(self.owner, self.clock())  # no lease left behind
            raise

    def _serves(self, held: _Held | None, refused: str | None,
                now: float) -> TypeGuard[_Held]:
        return held is not None and held.token != refused and now < held.renew_at

    def _renew(self, held: _Held | None, now: float) -> str:
        """Holding the lease: ask for a token and keep it, or record why not."""
        secret = self._secrets[0]
        if held is not None and held.grant_kind == INSTALLED:
            if held.refresh_token is None or now >= (held.refresh_expires_at or 0):
                result: Grant | Refusal = Refusal("invalid_grant", SETUP_ERRORS["invalid_grant"],
                                                  setup=True)
            else:
                result = read_grant(*self._ask(refresh_form(self.client_id, secret,
                                                            held.refresh_token)), issued_at=now)
            kind = INSTALLED
        else:
            result = read_grant(*self._ask(client_credentials_form(self.client_id, secret)),
                                issued_at=now)
            kind = CLIENT_CREDENTIALS
        if isinstance(result, Refusal):
            return self._refused(result, now)
        saved = self._save(self.owner, kind, result, now, unfixed=UNAUTHORIZED)
        if saved is None:
            # Our lease ran out mid-call and another renewal won: use its token.
            saved = self._readable(self.store.credentials())
            if saved is None or now >= saved.expires_at:
                raise TokenUnavailable("The token renewal lost its turn to another process.")
            self._held = saved
        log.info("shopify token renewed (%s), valid for %.0f s", kind,
                 (result.expires_at or now) - now)
        return saved.token

    def _refused(self, refusal: Refusal, now: float) -> str:
        if not refusal.setup:
            self.store.end_renewal(self.owner, now)
            raise TokenUnavailable(refusal.detail)
        self.store.end_renewal(self.owner, now, (refusal.code, refusal.detail),
                               self._notifications(refusal.code, refusal.detail, now))
        log.warning("shopify token: %s (%s); carts wait", refusal.detail, refusal.code)
        problem = CredentialsUnavailable(refusal.code, refusal.detail)
        self._block(problem, now)
        raise problem

    def _block(self, problem: CredentialsUnavailable, now: float) -> None:
        """Wait PROBLEM_RETRY_SECONDS, or until another process stores a token."""
        row = self.store.credentials()
        self._blocked_version = row["version"] if row is not None else 0
        self._problem, self._blocked_until = problem, now + PROBLEM_RETRY_SECONDS

    def _save(self, owner: str | None, kind: str, grant: Grant, now: float,
              unfixed: str | None = None) -> _Held | None:
        """Keep `grant`: the token now held, or None when the store refused it
        (`owner`'s renewal lease ran out and another renewal won)."""
        expires_at = grant.expires_at if grant.expires_at is not None else now + 86400
        version = self.store.save_token(
            owner, self.client_id, kind, self._seal(grant.access_token), grant.scope,
            grant.issued_at, expires_at,
            None if grant.refresh_token is None else self._seal(grant.refresh_token),
            grant.refresh_expires_at, now, unfixed)
        if version is None:
            return None
        self._held = _Held(kind, grant.access_token, expires_at,
                           renew_at(grant.issued_at, expires_at), grant.refresh_token,
                           grant.refresh_expires_at, version)
        self._blocked_until, self._problem = 0.0, None
        return self._held

    def _ask(self, form: dict[str, str]) -> tuple[int | None, object]:
        """One call to the token endpoint: (status or None, its JSON or None)."""
        exchanged = exchange(self._session, "POST", f"{self.base_url}/admin/oauth/access_token",
                             self.timeout, data=form, headers={"Accept": "application/json"})
        if isinstance(exchanged, str):
            log.warning("shopify token endpoint: %s", exchanged)
            return None, None
        try:
            parsed = json.loads(exchanged.text)
        except (ValueError, RecursionError):  # not JSON, or nested past any use
            parsed = None
        return exchanged.status, parsed

    # --- At rest. ---

    def _seal(self, secret: str) -> str:
        return self._cipher.encrypt(secret.encode()).decode()

    def _open(self, sealed: str | None) -> str | None:
        if not sealed:
            return None
        try:
            return self._cipher.decrypt(sealed.encode()).decode()
        except (InvalidToken, ValueError):
            return None

    def _readable(self, row: Mapping[str, Any] | None) -> _Held | None:
        """The stored token for this app, decrypted; None when there is none, it
        is another app's, or no key of ours opens it (a secret rotated away)."""
        if row is None or row["client_id"] != self.client_id or not row["access_token"]:
            return None
        token = self._open(row["access_token"])
        if token is None or row["expires_at"] is None:
            return None
        return _Held(row["grant_kind"], token, row["expires_at"],
                     renew_at(row["issued_at"], row["expires_at"]),
                     self._open(row["refresh_token"]), row["refresh_expires_at"], row["version"])
