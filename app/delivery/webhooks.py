"""Applying the Shopify webhooks kept by app/intake/shopify_webhooks.py, in
the order they came, without calling Shopify: the worker runs `apply_pending`
at each pass. What each means is app/shopify/webhooks.py's (`read_report`,
`judge`); the store applies it to the event in one transaction.
"""

import logging
from collections.abc import Mapping
from functools import partial
from typing import Any

from ..event import Event
from ..shopify.compliance import COMPLIANCE_TOPICS
from ..shopify.webhooks import judge, parse_body, read_report
from ..states import WebhookStatus
from ..store.base import Judgement, SqlStore
from . import privacy

log = logging.getLogger(__name__)

APPLY_BATCH = 100  # webhooks applied per pass of the worker


def _ignored(why: str, event: Event | None) -> Judgement:
    return WebhookStatus.IGNORED, why, None


def apply_pending(store: SqlStore, now: float, days: int, batch: int = APPLY_BATCH,
                  settings: Mapping[str, Any] | None = None) -> int:
    """Apply the pending webhooks, oldest first, each in its own transaction;
    return how many were applied or ignored. `days`: RECONCILE_DAYS. The
    compliance webhooks are privacy.py's to act on (`settings`: the app's, for
    the merchant's notifications).

    A webhook that cannot be applied (a bug, not a database error: marking it
    fails too then) is kept as ignored and logged, so that it never holds up
    the others nor the worker's deliveries."""
    done = 0
    for row in store.pending_webhooks(batch):
        try:
            if row["topic"] in COMPLIANCE_TOPICS:
                done += privacy.act(store, row, now, settings or {})
                continue
            report, why = read_report(row["topic"], parse_body(row["body"].encode()))
            if report is None:  # kept by a release that read webhooks otherwise
                assert why is not None  # read_report gives one or the other
                done += store.apply_webhook(row["id"], now, None, partial(_ignored, why))
            else:
                done += store.apply_webhook(row["id"], now, report.find,
                                            partial(judge, report=report, now=now, days=days))
        except Exception as error:
            log.exception("Shopify webhook %s could not be applied", row["id"])
            done += store.apply_webhook(row["id"], now, None, partial(
                _ignored, f"could not be applied ({type(error).__name__})"))
    return done
