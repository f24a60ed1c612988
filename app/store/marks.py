"""When each watched event last changed: what the status URL's long poll
(app/intake/waiting.py) watches, in one statement for all of a process's
waiting requests."""

from collections.abc import Sequence

from .shared import Statements


class MarkStatements(Statements):
    """Mixed into SqlStore."""

    def updated_marks(self, event_ids: Sequence[str]) -> dict[str, float]:
        """Each event's `updated_at`, which every change a shopper can see moves
        (claim, settle, retry, a webhook applied); an event not stored is left out."""
        if not event_ids:
            return {}
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT id, updated_at FROM events"
                f" WHERE id IN ({', '.join('?' * len(event_ids))})",
                tuple(event_ids)).fetchall()
        return {row["id"]: row["updated_at"] for row in rows}
