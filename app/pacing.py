"""Keeping under Shopify's leaky bucket instead of bouncing off it.

Shopify's REST Admin API counts calls in a bucket (40 by default) that leaks a
few calls a second (2 by default), and reports its level on every answer as
`X-Shopify-Shop-Api-Call-Limit: 32/40`. One pacer per process, shared by all
its worker threads, estimates the level from the last header and the leak
rate, reserves a slot for each call, and makes a call wait when the bucket
would overflow; a 429's Retry-After holds every call back.
"""

import re
import threading
import time

_CALL_LIMIT = re.compile(r"(\d{1,9})/(\d{1,9})")


class CallPacer:
    def __init__(self, leak_rate=2.0, headroom=1, clock=time.monotonic, sleep=time.sleep):
        self.leak_rate = leak_rate
        self.headroom = headroom  # slots left for other apps and our other processes
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._used = 0.0
        self._size = None  # unknown until Shopify has told us
        self._at = clock()
        self._blocked_until = 0.0

    def _level(self, at):
        return max(0.0, self._used - (at - self._at) * self.leak_rate)

    def delay(self):
        """Reserve a slot for one call; return how long to wait before making it."""
        with self._lock:
            now = self._clock()
            start = max(now, self._blocked_until)
            if self._size is not None:
                overflow = self._level(start) + 1 - (self._size - self.headroom)
                if overflow > 0:
                    start += overflow / self.leak_rate
            self._used = self._level(start) + 1
            self._at = start
            return start - now

    def wait(self):
        seconds = self.delay()
        if seconds > 0:
            self._sleep(seconds)

    def observe(self, call_limit=None, retry_after=None):
        """Take Shopify's word for the bucket's level, unless it makes no sense (a
        level above the size, as `1000000/40`, would hold every call of the process
        back for days), and a 429's Retry-After (checked by the client)."""
        level = _bucket_level(call_limit)
        with self._lock:
            now = self._clock()
            if level is not None:
                self._used, self._size = level
                self._at = now
            if retry_after is not None:
                self._blocked_until = max(self._blocked_until, now + retry_after)
                if self._size is not None:
                    self._used, self._at = float(self._size), now


def _bucket_level(call_limit):
    """(used, size) from `X-Shopify-Shop-Api-Call-Limit`, or None unless it reads
    `used/size` with 0 <= used <= size and size >= 1."""
    match = _CALL_LIMIT.fullmatch((call_limit or "").strip())
    if match is None:
        return None
    used, size = (int(part) for part in match.groups())
    return (float(used), size) if 1 <= size and used <= size else None
