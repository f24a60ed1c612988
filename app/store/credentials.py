"""The shop's access token, one for every process and instance, and the OAuth
install's states: the statements, for app/shopify/tokens.py and app/web/auth.py.

The token is a single row. Whoever renews it first takes the row's renewal
lease in a short transaction, makes the token call with no lock held, then
writes the new token only while the lease is still its own: renewal is
single-flight across processes (SQLite or PostgreSQL alike), and a process
killed mid-renewal only leaves a lease that runs out. Tokens arrive here
already encrypted; this module never sees one in plain text.
"""

from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, cast

from .rows import Connection, Credentials

ROW = "shop"  # the one row: this deployment serves one shop
MAX_OAUTH_STATES = 100  # installs under way at once: one merchant's, with room to spare
_COLUMNS = ("client_id, grant_kind, access_token, scope, issued_at, expires_at, refresh_token,"
            " refresh_expires_at, version, renewing_owner, renewing_until, problem_code,"
            " problem_detail, problem_at, updated_at")


class CredentialStatements:
    """Mixed into SqlStore, whose `_connect` these use."""

    if TYPE_CHECKING:  # SqlStore's and its backends', declared for the type checker only
        def _connect(self, write: bool = False) -> AbstractContextManager[Connection]: ...

        def _queue_notifications(self, conn: Connection, event_id: str, now: float,
                                 notifications: Iterable[Mapping[str, str]]) -> None: ...

    def credentials(self) -> Credentials | None:
        """The token row, or None before the first token."""
        with self._connect() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM shopify_credentials WHERE id = ?",
                               (ROW,)).fetchone()
        return None if row is None else cast(Credentials, dict(row))

    def begin_renewal(self, client_id: str, owner: str, now: float,
                      until: float) -> Credentials | None:
        """Take the renewal lease until `until` and return the row as it is, or
        None while another owner's lease runs."""
        with self._connect(write=True) as conn:
            _ensure_row(conn, client_id, now)
            row = conn.execute(
                "UPDATE shopify_credentials SET renewing_owner = ?, renewing_until = ?"
                " WHERE id = ? AND (renewing_until IS NULL OR renewing_until <= ?"
                "                   OR renewing_owner = ?)"
                f" RETURNING {_COLUMNS}", (owner, until, ROW, now, owner)).fetchone()
        return None if row is None else cast(Credentials, dict(row))

    def save_token(self, owner: str | None, client_id: str, grant_kind: str, access_token: str,
                   scope: str, issued_at: float, expires_at: float | None,
                   refresh_token: str | None, refresh_expires_at: float | None, now: float,
                   unfixed: str | None = None) -> int | None:
        """Write a new token and give the lease back; the row's new version, or
        None when nothing was written. With an `owner`, only while its renewal
        lease holds (another renewal won otherwise, and its token stands); None
        (an install) writes over whatever is there. The problem on record is
        cleared, unless its code is `unfixed` (one a new token does not mend)."""
        held = "" if owner is None else " AND renewing_owner = ?"
        with self._connect(write=True) as conn:
            _ensure_row(conn, client_id, now)
            row = conn.execute(
                "UPDATE shopify_credentials SET client_id = ?, grant_kind = ?, access_token = ?,"
                " scope = ?, issued_at = ?, expires_at = ?, refresh_token = ?,"
                " refresh_expires_at = ?, version = version + 1, renewing_owner = NULL,"
                " renewing_until = NULL,"
                " problem_detail = CASE WHEN problem_code = ? THEN problem_detail END,"
                " problem_at = CASE WHEN problem_code = ? THEN problem_at END,"
                " problem_code = CASE WHEN problem_code = ? THEN problem_code END,"
                f" updated_at = ? WHERE id = ?{held} RETURNING version",
                (client_id, grant_kind, access_token, scope, issued_at, expires_at,
                 refresh_token, refresh_expires_at, unfixed, unfixed, unfixed, now, ROW,
                 *(() if owner is None else (owner,)))).fetchone()
        return None if row is None else row["version"]

    def discard_token(self, version: int) -> None:
        """Make a token Shopify refused expire now (its refresh token stays),
        unless another has replaced it since."""
        with self._connect(write=True) as conn:
            conn.execute("UPDATE shopify_credentials SET expires_at = issued_at"
                         " WHERE id = ? AND version = ?", (ROW, version))

    def end_renewal(self, owner: str, now: float, problem: tuple[str, str] | None = None,
                    notifications: tuple[dict[str, str], ...] = ()) -> bool:
        """Give the lease back after a renewal that got no token; with a
        `problem` (code, detail) the merchant must fix, record it, and queue
        `notifications` only when it is new (another code than the one on
        record), so the merchant hears of it once. Nothing is recorded once the
        lease is no longer `owner`'s: another renewal (an install) has the last
        word. Returns whether the problem was new."""
        with self._connect(write=True) as conn:
            row = conn.execute("SELECT problem_code FROM shopify_credentials"
                               " WHERE id = ? AND renewing_owner = ?", (ROW, owner)).fetchone()
            if row is None:
                return False
            if problem is None:
                conn.execute("UPDATE shopify_credentials SET renewing_owner = NULL,"
                             " renewing_until = NULL WHERE id = ? AND renewing_owner = ?",
                             (ROW, owner))
                return False
            # One statement, still under the lease: an install committed since
            # the look above (PostgreSQL's READ COMMITTED lets one in) wins.
            recorded = conn.execute(
                "UPDATE shopify_credentials SET renewing_owner = NULL, renewing_until = NULL,"
                " problem_code = ?, problem_detail = ?, problem_at = ?"
                " WHERE id = ? AND renewing_owner = ?", (*problem, now, ROW, owner)).rowcount
            new = bool(recorded) and row["problem_code"] != problem[0]
            if new:  # a notification of the shop's, not of an event's: no event id
                self._queue_notifications(conn, "", now, notifications)
        return new

    def clear_problem(self, code: str) -> bool:
        """The problem `code` is over (a call went through): forget it."""
        with self._connect(write=True) as conn:
            return bool(conn.execute(
                "UPDATE shopify_credentials SET problem_code = NULL, problem_detail = NULL,"
                " problem_at = NULL WHERE id = ? AND problem_code = ?", (ROW, code)).rowcount)

    def add_oauth_state(self, state: str, now: float, max_age: float) -> None:
        """Remember a state issued to a browser, forgetting the stale ones and
        all but the newest MAX_OAUTH_STATES: a signed launch replayed in a loop
        for its few minutes cannot grow the table."""
        with self._connect(write=True) as conn:
            conn.execute("DELETE FROM oauth_states WHERE created_at <= ?", (now - max_age,))
            conn.execute("INSERT INTO oauth_states (state, created_at) VALUES (?, ?)",
                         (state, now))
            conn.execute("DELETE FROM oauth_states WHERE created_at < (SELECT created_at FROM"
                         " oauth_states ORDER BY created_at DESC LIMIT 1 OFFSET ?)",
                         (MAX_OAUTH_STATES - 1,))

    def take_oauth_state(self, state: str, now: float, max_age: float) -> bool:
        """Use up a state: True once for a state issued within `max_age`, then never."""
        with self._connect(write=True) as conn:
            return bool(conn.execute(
                "DELETE FROM oauth_states WHERE state = ? AND created_at > ? AND created_at <= ?",
                (state, now - max_age, now)).rowcount)


def _ensure_row(conn: Connection, client_id: str, now: float) -> None:
    """The one row, made empty the first time a process needs it."""
    conn.execute("INSERT INTO shopify_credentials (id, client_id, updated_at)"
                 " VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING", (ROW, client_id, now))
