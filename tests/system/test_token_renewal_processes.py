"""One token for the whole deployment, across real processes, on SQLite and
PostgreSQL: processes renewing at once make one token request, and a process
killed in the middle of a renewal (before or after Shopify answered) leaves
nothing that keeps the next one from getting a working token."""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import requests
from flask import Flask, jsonify
from helpers import Clock
from servers import PROJECT_ROOT, serve

from app.shopify.tokens import ManagedToken
from app.store import open_store

pytest_plugins = ["postgres"]

CLIENT_ID, SECRET = "client-id-1", "client-secret-1"
# A process of the deployment asking for the shop's token, as the worker does.
ASK = """
import sys
from app.store import open_store
from app.shopify.tokens import ManagedToken
store = open_store(sys.argv[1])
tokens = ManagedToken(store, sys.argv[2], "client-id-1", ("client-secret-1",),
                      timeout=float(sys.argv[3]))
print("asking", flush=True)
print(tokens.current(), flush=True)
"""


class TokenEndpoint:
    """Shopify's token endpoint, counting requests and answering after `delay` seconds."""

    def __init__(self):
        self.requests = 0
        self.delay = 0.0
        self.lock = threading.Lock()
        self.app = Flask(__name__)
        self.app.post("/admin/oauth/access_token")(self.grant)

    def grant(self):
        with self.lock:
            self.requests += 1
            number = self.requests
        time.sleep(self.delay)
        return jsonify(access_token=f"shpat_token_{number}", scope="write_draft_orders",
                       expires_in=86399)


@pytest.fixture
def endpoint():
    endpoint = TokenEndpoint()
    with serve(endpoint.app) as server:
        endpoint.url = server.url
        yield endpoint


@pytest.fixture
def migrated(database_url):
    open_store(database_url).migrate()
    return database_url


def ask(database_url, endpoint, timeout=5):
    return subprocess.Popen([sys.executable, "-c", ASK, database_url, endpoint.url, str(timeout)],
                            cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})


@pytest.mark.slow
def test_two_processes_renewing_at_once_make_one_token_request(migrated, endpoint):
    endpoint.delay = 1.0  # both ask while the first request is still out
    processes = [ask(migrated, endpoint) for _ in range(2)]
    tokens = [process.communicate(timeout=60)[0].split()[-1] for process in processes]
    assert [process.returncode for process in processes] == [0, 0]
    assert tokens == ["shpat_token_1", "shpat_token_1"]
    assert endpoint.requests == 1


@pytest.mark.slow
def test_a_process_killed_mid_renewal_leaves_a_working_token(migrated, endpoint):
    endpoint.delay = 30.0  # the answer never comes in the first process's life
    doomed = ask(migrated, endpoint, timeout=2)
    assert doomed.stdout.readline().strip() == "asking"
    deadline = time.time() + 10
    while endpoint.requests == 0 and time.time() < deadline:
        time.sleep(0.05)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    endpoint.delay = 0.0
    started = time.time()
    survivor = ask(migrated, endpoint, timeout=2)
    token = survivor.communicate(timeout=60)[0].split()[-1]
    assert survivor.returncode == 0
    assert token == "shpat_token_2"
    assert time.time() - started < 2 + 5 + 5  # the dead renewal's lease, and no more
    row = open_store(migrated).credentials()
    assert row["renewing_owner"] is None and "shpat_token_2" not in str(row)


class Died(BaseException):
    """The process stops here, as under SIGKILL: nothing after it runs."""


def test_a_refresh_whose_answer_was_lost_is_asked_again_with_the_same_refresh_token(
        tmp_path, start_simulator):
    """Shopify keeps the old refresh token valid until the new pair is used, so a
    renewal that died between Shopify's answer and our write loses nothing."""
    shop = start_simulator("shpat_unused_legacy", client_id=CLIENT_ID, client_secret=SECRET,
                           organization=False)
    store = open_store(f"sqlite:///{tmp_path / 'events.sqlite3'}")
    store.migrate()
    clock = Clock()
    ManagedToken(store, shop.url, CLIENT_ID, (SECRET,), timeout=2, clock=clock).install(
        shop.state.issue_code())
    clock.advance(3600 - 200)  # due for its refresh

    def dies(*args, **kwargs):
        raise Died
    store.save_token = dies
    with pytest.raises(Died):
        ManagedToken(store, shop.url, CLIENT_ID, (SECRET,), timeout=2, clock=clock).current()
    del store.save_token
    clock.advance(2 + 5)  # the dead renewal's lease runs out

    token = ManagedToken(store, shop.url, CLIENT_ID, (SECRET,), timeout=2, clock=clock).current()
    answer = requests.get(f"{shop.url}/admin/api/2026-10/shop.json", timeout=5,
                          headers={"X-Shopify-Access-Token": token})
    assert answer.status_code == 200
    assert [(r["grant_type"], r["status"]) for r in shop.state.snapshot("token_requests")] == [
        ("authorization_code", 200), ("refresh_token", 200), ("refresh_token", 200)]
