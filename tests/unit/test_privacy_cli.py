"""`flask --app app privacy export|redact --customer ID | --email ADDRESS`."""

import json
import time

import pytest
from helpers import STORED
from test_compliance_webhooks import CUSTOMER, EMAIL, customer_event


def run(app, *args):
    return app.test_cli_runner().invoke(args=["privacy", *args])


@pytest.fixture
def seeded(store):
    customer_event(store, "by-id", time.time(), email="other@example.com", customer_id=CUSTOMER)
    customer_event(store, "by-email", time.time())
    customer_event(store, "someone-else", time.time(), email="someone.else@example.com")


def test_export_prints_json_with_every_row_and_its_id(app, seeded):
    result = run(app, "export", "--customer", str(CUSTOMER), "--email", EMAIL)
    assert result.exit_code == 0, result.output
    tables = json.loads(result.output)["tables"]
    assert [row["id"] for row in tables["events"]] == ["by-id", "by-email"]
    assert [row["event_id"] for row in tables["answers"]] == ["by-id", "by-email"]


def test_export_by_email_alone_finds_a_guests_event(app, seeded):
    tables = json.loads(run(app, "export", "--email", EMAIL.upper()).output)["tables"]
    assert [row["id"] for row in tables["events"]] == ["by-email"]


def test_export_changes_nothing(app, store, seeded):
    run(app, "export", "--customer", str(CUSTOMER))
    assert len(store.list_events(10)) == 3 and store.exports(10) == []


def test_redact_erases_the_customers_events_and_says_how_many(app, store, seeded):
    result = run(app, "redact", "--customer", str(CUSTOMER))
    assert result.exit_code == 0, result.output
    assert "erased 1 events, 1 answers" in result.output
    assert sorted(event["id"] for event in store.list_events(10)) == ["by-email", "someone-else"]


def test_redact_refuses_while_a_worker_holds_the_customers_event(app, store):
    store.add("held", "{}", STORED, CUSTOMER, time.time())
    store.claim("worker", time.time(), 60)
    result = run(app, "redact", "--customer", str(CUSTOMER))
    assert result.exit_code == 1 and "run the command again" in result.output
    assert store.get("held") is not None


@pytest.mark.parametrize("args", [(), ("--customer", "-5"), ("--customer", "abc"),
                                  ("--email", "not an address")])
def test_a_command_without_a_readable_customer_is_refused(app, args):
    assert run(app, "export", *args).exit_code == 2
