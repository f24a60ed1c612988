"""The backoff rule: how long to wait after the n-th failure of something
tried again, the same for a delivery to Shopify and a merchant's notification.

Exponential (2 s, 4 s, 8 s, ... up to 5 minutes), with jitter so that a burst
of failures does not come back all at once. A base module: it imports nothing
of the app's.
"""

import random
from dataclasses import dataclass
from typing import Protocol

BACKOFF_BASE = 2.0    # seconds after the first failure
BACKOFF_CAP = 300.0   # the longest delay


@dataclass(frozen=True)
class Retries:
    """How often something is tried (`max_attempts`) and the backoff between tries."""
    max_attempts: int = 5
    backoff_base: float = BACKOFF_BASE
    backoff_cap: float = BACKOFF_CAP


class Backoff(Protocol):
    """What `backoff` reads of a policy (Retries, the worker's Policy)."""

    @property
    def backoff_base(self) -> float: ...

    @property
    def backoff_cap(self) -> float: ...


def backoff(failures: int, policy: Backoff) -> float:
    """Exponential delay after the n-th transient failure, with jitter so that a
    burst of failed events does not come back all at once. `policy`: anything
    with `backoff_base` and `backoff_cap` (Retries, the worker's Policy)."""
    delay: float = min(policy.backoff_base * 2 ** (failures - 1), policy.backoff_cap)
    return delay * (1 + random.random() / 4)
