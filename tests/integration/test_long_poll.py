"""The status URL's long poll (app/intake/waiting.py): `?wait=N&since=V`
answers when the document changes, or after the wait, or at once past the
process's bound of waiters; on SQLite and PostgreSQL, the change made through
another store (another process's view, as `flask worker`)."""

import threading
import time

import pytest
from helpers import cart_body, migrated_store, settings

from app import create_app

pytest_plugins = ["postgres"]


@pytest.fixture
def make_app(tmp_path, database_url):
    return lambda **overrides: create_app(settings(tmp_path, DATABASE_URL=database_url,
                                                   **overrides))


def queued(client):
    """A submission's status path and its first document."""
    url = client.post("/webhooks/cart", json=cart_body()).get_json()["status_url"]
    path = url.removeprefix("http://localhost")
    return path, client.get(path).get_json()


def settle_later(database_url, event_id, seconds):
    """Complete the event (claimed already) from another store after `seconds`,
    as a worker in another process would."""
    def run():
        time.sleep(seconds)
        migrated_store(database_url).settle(event_id, "w", time.time(), status="completed",
                                            draft_order_id=1, draft_order_name="#D1")
    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_long_poll_answers_when_the_document_changes(make_app, database_url):
    app = make_app()
    client = app.test_client()
    path, _ = queued(client)
    app.extensions["store"].claim("w", time.time(), 60)
    first = client.get(path).get_json()
    assert first["status"] == "processing"
    thread = settle_later(database_url, first["id"], 0.3)
    response = client.get(f"{path}?wait=10&since={first['version']}")
    thread.join()
    assert response.headers["X-Status-Wait"] == "changed"
    body = response.get_json()
    assert body["status"] == "completed" and body["draft_order"]["name"] == "#D1"
    assert body["version"] != first["version"]


def test_a_long_poll_answers_the_same_document_when_its_wait_passes(make_app):
    client = make_app().test_client()
    path, first = queued(client)
    response = client.get(f"{path}?wait=0.2&since={first['version']}")
    assert response.headers["X-Status-Wait"] == "timeout"
    assert response.get_json() == first


def test_past_the_bound_of_waiters_the_status_url_answers_at_once(make_app):
    client = make_app(STATUS_WAITERS="0").test_client()
    path, first = queued(client)
    response = client.get(f"{path}?wait=25&since={first['version']}")
    assert response.headers["X-Status-Wait"] == "busy"
    assert response.get_json() == first


def test_a_client_behind_the_document_gets_it_at_once(make_app):
    client = make_app().test_client()
    path, first = queued(client)
    response = client.get(f"{path}?wait=25&since={'0' * 16}")
    assert "X-Status-Wait" not in response.headers and response.get_json() == first
