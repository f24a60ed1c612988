"""Schema migrations, on SQLite and on PostgreSQL: ordered, applied once under a
lock, and at start-up only when the release still running keeps working."""

import threading
import time

import pytest
from helpers import STORED

from app.store import MIGRATIONS, Migration, SchemaUpgradeRequired, open_store

pytest_plugins = ["postgres"]

# This release's schema, and the version a next release's migration would take.
UP_TO_DATE = f"the schema is up to date (version {MIGRATIONS[-1].version})"
APPLIED = [f"applied migration {m.version}: {m.description}" for m in MIGRATIONS]
NEXT = MIGRATIONS[-1].version + 1

ADD_COLUMN = Migration(NEXT, "events.merchant_note", (
    "ALTER TABLE events ADD COLUMN merchant_note TEXT",))
RENAME_COLUMN = Migration(NEXT, "events.poll_url becomes poll_location", (
    "ALTER TABLE events RENAME COLUMN poll_url TO poll_location",), additive=False)


def deployed(database_url, *migrations):
    """The store of a release that brings `migrations` after this one's."""
    store = open_store(database_url)
    store.migrations = MIGRATIONS + migrations
    return store


@pytest.fixture
def running(database_url):
    """The current release's store, in use: a claimed event and a queued one."""
    store = open_store(database_url)
    store.migrate()
    now = time.time()
    store.add("e1", '{"cart": {"note": "kept"}}', STORED, None, now)
    store.add("e2", "{}", STORED, None, now + 1)
    store.claim("old-worker", now + 1, 60)
    return store


def test_a_new_database_gets_every_migration(database_url):
    assert open_store(database_url).migrate() == APPLIED


def test_migrating_again_changes_nothing(running, database_url):
    assert open_store(database_url).migrate() == [UP_TO_DATE]


def test_a_database_made_before_migrations_counts_as_version_1(running, database_url):
    later = [statement.split() for migration in MIGRATIONS[1:]
             for statement in migration.statements]
    with running._connect(write=True) as conn:
        # Undo them: CREATE INDEX i ON t, ALTER TABLE t ADD COLUMN c, CREATE TABLE t.
        for words in later:
            if words[:2] == ["CREATE", "INDEX"]:
                conn.execute(f"DROP INDEX {words[2]}")
        for words in later:
            if words[:2] == ["ALTER", "TABLE"]:
                conn.execute(f"ALTER TABLE {words[2]} DROP COLUMN {words[5]}")
        for table in ["schema_migrations", *(words[2] for words in later
                                             if words[:2] == ["CREATE", "TABLE"])]:
            conn.execute(f"DROP TABLE {table}")
    assert open_store(database_url).migrate() == [
        "recorded the existing tables as schema version 1", *APPLIED[1:]]
    assert running.get("e1")["received"] == '{"cart": {"note": "kept"}}'


def test_an_additive_migration_applies_at_start_up_and_keeps_the_rows(running, database_url):
    store = deployed(database_url, ADD_COLUMN)
    assert store.migrate(only_additive=True) == [f"applied migration {NEXT}: events.merchant_note"]
    event = store.get("e1")
    assert (event["merchant_note"], event["lease_owner"]) == (None, "old-worker")
    assert event["received"] == '{"cart": {"note": "kept"}}'


def test_the_release_still_running_keeps_working_after_an_additive_migration(running,
                                                                            database_url):
    deployed(database_url, ADD_COLUMN).migrate(only_additive=True)
    now = time.time()
    assert running.settle("e1", "old-worker", now, status="completed")
    assert running.claim("old-worker", now + 2, 60)["id"] == "e2"
    assert running.add("e3", "{}", STORED, None, now).new


def test_start_up_refuses_a_migration_that_is_not_additive(running, database_url):
    with pytest.raises(SchemaUpgradeRequired, match=r"run `flask --app app init-db`"):
        deployed(database_url, RENAME_COLUMN).migrate(only_additive=True)
    assert "poll_url" in running.get("e1")
    assert open_store(database_url).migrate() == [UP_TO_DATE]


def test_init_db_applies_a_migration_that_is_not_additive(running, database_url):
    store = deployed(database_url, RENAME_COLUMN)
    assert store.migrate() == [f"applied migration {NEXT}: events.poll_url becomes poll_location"]
    assert "poll_location" in store.get("e1")


def test_a_failing_migration_leaves_the_schema_as_it_was(running, database_url):
    broken = Migration(NEXT, "half done", ("ALTER TABLE events ADD COLUMN merchant_note TEXT",
                                        "SELECT * FROM no_such_table"))
    with pytest.raises(Exception, match="no_such_table"):
        deployed(database_url, broken).migrate()
    assert "merchant_note" not in running.get("e1")
    assert open_store(database_url).migrate() == [UP_TO_DATE]


def test_processes_starting_together_apply_each_migration_once(database_url):
    barrier, reports = threading.Barrier(6), []

    def start_up():
        store = open_store(database_url)
        barrier.wait()
        reports.append(store.migrate(only_additive=True))

    threads = [threading.Thread(target=start_up) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(reports) == [APPLIED] + \
        [[UP_TO_DATE]] * 5
