"""Every statement of the event store, written once for SQLite and PostgreSQL,
composed into one `SqlStore`.

Statements use `?` placeholders and the SQL both dialects share. They live by
table, each module a mixin: schema.py (schema_migrations; applying
migrations), events.py (events and answers), webhooks.py (shopify_webhooks),
notifications.py (notifications, the outbox), logins.py (login_failures,
login_lockouts), credentials.py (shopify_credentials, oauth_states) and
retention.py (deleting across them), privacy.py (a customer's data, found,
exported and erased across them; privacy_exports); shared.py holds what they
share. A
backend supplies what differs: `_connect(write)` (a connection; a transaction
that serializes writers where needed when `write`), `_migrating()` (a
transaction holding the schema lock), and the dialect words in capitals
(shared.Statements declares them).
"""

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from .credentials import CredentialStatements
from .events import Added, EventStatements, RateLimit, StoredPayload, stored_payload
from .logins import LoginStatements
from .marks import MarkStatements
from .notifications import NotificationStatements
from .privacy import Erased, Found, PrivacyStatements, Subject
from .retention import Pruned, RetentionStatements
from .rows import Connection
from .schema import SchemaStatements
from .webhooks import Judgement, WebhookStatements

__all__ = ["Added", "Erased", "Found", "Judgement", "Pruned", "RateLimit", "SqlStore",
           "StoredPayload", "Subject", "stored_payload"]


class SqlStore(SchemaStatements, EventStatements, WebhookStatements, NotificationStatements,
               LoginStatements, RetentionStatements, CredentialStatements, PrivacyStatements,
               MarkStatements):
    """The event store: every table's statements, for a backend (sqlite.py,
    postgres.py) to run."""

    if TYPE_CHECKING:  # each backend's, declared for the type checker only
        def _connect(self, write: bool = False) -> AbstractContextManager[Connection]: ...

        def _migrating(self) -> AbstractContextManager[Connection]: ...
