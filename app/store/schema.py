"""The schema: `schema_migrations`, the table recording which migrations
(migrations.py) were applied, and the statements that apply them; the one
module that creates or alters tables. schema_migrations' own CREATE TABLE is
migrations.py's (SCHEMA_MIGRATIONS_TABLE), so that `schema_sql()` there writes
it into schema.sql, the schema as the migrations leave it, with the rest.
"""

import time
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from .migrations import MIGRATIONS, SCHEMA_MIGRATIONS_TABLE, Migration, SchemaUpgradeRequired
from .rows import Connection
from .shared import Statements


class SchemaStatements(Statements):
    """Mixed into SqlStore."""

    migrations: tuple[Migration, ...] = MIGRATIONS

    if TYPE_CHECKING:  # each backend's, declared for the type checker only
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
                conn.execute(SCHEMA_MIGRATIONS_TABLE)
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
