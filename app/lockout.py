"""Password guessing at /admin, slowed down: after LIMIT wrong passwords from one
address within WINDOW seconds, that address gets 429 for LOCKOUT seconds,
whatever password it sends.

Kept in memory, so it is per web process: with W processes an address can try
up to W x LIMIT passwords before all of them lock it out. The table is capped
at MAX_ADDRESSES; beyond that the address least recently seen is forgotten,
so a flood of addresses costs bounded memory (and whoever owns that many
addresses already gets LIMIT tries from each).
"""

import math
import threading
import time
from collections import OrderedDict

LIMIT = 10
WINDOW = 60.0
LOCKOUT = 300.0
MAX_ADDRESSES = 10_000


class LoginThrottle:
    """Safe to share between the web server's threads: every method holds one lock."""

    def __init__(self, limit=LIMIT, window=WINDOW, lockout=LOCKOUT,
                 max_addresses=MAX_ADDRESSES, clock=time.monotonic):
        self.limit, self.window, self.lockout = limit, window, lockout
        self.max_addresses = max_addresses
        self._clock = clock
        self._lock = threading.Lock()
        # address -> (times of its recent attempts, end of its lockout), least recent first
        self._addresses = OrderedDict()

    def attempt(self, address):
        """Count an attempt from `address` as a failure until `succeeded` clears
        it, and return 0; or, while `address` is locked out, the whole seconds
        left (not counted). Counting before the password is compared means
        concurrent guesses cannot slip past the limit."""
        with self._lock:
            now = self._clock()
            times, locked_until = self._addresses.pop(address, ((), 0.0))
            if locked_until > now:
                self._addresses[address] = (times, locked_until)
                return math.ceil(locked_until - now)
            times = [t for t in times if t > now - self.window] + [now]
            if len(times) >= self.limit:
                times, locked_until = [], now + self.lockout
            self._addresses[address] = (times, locked_until)
            while len(self._addresses) > self.max_addresses:
                self._addresses.popitem(last=False)
            return 0

    def succeeded(self, address):
        """The right password: forget this address's failures."""
        with self._lock:
            self._addresses.pop(address, None)

    def locked(self, address):
        with self._lock:
            entry = self._addresses.get(address)
            return entry is not None and entry[1] > self._clock()

    def __len__(self):
        return len(self._addresses)
