"""Password guessing at /admin, slowed down: after LIMIT wrong passwords from one
address within WINDOW seconds, that address gets 429 for LOCKOUT seconds,
whatever password it sends.

Counted in the event store, so the count is one for every web process (the web
command runs several) and every instance on PostgreSQL; the store keeps only
the last WINDOW seconds of failures, so a flood of addresses costs bounded space.
"""

import math
import time
from collections.abc import Callable

from ..store.base import SqlStore

LIMIT = 10
WINDOW = 60.0
LOCKOUT = 300.0


class LoginThrottle:
    def __init__(self, store: SqlStore, limit: int = LIMIT, window: float = WINDOW,
                 lockout: float = LOCKOUT, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.limit, self.window, self.lockout = limit, window, lockout
        self._clock = clock  # wall-clock time: processes and machines share the count

    def attempt(self, address: str) -> int:
        """Count an attempt from `address` as a failure until `succeeded` clears
        it, and return 0; or, while `address` is locked out, the whole seconds
        left (not counted). Counting before the password is compared means
        concurrent guesses cannot slip past the limit."""
        now = self._clock()
        until = self.store.login_attempt(address, now, self.limit, self.window, self.lockout)
        return 0 if until is None else max(1, math.ceil(until - now))

    def succeeded(self, address: str) -> None:
        """The right password: forget this address's failures."""
        self.store.login_succeeded(address)

    def locked(self, address: str) -> bool:
        return self.store.login_locked_until(address, self._clock()) is not None
