"""One use per app proxy signature: a signed query is not bound to the body.

Shopify signs the query it forwards (the shop, the customer, the time), never
the body. Whoever captured a signed URL (from a log, say) could post another
cart under it as that customer until the timestamp goes stale. So each
signature carries one body: the first body posted under it is remembered, with
its event, until the signature expires. The same body again gets that event
back (a retry, a double click: no second event, whatever DEDUPE_WINDOW says);
another body is refused. Only a signed-in customer's: a guest's signature
vouches for nobody (anyone gets one by posting through the shop), and every
guest posting in the same second gets the same one. The same customer posting
two different carts within one second is refused the second time: a click
again a moment later goes through.

Kept in the web process's memory, bounded: a signature lives a few minutes
(app_proxy.TOLERANCE), and a captured URL is already a rare thing, since only
Shopify's servers and ours see a signed query (TLS hides it from the shopper's
network). With several web processes a replay could land once per process; the
resubmission check in the store still returns the first event for an identical
cart there.
"""

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

MAX_ENTRIES = 50_000  # ~10 MB; beyond it the oldest signatures are forgotten first


@dataclass
class _Use:
    body: bytes  # the body's digest
    expires_at: float
    event_id: str | None = None  # None while its first request is under way


class UsedSignatures:
    """Which body, and which event, each recent proxy signature went with."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._uses: OrderedDict[str, _Use] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries

    def claim(self, signature: str, body: bytes, now: float,
              keep_for: float) -> tuple[bool, str | None]:
        """(allowed, the event already made for it): (True, None) for a first
        use, (True, event id) for the same body again once its event exists,
        (False, None) for another body under a used signature. A signature is
        remembered `keep_for` seconds from its first use: as long as it can
        still be accepted (twice the tolerance, for a timestamp ahead of us)."""
        digest = hashlib.sha256(body).digest()
        with self._lock:
            self._forget(now)
            use = self._uses.get(signature)
            if use is None:
                if len(self._uses) >= self._max:
                    self._uses.popitem(last=False)
                self._uses[signature] = _Use(digest, now + keep_for)
                return True, None
            return use.body == digest, use.event_id if use.body == digest else None

    def record(self, signature: str, event_id: str) -> None:
        """The event the signature's first body became."""
        with self._lock:
            use = self._uses.get(signature)
            if use is not None and use.event_id is None:
                use.event_id = event_id

    def _forget(self, now: float) -> None:
        # One lifetime for all, from the first use: the oldest expire first.
        while self._uses:
            oldest = next(iter(self._uses.values()))
            if oldest.expires_at > now:
                break
            self._uses.popitem(last=False)
