"""What every table's statements share: the dialect words a backend supplies,
the statuses written into statements as literals, the columns `settle` may
change (events.py's settle and webhooks.py's judges alike), advisory lock ids,
an event row as read, and an event's latest rows of one table.

Each statement module (schema, events, webhooks, notifications, logins,
retention, credentials) holds one table's statements in a mixin of
`Statements`; base.py's SqlStore composes them and a backend (sqlite.py,
postgres.py) supplies `_connect` and the dialect words.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, ClassVar, cast

from ..event import Event
from ..states import ACTIVE, SETTLED, EventStatus, WebhookStatus
from .rows import Connection

# `Any` below is JSON (a payload) or a row as the database driver hands it over.

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
# is this one word (tests/unit/test_states.py checks).
_PENDING = _literals(WebhookStatus.PENDING)


def _lock_ids(keys: Iterable[str]) -> list[int]:
    """Advisory lock ids for `keys`, in ascending order: every transaction takes
    its locks in one order, so two can never wait for each other in a cycle."""
    return sorted({int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big",
                                  signed=True) for key in keys})


def _assignments(changes: Mapping[str, object]) -> tuple[str, list[object]]:
    """`changes` to an event as `, column = ?` assignments and their values, for
    settle and a webhook's judge alike: only settleable columns (their names are
    written into the statement), the JSON ones encoded."""
    unknown = set(changes) - _SETTLEABLE
    if unknown:
        raise ValueError(f"not settleable: {sorted(unknown)}")
    return ("".join(f", {column} = ?" for column in changes),
            [json.dumps(value) if column in _JSON_COLUMNS and value is not None else value
             for column, value in changes.items()])


def _event(row: Any) -> Event | None:
    if row is None:
        return None
    event = dict(row)
    event["payload"] = json.loads(event["payload"])
    for column in _JSON_COLUMNS:
        if event.get(column) is not None:
            event[column] = json.loads(event[column])
    return cast(Event, event)


class Statements:
    """The base of the statement mixins: what they use of SqlStore and its backends."""

    GREATEST: ClassVar[str]                # the larger of two values
    SKIP_LOCKED: ClassVar[str]             # ends the claim's choice of event
    KEY_LOCKS: ClassVar[str | None] = None  # makes `add` wait for others adding under the same keys
    TABLES: ClassVar[str]                  # names the tables, as `name`
    SERIAL: ClassVar[str]                  # an auto-numbered primary key

    if TYPE_CHECKING:  # each backend's, declared for the type checker only
        def _connect(self, write: bool = False) -> AbstractContextManager[Connection]: ...

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
