"""Keeping under Shopify's leaky buckets instead of bouncing off them.

Shopify's REST Admin API counts calls in a bucket (40 by default) that leaks a
few calls a second (2 by default), and reports its level on every answer as
`X-Shopify-Shop-Api-Call-Limit: 32/40`. One pacer per process, shared by all
its worker threads, estimates the level from the last header and the leak
rate, reserves a slot for each call, and makes a call wait when the bucket
would overflow; a 429's Retry-After holds every call back.

The GraphQL Admin API counts cost points instead: CostPacer.

Both say whether they have room (`has_room()`, the bucket at most half used) for
calls that can wait, such as the worker's re-reads of drafts: those go only then,
and never hold a draft's creation back.
"""

import math
import re
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

_CALL_LIMIT = re.compile(r"(\d{1,9})/(\d{1,9})")

# Shopify's cost buckets fill from empty in 20 s; one said to take longer than
# this (a restoreRate of 1e-9) would hold every request back for years.
MAX_RESTORE_SECONDS = 300.0

# `extensions.cost` (CostPacer.observe, throttle_status) is JSON from Shopify: Any.


@runtime_checkable
class Pacer(Protocol):
    """What the worker asks of either backend's pacer (its `pacer`): whether
    a call that can wait may go now. Each backend paces its own calls by its
    own API's rule (CallPacer counts calls, CostPacer cost points)."""

    def has_room(self) -> bool: ...


class CallPacer:
    def __init__(self, leak_rate: float = 2.0, headroom: int = 1,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.leak_rate = leak_rate
        self.headroom = headroom  # slots left for other apps and our other processes
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._used = 0.0
        self._size: int | None = None  # unknown until Shopify has told us
        self._at = clock()
        self._blocked_until = 0.0

    def _level(self, at: float) -> float:
        return max(0.0, self._used - (at - self._at) * self.leak_rate)

    def delay(self) -> float:
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

    def has_room(self) -> bool:
        """Whether the bucket is at most half full now (and no 429 holds calls
        back): a call that can wait, such as a re-read, leaves the rest to
        creation. True until Shopify has said how big the bucket is."""
        with self._lock:
            now = self._clock()
            if now < self._blocked_until:
                return False
            return self._size is None or self._level(now) <= self._size / 2

    def wait(self) -> None:
        seconds = self.delay()
        if seconds > 0:
            self._sleep(seconds)

    def observe(self, call_limit: str | None = None, retry_after: float | None = None) -> None:
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


def _bucket_level(call_limit: str | None) -> tuple[float, int] | None:
    """(used, size) from `X-Shopify-Shop-Api-Call-Limit`, or None unless it reads
    `used/size` with 0 <= used <= size and size >= 1."""
    match = _CALL_LIMIT.fullmatch((call_limit or "").strip())
    if match is None:
        return None
    used, size = (int(part) for part in match.groups())
    return (float(used), size) if 1 <= size and used <= size else None


class CostPacer:
    """The GraphQL Admin API's bucket holds cost points (`maximumAvailable`),
    restores `restoreRate` a second, and reports `currentlyAvailable` with every
    answer. One pacer per process, shared by its worker threads, estimates the
    level from the last report and reserves each request's cost before it
    leaves, so that no request goes out that the bucket cannot hold; after a
    THROTTLED answer nothing leaves until the cost is restored. Until Shopify
    has reported a bucket, requests go at once.

    The bucket is the app's, shared by our other processes (the Procfile's web
    command runs WEB_CONCURRENCY of them, each with its delivery thread), whose
    requests since the last report this pacer cannot see: `headroom` points are
    kept for them, as CallPacer keeps a slot."""

    def __init__(self, headroom: float = 0.0, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.headroom = headroom
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        # (maximum, restore rate), unknown until Shopify tells us
        self._bucket: tuple[float, float] | None = None
        self._available = 0.0
        self._at = clock()
        self._blocked_until = 0.0
        self._costs: dict[str, float] = {}  # the last requestedQueryCost seen per operation

    def cost_of(self, operation: str, default: float) -> float:
        """What to reserve for `operation`: its cost as Shopify last asked for it."""
        with self._lock:
            return self._costs.get(operation, default)

    def _level(self, at: float, bucket: tuple[float, float]) -> float:
        maximum, rate = bucket
        return min(maximum, self._available + (at - self._at) * rate)

    def delay(self, cost: float) -> float:
        """Reserve `cost` points; return how long to wait before sending."""
        with self._lock:
            now = self._clock()
            start = max(now, self._blocked_until)
            if self._bucket is not None:
                maximum, rate = self._bucket
                cost = min(cost, maximum)  # more could never fit: Shopify will say so
                shortfall = min(cost + self.headroom, maximum) - self._level(start, self._bucket)
                if shortfall > 0:
                    start += shortfall / rate
                self._available = self._level(start, self._bucket) - cost
                self._at = start
            return start - now

    def has_room(self) -> bool:
        """Whether at least half the bucket's points are available now (and no
        THROTTLED answer holds requests back), as CallPacer.has_room."""
        with self._lock:
            now = self._clock()
            if now < self._blocked_until:
                return False
            return self._bucket is None or self._level(now, self._bucket) >= self._bucket[0] / 2

    def wait(self, cost: float) -> None:
        seconds = self.delay(cost)
        if seconds > 0:
            self._sleep(seconds)

    def observe(self, cost: Any, operation: str | None = None,
                retry_after: float | None = None) -> None:
        """Take an answer's `extensions.cost` for the bucket's level, unless its
        throttleStatus makes no sense (a level above the bucket, a rate of 0, a
        `nan`, a bucket that takes longer than MAX_RESTORE_SECONDS to fill, which
        would hold every request back or let all through), and a THROTTLED
        answer's wait (computed and bounded by the client)."""
        bucket = throttle_status(cost)
        if bucket is not None and bucket[1] / bucket[2] > MAX_RESTORE_SECONDS:
            bucket = None
        requested = cost_points(cost.get("requestedQueryCost")) if isinstance(cost, dict) else None
        with self._lock:
            now = self._clock()
            if bucket is not None:
                available, maximum, rate = bucket
                self._bucket, self._available, self._at = (maximum, rate), available, now
            if operation is not None and requested is not None:
                self._costs[operation] = requested
            if retry_after is not None:
                self._blocked_until = max(self._blocked_until, now + retry_after)


def cost_points(raw: Any) -> float | None:
    """A finite, non-negative number of cost points, or None (never a boolean)."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        return None
    points = float(raw)
    return points if math.isfinite(points) and points >= 0 else None


def throttle_status(cost: Any) -> tuple[float, float, float] | None:
    """(available, maximum, restore rate) from `extensions.cost`, or None unless
    0 <= currentlyAvailable <= maximumAvailable and restoreRate > 0."""
    status = cost.get("throttleStatus") if isinstance(cost, dict) else None
    if not isinstance(status, dict):
        return None
    available, maximum, rate = (cost_points(status.get(name)) for name in (
        "currentlyAvailable", "maximumAvailable", "restoreRate"))
    if available is None or maximum is None or rate is None \
            or not (available <= maximum and rate > 0):
        return None
    return available, maximum, rate
