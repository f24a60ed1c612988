"""The login_failures and login_lockouts tables: the admin's failed logins and
the lockouts they earn, shared by every web process, so guessing is bounded
however many processes answer.
"""

from typing import cast

from .shared import Statements, _lock_ids


class LoginStatements(Statements):
    """Mixed into SqlStore."""

    # --- Admin logins (app/web/lockout.py). ---

    def login_attempt(self, address: str, now: float, limit: int, window: float,
                      lockout: float) -> float | None:
        """Count a login attempt from `address` as a failure (until
        `login_succeeded` clears it) and return None; or, while `address` is
        locked out, return when its lockout ends, counting nothing. The
        look-up, the count and the lockout are one transaction, so concurrent
        guesses, from any process, cannot slip past `limit`. Failures older than
        `window` and ended lockouts are deleted on the way: the tables hold only
        the last `window` seconds of guessing."""
        with self._connect(write=True) as conn:
            if self.KEY_LOCKS:
                conn.execute(self.KEY_LOCKS, (_lock_ids([f"login:{address}"]),))
            conn.execute("DELETE FROM login_failures WHERE at <= ?", (now - window,))
            conn.execute("DELETE FROM login_lockouts WHERE until <= ?", (now,))
            row = conn.execute("SELECT until FROM login_lockouts WHERE address = ?",
                               (address,)).fetchone()
            if row is not None:
                return cast(float, row["until"])
            conn.execute("INSERT INTO login_failures (address, at) VALUES (?, ?)",
                         (address, now))
            failures = conn.execute("SELECT COUNT(*) AS n FROM login_failures"
                                    " WHERE address = ?", (address,)).fetchone()["n"]
            if failures >= limit:
                conn.execute("DELETE FROM login_failures WHERE address = ?", (address,))
                conn.execute("INSERT INTO login_lockouts (address, until) VALUES (?, ?)",
                             (address, now + lockout))
        return None

    def login_succeeded(self, address: str) -> None:
        """The right password: forget the address's failures, and the lockout its
        own attempt may just have set (it was counted before it was checked)."""
        with self._connect(write=True) as conn:
            conn.execute("DELETE FROM login_failures WHERE address = ?", (address,))
            conn.execute("DELETE FROM login_lockouts WHERE address = ?", (address,))

    def login_locked_until(self, address: str, now: float) -> float | None:
        """When the address's lockout ends, or None when it has none."""
        with self._connect() as conn:
            row = conn.execute("SELECT until FROM login_lockouts WHERE address = ?"
                               " AND until > ?", (address, now)).fetchone()
        return None if row is None else cast(float, row["until"])
