"""Choosing the database (DATABASE_URL), creating and upgrading its schema
(`flask --app app init-db`, start-up), and the doctor's and app's view of it."""

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner
from helpers import cart_body

from app.config import ConfigError, database_settings
from app.ops import doctor
from app.ops.cli import init_db_command
from app.store import MIGRATIONS, Migration, open_store
from app.store.base import SqlStore

pytest_plugins = ["postgres"]

# This release's schema, and the version a next release's migration would take.
UP_TO_DATE = f"the schema is up to date (version {MIGRATIONS[-1].version})"
APPLIED = [f"applied migration {m.version}: {m.description}" for m in MIGRATIONS]
NEXT = MIGRATIONS[-1].version + 1

RENAME_COLUMN = Migration(NEXT, "events.poll_url becomes poll_location", (
    "ALTER TABLE events RENAME COLUMN poll_url TO poll_location",), additive=False)


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_a_postgres_url_is_used_as_given_and_shown_without_its_password(scheme):
    url = f"{scheme}://merchant:s3cret@db.example.com:5432/events?sslmode=require"
    assert database_settings(url, "/instance") == {
        "DATABASE_URL": url, "DATABASE_SHOWN": "postgresql://db.example.com:5432/events"}


def test_another_database_scheme_is_refused_naming_DATABASE_URL():
    with pytest.raises(ConfigError, match="DATABASE_URL must be a sqlite:///path or postgresql"):
        database_settings("mysql://u@h/db", "/instance")


@pytest.mark.parametrize("url", ["POSTGRESQL://u@db.example/events", "postgres:events"])
def test_a_postgres_url_the_store_would_not_read_is_refused_naming_DATABASE_URL(url):
    # libpq reads only postgres:// and postgresql://; the store took these for SQLite files.
    with pytest.raises(ConfigError, match="DATABASE_URL must be a sqlite:///path or postgresql"):
        database_settings(url, "/instance")


@pytest.mark.slow
def test_init_db_needs_only_DATABASE_URL_and_says_what_it_did(database_url, tmp_path):
    environ = {name: value for name, value in os.environ.items()
               if not name.startswith(("SHOPIFY_", "SHARED_", "DATABASE_"))}
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "init-db"],
                            env={**environ, "DATABASE_URL": database_url}, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1:] == [
        *(f"init-db: {line}" for line in APPLIED)]


def test_init_db_says_when_there_is_nothing_to_do(database_url):
    open_store(database_url).migrate()
    result = CliRunner().invoke(init_db_command, env={"DATABASE_URL": database_url})
    assert result.output.splitlines()[1:] == [f"init-db: {UP_TO_DATE}"]


def test_init_db_applies_a_migration_that_start_up_refuses(database_url, monkeypatch):
    open_store(database_url).migrate()
    monkeypatch.setattr(SqlStore, "migrations", MIGRATIONS + (RENAME_COLUMN,))
    result = CliRunner().invoke(init_db_command, env={"DATABASE_URL": database_url})
    assert result.exit_code == 0
    assert (f"init-db: applied migration {NEXT}: events.poll_url becomes poll_location"
            in result.output)


def test_start_up_stops_with_one_line_when_init_db_is_needed(make_app, monkeypatch, capsys):
    make_app()
    monkeypatch.setattr(SqlStore, "migrations", MIGRATIONS + (RENAME_COLUMN,))
    with pytest.raises(SystemExit) as stopped:
        make_app()
    assert stopped.value.code == 3
    assert capsys.readouterr().err == (
        f"database error: the event database needs migration {NEXT} (events.poll_url becomes "
        "poll_location), which is not applied at start-up: run `flask --app app init-db`\n")


def test_doctor_sends_a_database_without_tables_to_init_db(database_url):
    check = doctor.check_database(open_store(database_url))
    assert check.failed and "flask --app app init-db" in check.hint


def test_doctor_passes_a_migrated_database(database_url):
    store = open_store(database_url)
    store.migrate()
    assert doctor.check_database(store).status == doctor.PASS


def test_an_app_on_postgresql_queues_a_cart_and_reports_it(make_app, postgres_url):
    client = make_app(DATABASE_URL=postgres_url).test_client()
    accepted = client.post("/webhooks/cart", json=cart_body())
    assert accepted.status_code == 202
    assert client.get(accepted.json["status_url"]).json["status"] == "queued"
    assert client.get("/healthz").json == {"status": "ok", "database": "ok"}
