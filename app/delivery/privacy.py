"""Acting on Shopify's compliance webhooks (app/shopify/compliance.py reads
them), kept pending by app/intake/shopify_webhooks.py: the worker's
`apply_pending` (webhooks.py) hands each to `act`, at its next pass, in the
order they came. Each is acted on once: the store marks the webhook applied in
the transaction that does the work, so a second worker, or Shopify's retry of
it (the same X-Shopify-Webhook-Id, kept once), does nothing more.

- customers/data_request: an export of every row about the customer, kept in
  privacy_exports for /admin, and the merchant told (the notification outbox);
- customers/redact: the customer's rows erased (app/store/privacy.py says
  how), once no worker holds one of their events: until then the webhook stays
  pending, and is tried again at the next pass;
- shop/redact: everything the shop left erased.

After an erasure the store scrubs its files, so that no deleted byte remains.
"""

import json
import logging
from collections.abc import Mapping
from functools import partial
from typing import Any

from ..notifications import messages
from ..shopify.compliance import CUSTOMER_REDACT, DATA_REQUEST, read_request
from ..shopify.webhooks import parse_body
from ..store.base import Found, SqlStore, Subject
from ..store.rows import PendingWebhook

log = logging.getLogger(__name__)

WEBHOOK_SOURCE = "webhook"  # privacy_exports.source: made for a customers/data_request


def export_document(subject: Subject, found: Found, now: float,
                    data_request_id: str | None = None) -> dict[str, Any]:
    """An export: whom it is about, when it was made, and every row found, by
    table, each with its id and every column as stored (JSON: Any)."""
    return {"customer": {"id": subject.customer_id, "email": subject.email},
            "data_request_id": data_request_id, "exported_at": now, "tables": found}


def act(store: SqlStore, row: PendingWebhook, now: float, settings: Mapping[str, Any]) -> bool:
    """Act on the pending compliance webhook `row`; False while an erasure
    waits for a worker's delivery to finish. `settings`: the app's, for the
    merchant's notification channels."""
    request, why = read_request(row["topic"], parse_body(row["body"].encode()))
    if request is None:  # receipt() keeps only readable ones pending
        raise ValueError(why)
    subject = Subject(request.customer_id, request.email)
    if request.topic == DATA_REQUEST:
        def document(found: Found) -> str:
            return json.dumps(export_document(subject, found, now, request.data_request_id),
                              ensure_ascii=False)
        export_id = store.export_request(
            subject, now, WEBHOOK_SOURCE, document,
            partial(messages.data_request_messages, data_request_id=request.data_request_id,
                    settings=settings, now=now),
            webhook=row["id"], data_request_id=request.data_request_id)
        if export_id is not None:
            log.info("compliance webhook %s: data request answered with export %s",
                     row["id"], export_id)
        return True
    if request.topic == CUSTOMER_REDACT:
        erased = store.redact(subject, now, webhook=row["id"])
        if erased is None:
            log.info("compliance webhook %s: waits for a delivery to finish", row["id"])
            return False
    else:
        erased = store.redact_shop(now, webhook=row["id"])
    if erased.acted:
        store.scrub()
        log.info("compliance webhook %s (%s): erased %s", row["id"], request.topic,
                 erased.counts)
    return True
