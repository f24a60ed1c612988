"""A customer's personal data, found across the tables, exported, erased; and
the shop's, erased (app/delivery/privacy.py acts on Shopify's compliance
webhooks with these, app/ops/privacy.py on the merchant's commands).

Where a customer's data lives (docs/privacy.md lists each field):

- events: `customer_id`, and the stored draft order (`payload`: its email,
  addresses, note, attributes) and the request's excerpt (`received`), with
  `client_ip`, `fingerprint` and what a preparation read (`prepared`);
- answers: Shopify's answers to that event's calls;
- shopify_webhooks: Shopify's webhooks about that event, and any other body
  naming the customer (a compliance webhook's own);
- notifications: the merchant's messages about that event, or naming the
  customer;
- privacy_exports: the exports made for that customer's data requests, and
  any other export naming them (an event naming two customers is in both's).

A customer is found by id (events.customer_id, or a `customer_id` or
`customer.id` in a stored JSON body) and by email: anywhere in a stored body,
as a whole address, case-insensitively. The search is a full scan of the
text columns (LIKE), confirmed row by row here: tables are bounded by
RETENTION_DAYS, and a request comes a few times a month at most.

Erasure leaves no bytes behind: SQLite deletes with `secure_delete` on and the
WAL is checkpointed and truncated after (sqlite.py); PostgreSQL rewrites the
tables with VACUUM FULL (postgres.py), so no dead tuple keeps the old rows.
"""

import json
import re
import string
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from ..ids import MAX_BIGINT
from ..states import ACTIVE, EventStatus, WebhookStatus
from .rows import Connection
from .shared import _PENDING, Statements

REDACTED = "redacted"  # an active event's error_code once its customer's data is erased
REDACTED_DETAIL = "The customer's data was erased at their request."
# What an erased active event keeps as its draft order: no line, no customer.
EMPTY_PAYLOAD = '{"draft_order":{"line_items":[]}}'
# The tables a customer's data may be in, in the order an export lists them.
PERSONAL_TABLES = ("events", "answers", "shopify_webhooks", "notifications", "privacy_exports")
# What shop/redact empties besides (the shop's token, the admin's failed logins).
SHOP_TABLES = ("login_failures", "login_lockouts", "shopify_credentials", "oauth_states")
# shop/redact's order: answers before the events they reference.
_SHOP_ERASED = ("answers", "notifications", "privacy_exports", "shopify_webhooks", "events",
                *SHOP_TABLES)
SCRUB_TRIES, SCRUB_PAUSE_SECONDS = 20, 0.05  # SQLite's checkpoint, while readers hold the WAL
_ADDRESS_CHARS = r"[\w.%+'-]"  # characters that may surround an address in the same word
# Before it, any a local part may hold (RFC 5322's atext): x!a@ is not a@.
_LOCAL_CHARS = r"[\w.!#$%&'*+/=?^`{|}~-]"
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


class Subject(NamedTuple):
    """Whose data: a customer id, an email, or both (either matches)."""

    customer_id: int | None
    email: str | None

    def mentioned_in(self, text: str | None) -> bool:
        """Whether `text` (a stored body) names this customer: the whole email
        address, case-insensitively, or the id as a `customer_id` or a
        `customer`'s `id` in JSON."""
        if not text:
            return False
        if self.email and re.search(rf"(?<!{_LOCAL_CHARS}){re.escape(_fold(self.email))}"
                                    rf"(?!{_ADDRESS_CHARS})", _fold(text)):
            return True
        if self.customer_id is None or str(self.customer_id) not in text:
            return False
        try:
            return _names_customer(json.loads(text), self.customer_id)
        except (ValueError, RecursionError):
            return False


def _fold(text: str) -> str:
    """`text` with its ASCII letters lowercased, and only those: str.lower()
    makes other letters ASCII (the Kelvin sign a k), which would match
    another customer's address."""
    return text.translate(_ASCII_LOWER)


def _names_customer(value: Any, customer_id: int) -> bool:
    """Whether JSON `value` (Any) holds `customer_id` as a customer_id or a customer's id."""
    ids = (customer_id, str(customer_id))
    if isinstance(value, dict):
        customer = value.get("customer")
        if value.get("customer_id") in ids or isinstance(customer, dict) \
                and customer.get("id") in ids:
            return True
        return any(_names_customer(item, customer_id) for item in value.values())
    if isinstance(value, list):
        return any(_names_customer(item, customer_id) for item in value)
    return False


def _like(text: str) -> str:
    """A LIKE pattern finding `text` anywhere (escaped with a backslash)."""
    return "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"


# What was found: each table's rows (every column), by table name.
Found = dict[str, list[dict[str, Any]]]


class Erased(NamedTuple):
    """What an erasure did: rows deleted or anonymised, by table; `acted` is
    False when a compliance webhook had been acted on before (nothing done)."""

    counts: dict[str, int]
    acted: bool = True


class _Busy(Exception):
    """A worker holds one of the customer's events: roll back, try again later."""


class PrivacyStatements(Statements):
    """Mixed into SqlStore."""

    # The statements that overwrite what deleted rows left in the files: one for
    # the database (SQLite's checkpoint), or one a table (PostgreSQL's VACUUM FULL).
    SCRUB_DATABASE: ClassVar[str | None] = None
    SCRUB_TABLE: ClassVar[str | None] = None

    if TYPE_CHECKING:  # notifications.py's, declared for the type checker only
        def _queue_notifications(self, conn: Connection, event_id: str, now: float,
                                 notifications: Iterable[Mapping[str, str]]) -> None: ...

    def personal_data(self, subject: Subject) -> Found:
        """Every row of PERSONAL_TABLES about `subject`."""
        with self._connect() as conn:
            return self._find(conn, subject, lock=False)

    def export_request(self, subject: Subject, now: float, source: str,
                       document: Callable[[Found], str],
                       notifications: Callable[[int], Iterable[Mapping[str, str]]],
                       webhook: int | None = None, data_request_id: str | None = None
                       ) -> int | None:
        """Keep an export of `subject`'s data (`document(found)`, JSON text) for
        the merchant's /admin, and queue `notifications(export id)` telling them,
        in one transaction; with `webhook` (a customers/data_request's row), mark
        it applied and drop its body in the same one. Returns the export's id;
        None when the webhook was acted on before."""
        with self._connect(write=True) as conn:
            if webhook is not None and not self._take_webhook(conn, webhook, now):
                return None
            body = document(self._find(conn, subject, lock=False))
            export_id: int = conn.execute(
                "INSERT INTO privacy_exports (source, data_request_id, customer_id, email,"
                " created_at, body) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (source, data_request_id, subject.customer_id, subject.email, now, body),
            ).fetchone()["id"]
            self._queue_notifications(conn, "", now, notifications(export_id))
        return export_id

    def redact(self, subject: Subject, now: float, webhook: int | None = None) -> Erased | None:
        """Erase `subject`'s data, in one transaction: settled events deleted
        with their answers; active ones failed as `redacted`, their personal
        columns emptied; webhooks' bodies dropped; notifications and exports
        deleted. With `webhook` (a customers/redact's row), mark it applied and
        drop its body in the same transaction. None, changing nothing, while a
        worker holds one of the events (its lease): it finishes first, and the
        erasure is tried again at the next pass. Call `scrub()` after."""
        try:
            with self._connect(write=True) as conn:
                if webhook is not None and not self._take_webhook(conn, webhook, now):
                    return Erased({}, acted=False)
                return Erased(self._erase(conn, self._find(conn, subject, lock=True), now))
        except _Busy:
            return None

    def redact_shop(self, now: float, webhook: int | None = None) -> Erased:
        """Erase everything the shop left (shop/redact): every event, answer,
        notification, export and webhook (but `webhook`'s own row, kept without
        its body so that Shopify's retry of it is known), the shop's token and
        the admin's login failures. Call `scrub()` after."""
        counts: dict[str, int] = {}
        with self._connect(write=True) as conn:
            if webhook is not None and not self._take_webhook(conn, webhook, now):
                return Erased({}, acted=False)
            for table in _SHOP_ERASED:
                keep = " WHERE id <> ?" if table == "shopify_webhooks" else ""
                counts[table] = conn.execute(f"DELETE FROM {table}{keep}",
                                             (webhook or 0,) if keep else ()).rowcount
        return Erased(counts)

    def exports(self, count: int) -> list[dict[str, Any]]:
        """The latest `count` data requests' exports, newest first, without
        their bodies (each with its size): what /admin/privacy lists."""
        with self._connect() as conn:
            return [dict(row) for row in conn.execute(
                "SELECT id, source, data_request_id, customer_id, email, created_at,"
                " LENGTH(body) AS size FROM privacy_exports ORDER BY id DESC LIMIT ?",
                (count,))]

    def export_body(self, export_id: int) -> str | None:
        """An export's JSON text, or None when there is no such export."""
        if not 0 < export_id <= MAX_BIGINT:  # no column holds it: none has that id
            return None
        with self._connect() as conn:
            row = conn.execute("SELECT body FROM privacy_exports WHERE id = ?",
                               (export_id,)).fetchone()
        return None if row is None else str(row["body"])

    def scrub(self) -> None:
        """Overwrite in the files what erased rows left there (SQLite: the
        WAL, checkpointed and truncated; PostgreSQL: dead tuples, by rewriting
        each table). Outside any transaction; PostgreSQL's VACUUM FULL holds
        each table for the time it takes to copy it."""
        with self._connect() as conn:
            # SQLite's checkpoint answers (busy, ...): busy while another
            # connection reads an older snapshot; it soon ends (a status poll).
            if self.SCRUB_DATABASE:
                for _ in range(SCRUB_TRIES):
                    answer = conn.execute(self.SCRUB_DATABASE).fetchone()
                    if answer is None or not answer[0]:
                        break
                    time.sleep(SCRUB_PAUSE_SECONDS)
            if self.SCRUB_TABLE:
                for table in PERSONAL_TABLES + SHOP_TABLES:
                    conn.execute(self.SCRUB_TABLE.format(table=table))

    def _take_webhook(self, conn: Connection, webhook: int, now: float) -> bool:
        """Mark a pending compliance webhook applied, its body dropped (it names
        the customer; what it asked is acted on in this transaction). False when
        another worker did first."""
        return bool(conn.execute(
            "UPDATE shopify_webhooks SET status = ?, processed_at = ?, body = ''"
            f" WHERE id = ? AND status = {_PENDING}",
            (WebhookStatus.APPLIED, now, webhook)).rowcount)

    def _find(self, conn: Connection, subject: Subject, lock: bool) -> Found:
        """`subject`'s rows of each of PERSONAL_TABLES; `lock`: on PostgreSQL,
        lock the events found, so that no worker claims one until the caller's
        transaction ends."""
        # Lowered by the database's LOWER(), as the columns are: SQLite's folds
        # ASCII only, PostgreSQL's every letter (mentioned_in then decides).
        email = subject.email or None
        customer = str(subject.customer_id) if subject.customer_id is not None else None

        def texts(*columns: str) -> tuple[str, list[object]]:
            """A condition finding either key in any of `columns`, and its parameters."""
            conditions: list[str] = []
            params: list[object] = []
            for column in columns:
                for key in (email, customer):
                    if key is not None:
                        conditions.append(f"LOWER({column}) LIKE LOWER(?) ESCAPE '\\'")
                        params.append(_like(key))
            return " OR ".join(conditions), params

        where, params = texts("payload", "received")
        if subject.customer_id is not None:
            where, params = f"customer_id = ? OR {where}", [subject.customer_id, *params]
        # FOR UPDATE where the backend has it (SKIP_LOCKED's first words).
        suffix = " FOR UPDATE" if lock and self.SKIP_LOCKED else ""
        events = [dict(row) for row in conn.execute(
            f"SELECT * FROM events WHERE {where} ORDER BY created_at{suffix}", params)]
        events = [row for row in events if subject.customer_id is not None
                  and row["customer_id"] == subject.customer_id
                  or subject.mentioned_in(row["payload"]) or subject.mentioned_in(row["received"])]
        found: Found = {"events": events}
        ids = [row["id"] for row in events]
        marks = ", ".join("?" * len(ids)) or "NULL"
        found["answers"] = [dict(row) for row in conn.execute(
            f"SELECT * FROM answers WHERE event_id IN ({marks}) ORDER BY id", ids)]
        for table in ("shopify_webhooks", "notifications"):
            where, params = texts("body")
            rows = conn.execute(f"SELECT * FROM {table} WHERE event_id IN ({marks}) OR {where}"
                                " ORDER BY id", [*ids, *params])
            found[table] = [dict(row) for row in rows
                            if row["event_id"] in ids or subject.mentioned_in(row["body"])]
        # Another customer's export holding one of the rows (an event naming both) too.
        where, params = texts("body")
        found["privacy_exports"] = [dict(row) for row in conn.execute(
            "SELECT * FROM privacy_exports WHERE customer_id = ? OR LOWER(email) = LOWER(?)"
            f" OR {where} ORDER BY id", (subject.customer_id, email, *params))
            if subject.customer_id is not None and row["customer_id"] == subject.customer_id
            or subject.email and row["email"] and _fold(row["email"]) == _fold(subject.email)
            or subject.mentioned_in(row["body"])]
        return found

    def _erase(self, conn: Connection, found: Found, now: float) -> dict[str, int]:
        """Erase the rows `_find` found; raises _Busy, for a rollback, while an
        event's lease is live."""
        events = found["events"]
        if any(row["lease_until"] is not None and row["lease_until"] > now for row in events):
            raise _Busy()
        active = [row["id"] for row in events if row["status"] in ACTIVE]
        settled = [row["id"] for row in events if row["status"] not in ACTIVE]
        for event_id in active:
            conn.execute(
                "UPDATE events SET status = ?, error_code = ?, error_detail = ?,"
                " customer_id = NULL, received = '', payload = ?, fingerprint = NULL,"
                " client_ip = NULL, guest_key = NULL, prepared = NULL, error_lines = NULL,"
                " poll_url = NULL,"
                " invoice_url = NULL, lease_owner = NULL, lease_until = NULL,"
                " reconcile_at = NULL, updated_at = ? WHERE id = ?",
                (EventStatus.FAILED, REDACTED, REDACTED_DETAIL, EMPTY_PAYLOAD, now, event_id))
        counts = {"events": len(events)}
        for table, column, ids in (
                ("answers", "event_id", [row["event_id"] for row in found["answers"]]),
                ("notifications", "id", [row["id"] for row in found["notifications"]]),
                ("privacy_exports", "id", [row["id"] for row in found["privacy_exports"]]),
                ("events", "id", settled)):
            if ids:
                conn.execute(f"DELETE FROM {table} WHERE {column} IN"
                             f" ({', '.join('?' * len(ids))})", ids)
            if table != "events":
                counts[table] = len(found[table])
        hooks = [row["id"] for row in found["shopify_webhooks"]]
        if hooks:
            # Kept, bodiless and unlinked, so that Shopify's retries are still known.
            conn.execute("UPDATE shopify_webhooks SET body = '', status = ?, note = ?,"
                         " event_id = NULL, draft_order_id = NULL"
                         f" WHERE id IN ({', '.join('?' * len(hooks))})",
                         (WebhookStatus.IGNORED, REDACTED, *hooks))
        counts["shopify_webhooks"] = len(hooks)
        return counts
