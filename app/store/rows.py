"""What the store hands back, as types: the rows of each table as its methods
return them (an event's, app/event.py, is every layer's), and the little of a
database connection the statements use.

Every row comes back as a plain dict (a TypedDict here names its keys), with
the columns of app/store/migrations.py as the database gives them: INTEGER and
BIGINT as int, DOUBLE PRECISION as float, TEXT as str, NULL as None. Only an
event's `payload`, `prepared` and `error_lines`, kept as JSON text, come back
decoded.

`Any` here is JSON (an event's payload and findings) or a value the database
driver hands over before it is read into one of these rows.
"""

from collections.abc import Iterator, Sequence
from typing import Any, Protocol, TypedDict


class Cursor(Protocol):
    """What a statement gives back, alike in sqlite3 and psycopg: rows as
    sqlite3.Row or psycopg's dict_row (each read by column name)."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """A connection as the shared statements use it (`?` placeholders)."""

    def execute(self, query: str, params: Sequence[Any] = ..., /) -> Cursor: ...


class EventSummary(TypedDict):
    """An event as the merchant's event log lists it (`list_events`)."""

    id: str
    status: str
    customer_id: int | None
    line_count: int
    attempts: int
    draft_order_id: int | None
    draft_order_name: str | None
    error_code: str | None
    error_detail: str | None
    created_at: float
    updated_at: float


class Answer(TypedDict):
    """One of Shopify's answers to an event's calls (`answers`)."""

    id: int
    event_id: str
    at: float
    method: str
    url: str
    status: int | None  # None: no answer came
    body: str


class AnswerShown(Answer):
    """An answer as the event's page shows it (`latest_answers`): its body cut."""

    body_length: int    # the whole body's length


class PendingWebhook(TypedDict):
    """A Shopify webhook waiting to be applied (`pending_webhooks`)."""

    id: int
    topic: str
    body: str


class WebhookShown(TypedDict):
    """A Shopify webhook as the event's page shows it (`event_webhooks`)."""

    id: int
    webhook_id: str
    topic: str
    received_at: float
    status: str
    note: str | None
    processed_at: float | None


class NotificationShown(TypedDict):
    """A notification as the event's page shows it (`notifications`): no body."""

    id: int
    kind: str
    channel: str
    status: str
    attempts: int
    next_attempt_at: float
    last_error: str | None
    created_at: float


class Notification(NotificationShown):
    """A notification, every column (`claim_notification`)."""

    event_id: str       # "" for the shop's own (the credentials', a digest)
    body: str           # "" for a digest: its words are made when it is sent
    claimed_at: float | None   # its first claim: when it was first sent (migration 6)
    folded_into: int | None    # a folded one's digest (migration 6)


class Credentials(TypedDict):
    """The shop's token row (`credentials`, `begin_renewal`); tokens encrypted."""

    client_id: str
    grant_kind: str | None
    access_token: str | None
    scope: str | None
    issued_at: float | None
    expires_at: float | None
    refresh_token: str | None
    refresh_expires_at: float | None
    version: int
    renewing_owner: str | None
    renewing_until: float | None
    problem_code: str | None
    problem_detail: str | None
    problem_at: float | None
    updated_at: float
