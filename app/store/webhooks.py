"""The shopify_webhooks table: each webhook Shopify sent, kept once (by its
delivery and by its Shopify event), then applied to the event it is about, in
one transaction guarded against the worker's writes.
"""

from collections.abc import Callable, Mapping
from typing import cast

from ..event import Event
from .rows import Connection, PendingWebhook, WebhookShown
from .shared import _PENDING, Statements, _assignments, _event, _lock_ids

# What a webhook's judge decides: (status, note, the event's columns to change or None).
Judgement = tuple[str, str | None, Mapping[str, object] | None]

# How a Shopify webhook's event is found: by its id, or by its draft order's.
_WEBHOOK_KEYS = ("id", "draft_order_id")


class _Changed(Exception):
    """An event changed while a webhook about it was judged: roll back."""


class WebhookStatements(Statements):
    """Mixed into SqlStore."""

    # --- Shopify's webhooks (app/intake/shopify_webhooks.py keeps them,
    # app/delivery/webhooks.py applies them). ---

    def add_webhook(self, webhook_id: str, shopify_event_id: str | None, topic: str,
                    shop_domain: str | None, now: float, body: str, status: str,
                    note: str | None = None) -> bool:
        """Keep a webhook Shopify sent, as `status` (pending, or ignored with a
        `note`), unless the same delivery (its webhook id) or the same event (its
        Shopify event id, the same for every subscription's copy) was kept before.
        Returns whether it was kept now. On PostgreSQL an event id is locked
        first, so two copies arriving together cannot both be kept."""
        with self._connect(write=True) as conn:
            if shopify_event_id is not None:
                if self.KEY_LOCKS:
                    conn.execute(self.KEY_LOCKS,
                                 (_lock_ids([f"shopify-event:{shopify_event_id}"]),))
                if conn.execute("SELECT 1 FROM shopify_webhooks WHERE shopify_event_id = ?"
                                " LIMIT 1", (shopify_event_id,)).fetchone() is not None:
                    return False
            return bool(conn.execute(
                "INSERT INTO shopify_webhooks (webhook_id, shopify_event_id, topic, shop_domain,"
                " received_at, body, status, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (webhook_id) DO NOTHING",
                (webhook_id, shopify_event_id, topic, shop_domain, now, body, status, note),
            ).rowcount)

    def pending_webhooks(self, limit: int) -> list[PendingWebhook]:
        """The oldest `limit` webhooks not yet applied, in the order they came."""
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT id, topic, body FROM shopify_webhooks WHERE status = {_PENDING}"
                " ORDER BY id LIMIT ?", (limit,)).fetchall()
        return [cast(PendingWebhook, dict(row)) for row in rows]

    def apply_webhook(self, webhook: int, now: float, find: tuple[str, object] | None,
                      judge: Callable[[Event | None], Judgement]) -> bool:
        """Apply one pending webhook in one transaction: find its event
        (`find`: ("id" or "draft_order_id", value), or None), let
        `judge(event or None)` say (status, note, event columns to change or None),
        change them and record the webhook's outcome. False, changing nothing,
        when another worker applied the webhook first, or the event changed while
        it was judged or is leased to a worker (then the webhook stays pending
        for the next pass)."""
        try:
            with self._connect(write=True) as conn:
                return self._apply_webhook(conn, webhook, now, find, judge)
        except _Changed:
            return False

    def _apply_webhook(self, conn: Connection, webhook: int, now: float,
                       find: tuple[str, object] | None,
                       judge: Callable[[Event | None], Judgement]) -> bool:
        """`apply_webhook`'s statements, inside its write transaction."""
        # First, so that a second worker applying it waits here, then skips it.
        if not conn.execute(f"UPDATE shopify_webhooks SET processed_at = ?"
                            f" WHERE id = ? AND status = {_PENDING}",
                            (now, webhook)).rowcount:
            return False
        event = None
        if find is not None:
            column, value = find
            if column not in _WEBHOOK_KEYS:
                raise ValueError(f"events are not found by {column}")
            event = _event(conn.execute(f"SELECT * FROM events WHERE {column} = ?"
                                        " ORDER BY created_at LIMIT 1", (value,)).fetchone())
        status, note, changes = judge(event)
        if changes:
            assert event is not None, "a judge changes columns only of an event it was given"
            assignments, values = _assignments(changes)
            # Guarded by updated_at, which every claim and settle stamps: a
            # worker's write in between wins, and this webhook is judged again.
            # Nor while a worker holds the lease (a re-read's claim stamps no
            # updated_at): its settle, judged on what it read, would overwrite
            # this news; the webhook waits and is judged after it.
            if not conn.execute(f"UPDATE events SET updated_at = ?{assignments}"
                                " WHERE id = ? AND updated_at = ?"
                                " AND (lease_until IS NULL OR lease_until <= ?)",
                                (now, *values, event["id"],
                                 event["updated_at"], now)).rowcount:
                raise _Changed()
        draft_order_id = find[1] if find is not None and find[0] == "draft_order_id" else None
        if event is not None:
            draft_order_id = event["draft_order_id"]
        # A webhook about no event of ours keeps no body: an ordinary order's
        # orders/create names its customer, and every order of the shop sends one.
        no_body = "" if event is not None else ", body = ''"
        conn.execute("UPDATE shopify_webhooks SET status = ?, note = ?, event_id = ?,"
                     f" draft_order_id = ?{no_body} WHERE id = ?",
                     (status, note, None if event is None else event["id"], draft_order_id,
                      webhook))
        return True

    def event_webhooks(self, event_id: str, count: int) -> tuple[list[WebhookShown], int]:
        """An event's latest `count` webhooks, oldest first, and how many it has."""
        rows, total = self._latest("shopify_webhooks", "id, webhook_id, topic, received_at,"
                                   " status, note, processed_at", event_id, count)
        return cast(list[WebhookShown], rows), total
