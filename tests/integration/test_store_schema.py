"""app/store/schema.sql, the schema as the migrations leave it, written for
reading: the committed file is what `schema_sql()` generates, and a database
migrated from scratch has exactly its tables, columns and indexes.

After adding a migration, regenerate the file with:

    python -c "from app.store.migrations import write_schema_sql; write_schema_sql()"
"""

import re
import sqlite3

import pytest

from app.store import MIGRATIONS, Migration, SqliteStore
from app.store.migrations import SCHEMA_SQL, schema_sql

REGENERATE = 'python -c "from app.store.migrations import write_schema_sql; write_schema_sql()"'


def shape(conn):
    """{table: (its columns as PRAGMA table_info gives them, its indexes)}."""
    tables = [row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    return {table: (
        [tuple(row)[1:] for row in conn.execute(f"PRAGMA table_info({table})")],
        sorted((row[1], row[2], [info[2] for info in conn.execute(f"PRAGMA index_info({row[1]})")])
               for row in conn.execute(f"PRAGMA index_list({table})")),
    ) for table in tables}


def test_the_committed_file_is_the_generated_one():
    assert SCHEMA_SQL.read_text(encoding="utf-8") == schema_sql(), (
        f"app/store/schema.sql is out of date; regenerate it with: {REGENERATE}")


def test_a_database_migrated_from_scratch_has_exactly_what_the_file_lists(tmp_path):
    store = SqliteStore(str(tmp_path / "events.db"))
    store.init_schema()
    migrated = sqlite3.connect(tmp_path / "events.db")
    listed = sqlite3.connect(":memory:")
    text = SCHEMA_SQL.read_text(encoding="utf-8")
    listed.executescript(text.replace("{serial}", SqliteStore.SERIAL))
    assert set(shape(migrated)) == set(re.findall(r"^CREATE TABLE (\w+)", text, re.M))
    assert shape(migrated) == shape(listed)
    migrated.close()
    listed.close()


def test_an_alter_is_folded_into_its_table():
    added = Migration(MIGRATIONS[-1].version + 1, "a note", (
        "ALTER TABLE events ADD COLUMN merchant_note TEXT",
        "CREATE INDEX events_note ON events (merchant_note)"))
    text = schema_sql(MIGRATIONS + (added,))
    events = text[text.index("CREATE TABLE events ("):]
    table, _, rest = events.partition(");")
    assert f"merchant_note          TEXT  -- migration {added.version}" in table
    assert "CREATE INDEX events_note ON events (merchant_note);" in rest.split("\n\n")[0]


def test_a_statement_it_cannot_read_is_an_error():
    renamed = Migration(MIGRATIONS[-1].version + 1, "a rename", (
        "ALTER TABLE events RENAME COLUMN poll_url TO poll_location",), additive=False)
    with pytest.raises(ValueError, match="cannot read"):
        schema_sql(MIGRATIONS + (renamed,))
