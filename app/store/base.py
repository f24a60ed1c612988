"""Every statement of the event store, written once for SQLite and PostgreSQL.

Statements use `?` placeholders and the SQL both dialects share. A backend
supplies what differs: `_connect(write)` (a connection; a transaction that
serializes writers where needed when `write`), `_migrating()` (a transaction
holding the schema lock), and the dialect words in capitals below.
"""

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, cast

from ..event import Event
from ..states import ACTIVE, SETTLED, EventStatus, WebhookStatus
from .credentials import CredentialStatements
from .migrations import MIGRATIONS, Migration, SchemaUpgradeRequired
from .rows import (
    Answer,
    AnswerShown,
    Connection,
    EventSummary,
    Notification,
    NotificationShown,
    PendingWebhook,
    WebhookShown,
)

# `Any` below is JSON (a payload) or a row as the database driver hands it over.

# What a webhook's judge decides: (status, note, the event's columns to change or None).
Judgement = tuple[str, str | None, Mapping[str, object] | None]

# Columns the worker may change when it settles an event.
_SETTLEABLE = {
    "status", "attempts", "failures", "throttles", "next_attempt_at", "poll_url",
    "poll_deadline", "draft_order_id", "draft_order_name", "invoice_url",
    "error_code", "error_detail", "maybe_posted", "prepared", "error_lines",
    # A draft order's lifecycle (migration 4).
    "draft_state", "draft_updated_at", "order_id", "order_name", "order_financial_status",
    "invoice_status", "invoice_detail", "invoice_maybe_sent", "reconcile_at", "reconcile_count",
}
# Of those, the columns kept as JSON text.
_JSON_COLUMNS = ("prepared", "error_lines")


def _literals(*statuses: str) -> str:
    """Statuses as SQL literals (a list of them for IN), written into the
    statements rather than bound, so each statement's text, and its plan on the
    (status, next_attempt_at) index, stays that of a hand-written one."""
    return ", ".join(f"'{status}'" for status in statuses)


_QUEUED = _literals(EventStatus.QUEUED)
_PROCESSING = _literals(EventStatus.PROCESSING)
_FAILED = _literals(EventStatus.FAILED)
_COMPLETED = _literals(EventStatus.COMPLETED)
_ACTIVE = _literals(*ACTIVE)
_SETTLED = _literals(*SETTLED)
# A Shopify webhook not yet applied, a notification not sent: both enums' PENDING
# is this one word (tests/test_states.py checks).
_PENDING = _literals(WebhookStatus.PENDING)

# How a Shopify webhook's event is found: by its id, or by its draft order's.
_WEBHOOK_KEYS = ("id", "draft_order_id")

# Columns a submission rate can be counted by.
_RATE_KEYS = {"client_ip", "customer_id"}

# The merchant's event log lists these, without the bulky cart and payload.
_SUMMARY = ("id, status, customer_id, line_count, attempts, draft_order_id,"
            " draft_order_name, error_code, error_detail, created_at, updated_at")


class Pruned(NamedTuple):
    """What `prune` deleted, and whether it found nothing more to delete."""
    events: int
    answers: int
    done: bool


class RateLimit(NamedTuple):
    """At most `most` events whose `column` (client_ip or customer_id) is `value`
    created since `since`."""
    column: str
    value: object
    most: int
    since: float


class Added(NamedTuple):
    """What `add` did with a submission."""
    event_id: str | None      # the event that stands for it; None when refused
    new: bool                 # whether that event was made now
    status: str | None        # that event's status
    limited_by: str | None = None  # the column of the RateLimit that refused it
    oldest: float | None = None    # when the oldest event that limit counted arrived


class StoredPayload(NamedTuple):
    """A draft order payload as an event keeps it, made once per submission by
    `stored_payload`: the receiver checks its size (the bound on what an event
    keeps, app/intake/cart.py) and `add` writes it, with no second serialization inside
    the write transaction."""
    text: str        # compact JSON
    line_count: int


def stored_payload(payload: Mapping[str, Any]) -> StoredPayload:
    return StoredPayload(json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
                         len(payload["draft_order"]["line_items"]))


def _lock_ids(keys: Iterable[str]) -> list[int]:
    """Advisory lock ids for `keys`, in ascending order: every transaction takes
    its locks in one order, so two can never wait for each other in a cycle."""
    return sorted({int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big",
                                  signed=True) for key in keys})


def _event(row: Any) -> Event | None:
    if row is None:
        return None
    event = dict(row)
    event["payload"] = json.loads(event["payload"])
    for column in _JSON_COLUMNS:
        if event.get(column) is not None:
            event[column] = json.loads(event[column])
    return cast(Event, event)


class _Changed(Exception):
    """An event changed while a webhook about it was judged: roll back."""


class SqlStore(CredentialStatements):
    GREATEST: ClassVar[str]                # the larger of two values
    SKIP_LOCKED: ClassVar[str]             # ends the claim's choice of event
    KEY_LOCKS: ClassVar[str | None] = None  # makes `add` wait for others adding under the same keys
    TABLES: ClassVar[str]                  # names the tables, as `name`
    SERIAL: ClassVar[str]                  # an auto-numbered primary key

    migrations: tuple[Migration, ...] = MIGRATIONS

    if TYPE_CHECKING:  # each backend's, declared for the type checker only
        def _connect(self, write: bool = False) -> AbstractContextManager[Connection]: ...

        def _migrating(self) -> AbstractContextManager[Connection]: ...

    # --- Schema. ---

    def init_schema(self) -> None:
        """Apply every pending migration, as `flask --app app init-db` does."""
        self.migrate()

    def migrate(self, only_additive: bool = False) -> list[str]:
        """Apply the pending migrations in order, in one transaction under the
        schema lock, so processes starting together apply each exactly once.

        With `only_additive` (start-up), raise SchemaUpgradeRequired, changing
        nothing, if a pending one is not additive. Returns what was done, as lines.
        """
        done: list[str] = []
        with self._migrating() as conn:
            present = self._tables(conn)
            if "schema_migrations" not in present:
                conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY,"
                             " applied_at DOUBLE PRECISION NOT NULL)")
                if "events" in present:
                    # Made by the release before migrations existed: that schema is 1.
                    self._record(conn, 1)
                    done.append("recorded the existing tables as schema version 1")
            version = conn.execute("SELECT COALESCE(MAX(version), 0) AS version"
                                   " FROM schema_migrations").fetchone()["version"]
            pending = [m for m in self.migrations if m.version > version]
            unsafe = [m for m in pending if not m.additive]
            if only_additive and unsafe:
                raise SchemaUpgradeRequired(unsafe[0])
            for migration in pending:
                for statement in migration.statements:
                    conn.execute(statement.replace("{serial}", self.SERIAL))
                self._record(conn, migration.version)
                done.append(f"applied migration {migration.version}: {migration.description}")
        return done or [f"the schema is up to date (version {version})"]

    def _record(self, conn: Connection, version: int) -> None:
        conn.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                     (version, time.time()))

    def _tables(self, conn: Connection) -> set[str]:
        return {row["name"] for row in conn.execute(self.TABLES)}

    def missing_tables(self) -> list[str]:
        """Tables of the schema that the database lacks (none once migrated)."""
        with self._connect() as conn:
            return sorted({"events", "answers"} - self._tables(conn))

    def ping(self) -> None:
        with self._connect() as conn:
            conn.execute("SELECT 1 FROM events LIMIT 1").fetchall()

    # --- Submissions (app/intake/routes.py). ---

    def add(self, event_id: str, received: str, payload: StoredPayload, customer_id: int | None,
            now: float, fingerprint: str | None = None, client_ip: str | None = None,
            dedupe_since: float | None = None, limits: Sequence[RateLimit] = ()) -> Added:
        """Store a submission in one transaction: unless the same one (same
        fingerprint) arrived since `dedupe_since` and has not failed, or one of
        `limits` (RateLimit) is used up. Returns an Added saying which.

        `received` is the body as sent, or as much of it as the event keeps, for
        the merchant's event log; `payload` is a StoredPayload.
        """
        with self._connect(write=True) as conn:
            return self._add(conn, event_id, received, payload, customer_id, now,
                             fingerprint, client_ip, dedupe_since, limits)

    def _add(self, conn: Connection, event_id: str, received: str, payload: StoredPayload,
             customer_id: int | None, now: float, fingerprint: str | None = None,
             client_ip: str | None = None, dedupe_since: float | None = None,
             limits: Sequence[RateLimit] = ()) -> Added:
        """`add`'s statements, inside the caller's write transaction. The look-up,
        the counts and the insert are one atomic step: on PostgreSQL each
        submission first locks its fingerprint and rate keys (SQLite lets one
        writer in at a time), so a double click cannot insert twice and a burst
        cannot overshoot a limit."""
        if any(limit.column not in _RATE_KEYS for limit in limits):
            raise ValueError(f"not rate keys: {[limit.column for limit in limits]}")
        dedupe = fingerprint is not None and dedupe_since is not None
        keys = [f"{limit.column}:{limit.value}" for limit in limits]
        if dedupe:
            keys.append(f"fingerprint:{fingerprint}")
        if self.KEY_LOCKS and keys:
            conn.execute(self.KEY_LOCKS, (_lock_ids(keys),))
        if dedupe:
            row = conn.execute(
                "SELECT id, status FROM events WHERE fingerprint = ? AND created_at >= ?"
                f" AND status <> {_FAILED} ORDER BY created_at DESC LIMIT 1",
                (fingerprint, dedupe_since),
            ).fetchone()
            if row is not None:
                return Added(row["id"], False, row["status"])
        for limit in limits:
            row = conn.execute(
                f"SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM events"
                f" WHERE {limit.column} = ? AND created_at >= ?", (limit.value, limit.since),
            ).fetchone()
            if row["n"] >= limit.most:
                return Added(None, False, None, limit.column, row["oldest"])
        conn.execute(
            "INSERT INTO events (id, status, customer_id, line_count, received, payload,"
            " fingerprint, client_ip, next_attempt_at, created_at, updated_at)"
            f" VALUES (?, {_QUEUED}, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (event_id, customer_id, payload.line_count, received, payload.text,
             fingerprint, client_ip, now, now, now),
        )
        return Added(event_id, True, EventStatus.QUEUED)

    def get(self, event_id: str) -> Event | None:
        with self._connect() as conn:
            return _event(conn.execute("SELECT * FROM events WHERE id = ?", (event_id,)).fetchone())

    def answers(self, event_id: str) -> list[Answer]:
        with self._connect() as conn:
            rows = conn.execute("SELECT * FROM answers WHERE event_id = ? ORDER BY id",
                                (event_id,)).fetchall()
        return [cast(Answer, dict(row)) for row in rows]

    def latest_answers(self, event_id: str, count: int,
                       body_chars: int) -> tuple[list[AnswerShown], int]:
        """An event's latest `count` answers, oldest first, with each body cut to
        `body_chars` characters and its full length as `body_length`, and how many
        answers the event has: what its page shows, read in bounded memory."""
        rows, total = self._latest("answers", "id, event_id, at, method, url, status,"
                                   " SUBSTR(body, 1, ?) AS body, LENGTH(body) AS body_length",
                                   event_id, count, (body_chars,))
        return cast(list[AnswerShown], rows), total

    def _latest(self, table: str, columns: str, event_id: str, count: int,
                column_params: tuple[object, ...] = ()) -> tuple[list[dict[str, Any]], int]:
        """An event's latest `count` rows of `table` (the `columns`, which may take
        `column_params`), oldest first, and how many it has: what the admin's
        event page shows, read in bounded memory. Names come from code, never input."""
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT {columns} FROM {table} WHERE event_id = ? ORDER BY id DESC LIMIT ?",
                (*column_params, event_id, count)).fetchall()
            total: int = conn.execute(f"SELECT COUNT(*) AS n FROM {table} WHERE event_id = ?",
                                      (event_id,)).fetchone()["n"]
        return [dict(row) for row in reversed(rows)], total

    # --- Delivery (app/delivery/worker.py). ---

    def claim(self, owner: str, now: float, lease_seconds: float,
              post_window: float = 0.0) -> Event | None:
        """Lease the most overdue active event to `owner`, or return None; the
        event's `updated_at` says when (the worker reads its lookups by it).

        An event whose lease ran out (its worker died mid-flight) is due again at
        once, even though its worker may have set `next_attempt_at` ahead, at most
        `post_window` seconds, to when its POST's answer can no longer come (see
        mark_posting). That bound keeps the search on the (status,
        next_attempt_at) index rather than on every event waiting for a retry.
        """
        with self._connect(write=True) as conn:
            row = conn.execute(
                f"UPDATE events SET status = {_PROCESSING}, lease_owner = ?, lease_until = ?,"
                " updated_at = ?"
                " WHERE id = (SELECT id FROM events"
                f"             WHERE status IN ({_ACTIVE}) AND next_attempt_at <= ?"
                "               AND (lease_until IS NULL AND next_attempt_at <= ?"
                "                    OR lease_until <= ?)"
                f"            ORDER BY next_attempt_at LIMIT 1 {self.SKIP_LOCKED})"
                " RETURNING *",
                (owner, now + lease_seconds, now, now + post_window, now, now),
            ).fetchone()
        return _event(row)

    def renew_lease(self, event_id: str, owner: str, now: float, lease_seconds: float) -> bool:
        """Extend `owner`'s live lease on the event (the worker's heartbeat, while
        it delivers). False, changing nothing, when the lease is no longer its own."""
        with self._connect(write=True) as conn:
            return bool(conn.execute(
                "UPDATE events SET lease_until = ?"
                " WHERE id = ? AND lease_owner = ? AND lease_until > ?",
                (now + lease_seconds, event_id, owner, now),
            ).rowcount)

    def mark_posting(self, event_id: str, owner: str, now: float, lease_seconds: float,
                     answer_by: float) -> bool:
        """Record, right before a POST leaves, that Shopify may create a draft order
        for this event (whoever takes it over next must look before posting again)
        and that the POST's answer can come until `answer_by` (a look before then
        may miss a draft still being made), and renew the lease for the call.
        False, changing nothing, when the lease has run out or passed to another
        worker: then the POST must not leave."""
        return self._flag_call("maybe_posted", event_id, owner, now, lease_seconds, answer_by)

    def _flag_call(self, flag: str, event_id: str, owner: str, now: float, lease_seconds: float,
                   answer_by: float) -> bool:
        """Set `flag` (a column named by the caller, never by input), the time the
        call's answer can come until, and the lease, unless the lease is lost."""
        with self._connect(write=True) as conn:
            return bool(conn.execute(
                f"UPDATE events SET {flag} = 1, next_attempt_at = ?, lease_until = ?"
                " WHERE id = ? AND lease_owner = ? AND lease_until > ?",
                (answer_by, now + lease_seconds, event_id, owner, now),
            ).rowcount)

    def settle(self, event_id: str, owner: str, now: float,
               answer: Mapping[str, object] | None = None,
               notifications: Iterable[Mapping[str, str]] = (), **changes: object) -> bool:
        """Record Shopify's answer and the event's next state, releasing the lease,
        and queue the merchant's `notifications` (app/notifications/messages.py) in
        the same transaction: none is lost or half-written, whenever we crash.

        Returns False, changing nothing, when the lease is no longer `owner`'s:
        another worker has taken the event over and its word wins.
        """
        unknown = set(changes) - _SETTLEABLE
        if unknown:
            raise ValueError(f"not settleable: {sorted(unknown)}")
        changes = {column: json.dumps(value) if column in _JSON_COLUMNS and value is not None
                   else value for column, value in changes.items()}
        assignments = "".join(f", {column} = ?" for column in changes)
        with self._connect(write=True) as conn:
            updated = conn.execute(
                f"UPDATE events SET lease_owner = NULL, lease_until = NULL, updated_at = ?"
                f"{assignments} WHERE id = ? AND lease_owner = ?",
                (now, *changes.values(), event_id, owner),
            ).rowcount
            if updated and answer is not None:
                conn.execute(
                    "INSERT INTO answers (event_id, at, method, url, status, body)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (event_id, now, answer["method"], answer["url"], answer["status"],
                     answer["body"]),
                )
            if updated:
                self._queue_notifications(conn, event_id, now, notifications)
        return bool(updated)

    def next_due_at(self, post_window: float = 0.0) -> float | None:
        """When the earliest active event becomes claimable, by `claim` with the
        same `post_window`, or None if none is active."""
        with self._connect() as conn:
            return cast(float | None, conn.execute(
                "SELECT MIN(CASE WHEN lease_until IS NULL THEN next_attempt_at"
                f"           ELSE {self.GREATEST}(lease_until, next_attempt_at - ?) END) AS due"
                f" FROM events WHERE status IN ({_ACTIVE})", (post_window,),
            ).fetchone()["due"])

    # --- The merchant's event log (app/web/admin.py) and `flask doctor`. ---

    def list_events(self, limit: int, offset: int = 0) -> list[EventSummary]:
        """One page of events, newest first (the id breaks ties, so pages never overlap)."""
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT {_SUMMARY} FROM events ORDER BY created_at DESC, id DESC"
                " LIMIT ? OFFSET ?", (limit, offset),
            ).fetchall()
        return [cast(EventSummary, dict(row)) for row in rows]

    def count_events(self) -> int:
        with self._connect() as conn:
            return cast(int, conn.execute("SELECT COUNT(*) AS n FROM events").fetchone()["n"])

    def retry(self, event_id: str, now: float) -> bool:
        """Queue a failed event again, as if new but keeping `attempts` and its answers;
        what a preparation read (stock, a company contact) is read again.

        Only a failed event moves (one UPDATE guarded by its status), so a retry
        can never disturb an event a worker holds; returns whether it moved.
        """
        with self._connect(write=True) as conn:
            updated = conn.execute(
                f"UPDATE events SET status = {_QUEUED}, error_code = NULL, error_detail = NULL,"
                " error_lines = NULL, prepared = NULL, failures = 0, throttles = 0,"
                " poll_url = NULL, poll_deadline = NULL,"
                " lease_owner = NULL, lease_until = NULL, next_attempt_at = ?, updated_at = ?"
                f" WHERE id = ? AND status = {_FAILED}",
                (now, now, event_id),
            ).rowcount
        return bool(updated)

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
            unknown = set(changes) - _SETTLEABLE
            if unknown:
                raise ValueError(f"not settleable: {sorted(unknown)}")
            assignments = "".join(f", {column} = ?" for column in changes)
            # Guarded by updated_at, which every claim and settle stamps: a
            # worker's write in between wins, and this webhook is judged again.
            # Nor while a worker holds the lease (a re-read's claim stamps no
            # updated_at): its settle, judged on what it read, would overwrite
            # this news; the webhook waits and is judged after it.
            if not conn.execute(f"UPDATE events SET updated_at = ?{assignments}"
                                " WHERE id = ? AND updated_at = ?"
                                " AND (lease_until IS NULL OR lease_until <= ?)",
                                (now, *changes.values(), event["id"],
                                 event["updated_at"], now)).rowcount:
                raise _Changed()
        draft_order_id = find[1] if find is not None and find[0] == "draft_order_id" else None
        if event is not None:
            draft_order_id = event["draft_order_id"]
        conn.execute("UPDATE shopify_webhooks SET status = ?, note = ?, event_id = ?,"
                     " draft_order_id = ? WHERE id = ?",
                     (status, note, None if event is None else event["id"], draft_order_id,
                      webhook))
        return True

    def event_webhooks(self, event_id: str, count: int) -> tuple[list[WebhookShown], int]:
        """An event's latest `count` webhooks, oldest first, and how many it has."""
        rows, total = self._latest("shopify_webhooks", "id, webhook_id, topic, received_at,"
                                   " status, note, processed_at", event_id, count)
        return cast(list[WebhookShown], rows), total

    # --- Notifications (app/notifications: messages.py builds them, sender.py sends them). ---

    def _queue_notifications(self, conn: Connection, event_id: str, now: float,
                             notifications: Iterable[Mapping[str, str]]) -> None:
        """`settle`'s outbox: each row (kind, channel, body) pending, due now."""
        for row in notifications:
            conn.execute(
                "INSERT INTO notifications (event_id, kind, channel, body, status, attempts,"
                f" next_attempt_at, created_at) VALUES (?, ?, ?, ?, {_PENDING}, 0, ?, ?)",
                (event_id, row["kind"], row["channel"], row["body"], now, now),
            )

    def claim_notification(self, now: float, lease_seconds: float) -> Notification | None:
        """Take the most overdue pending notification, counting the attempt, and
        put it off `lease_seconds`: no other notifier sends it meanwhile, and a
        notifier that dies while sending leaves it due again then. Its new
        `next_attempt_at` is the claim's token for `finish_notification`.
        None when none is due."""
        with self._connect(write=True) as conn:
            row = conn.execute(
                "UPDATE notifications SET next_attempt_at = ?, attempts = attempts + 1"
                " WHERE id = (SELECT id FROM notifications"
                f"             WHERE status = {_PENDING} AND next_attempt_at <= ?"
                f"            ORDER BY next_attempt_at LIMIT 1 {self.SKIP_LOCKED})"
                " RETURNING *", (now + lease_seconds, now),
            ).fetchone()
        return None if row is None else cast(Notification, dict(row))

    def finish_notification(self, claimed: Notification, status: str,
                            next_attempt_at: float | None = None,
                            last_error: str | None = None) -> bool:
        """Record a send's result (status sent, failed, or pending again at
        `next_attempt_at`) for the notification `claimed`, unless its lease ran
        out and another notifier claimed it since; returns whether it was recorded."""
        with self._connect(write=True) as conn:
            return bool(conn.execute(
                "UPDATE notifications SET status = ?, last_error = ?,"
                " next_attempt_at = COALESCE(?, next_attempt_at)"
                f" WHERE id = ? AND next_attempt_at = ? AND status = {_PENDING}",
                (status, last_error, next_attempt_at, claimed["id"],
                 claimed["next_attempt_at"]),
            ).rowcount)

    def next_notification_at(self) -> float | None:
        """When the earliest pending notification falls due, or None."""
        with self._connect() as conn:
            return cast(float | None, conn.execute(
                "SELECT MIN(next_attempt_at) AS due FROM notifications"
                f" WHERE status = {_PENDING}").fetchone()["due"])

    def notifications(self, event_id: str, count: int) -> tuple[list[NotificationShown], int]:
        """An event's latest `count` notifications, oldest first, without their
        bodies, and how many it has: what its page shows."""
        rows, total = self._latest("notifications", "id, kind, channel, status, attempts,"
                                   " next_attempt_at, last_error, created_at", event_id, count)
        return cast(list[NotificationShown], rows), total

    # --- A draft order's lifecycle (app/delivery/worker.py: its invoice, its re-reads). ---

    def mark_invoicing(self, event_id: str, owner: str, now: float, lease_seconds: float,
                       answer_by: float) -> bool:
        """Record, right before the invoice's send leaves, that Shopify may send it
        (whoever takes the event over re-reads the draft before sending again),
        as mark_posting does for the draft's POST; False when the send must not leave."""
        return self._flag_call("invoice_maybe_sent", event_id, owner, now, lease_seconds,
                               answer_by)

    def claim_reconcile(self, owner: str, now: float, lease_seconds: float) -> Event | None:
        """Lease to `owner` the completed event whose draft is most overdue for a
        re-read (reconcile_at <= now), or return None. The search runs on the
        events_reconcile index; on PostgreSQL SKIP LOCKED lets it pass over any
        row another transaction holds, so it never waits behind a submission or
        a claim. An idle worker asks twice a second, so it first looks without
        the write lock (SQLite's is the whole database's) whether any is due."""
        with self._connect() as conn:
            if conn.execute("SELECT 1 FROM events WHERE reconcile_at <= ? LIMIT 1",
                            (now,)).fetchone() is None:
                return None
        with self._connect(write=True) as conn:
            row = conn.execute(
                "UPDATE events SET lease_owner = ?, lease_until = ?"
                " WHERE id = (SELECT id FROM events"
                "             WHERE reconcile_at <= ? AND (lease_until IS NULL OR lease_until <= ?)"
                f"              AND status = {_COMPLETED}"
                f"            ORDER BY reconcile_at LIMIT 1 {self.SKIP_LOCKED})"
                " RETURNING *",
                (owner, now + lease_seconds, now, now),
            ).fetchone()
        return _event(row)

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

    # --- Retention (the idle worker and `flask --app app prune`). ---

    def prune(self, before: float, batch: int,
              go_on: Callable[[], bool] = lambda: True) -> Pruned:
        """Delete the settled (completed or failed) events last changed before
        `before`, with their answers, notifications and Shopify webhooks (and a
        batch of old webhooks about no event), `batch` events to a
        transaction so that no submission or claim waits long behind it; between
        batches, stop once `go_on()` is false. Queued and processing events are
        never deleted."""
        events = answers = 0
        self._prune_unmatched_webhooks(before, batch)
        while True:
            removed, removed_answers = self._prune_batch(before, batch)
            events, answers = events + removed, answers + removed_answers
            if removed < batch:
                return Pruned(events, answers, done=True)
            if not go_on():
                return Pruned(events, answers, done=False)

    def _prune_batch(self, before: float, batch: int) -> tuple[int, int]:
        # A settled event was due (next_attempt_at) before it was claimed and
        # settled (updated_at): the redundant bound lets the index on (status,
        # next_attempt_at) reach the old events without reading every recent one.
        with self._connect(write=True) as conn:
            ids = [row["id"] for row in conn.execute(
                f"SELECT id FROM events WHERE status IN ({_SETTLED})"
                " AND next_attempt_at < ? AND updated_at < ?"
                f" LIMIT ? {self.SKIP_LOCKED}", (before, before, batch))]
            if not ids:
                return 0, 0
            marks = ", ".join("?" * len(ids))
            answers = conn.execute(f"DELETE FROM answers WHERE event_id IN ({marks})",
                                   ids).rowcount
            conn.execute(f"DELETE FROM notifications WHERE event_id IN ({marks})", ids)
            conn.execute(f"DELETE FROM shopify_webhooks WHERE event_id IN ({marks})", ids)
            conn.execute(f"DELETE FROM events WHERE id IN ({marks})", ids)
        return len(ids), answers

    def _prune_unmatched_webhooks(self, before: float, batch: int) -> None:
        """Webhooks about no event of ours (ignored), received before `before`:
        kept until then only so that Shopify's retries of them are known."""
        with self._connect(write=True) as conn:
            conn.execute(
                "DELETE FROM shopify_webhooks WHERE id IN (SELECT id FROM shopify_webhooks"
                f" WHERE event_id IS NULL AND status <> {_PENDING} AND received_at < ?"
                " LIMIT ?)", (before, batch))
