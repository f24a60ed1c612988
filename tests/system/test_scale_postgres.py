"""Scaled out on PostgreSQL, for real: two web processes (the Procfile's command) and three
`flask --app app worker` processes share one database, as several dynos on a
PaaS would, and 500 carts become exactly 500 draft orders."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import psycopg
import pytest
import requests
from helpers import SECRET, cart_body
from servers import procfile_receiver

from app.ids import EVENT_MARKER

pytest_plugins = ["postgres"]

pytestmark = pytest.mark.slow  # five processes on PostgreSQL

TOKEN = "shpat_scale_test"
SUBMISSIONS = 500
DEADLINE_SECONDS = 60


def environment(shop_url, database_url):
    """Web processes only queue (RUN_WORKER=0); no client limit or pacing slows the run,
    and guests post bare carts (no contact form, no fill time)."""
    return {"SHOPIFY_SHOP": shop_url, "SHOPIFY_ACCESS_TOKEN": TOKEN, "SHARED_SECRET": SECRET,
            "DATABASE_URL": database_url, "RUN_WORKER": "0", "RATE_LIMIT_PER_IP": "0",
            "RATE_LIMIT_PER_CUSTOMER": "0", "SHOPIFY_LEAK_RATE": "1000",
            "GUEST_FIELDS": "none", "GUEST_MIN_FILL_SECONDS": "0"}


def start_worker(environ, log_path):
    with open(log_path, "wb") as log:
        return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker"],
                                env={**os.environ, **environ}, cwd=log_path.parent,
                                stdout=log, stderr=subprocess.STDOUT)


def submit(url, number):
    """Cart `number`: its own variant; every other one from a signed-in customer."""
    customer_id = 7_420_000_000_000 + number if number % 2 else None
    body = cart_body(customer_id=customer_id, token=f"scale-{number}",
                     items=[{"variant_id": 1_000_000 + number, "quantity": 1 + number % 3}])
    response = requests.post(f"{url}/webhooks/cart", json=body, timeout=30)
    assert response.status_code == 202, response.text
    return response.json()["id"]


def statuses(database_url):
    with psycopg.connect(database_url) as conn:
        return dict(conn.execute("SELECT status, COUNT(*) FROM events GROUP BY status").fetchall())


def test_two_web_and_three_worker_processes_deliver_each_cart_once(postgres_url, tmp_path,
                                                                  start_simulator):
    simulator = start_simulator(TOKEN, bucket_size=100000, leak_rate=1000)
    shop = simulator.state
    with ExitStack() as stack:
        environ = environment(simulator.url, postgres_url)
        webs = []
        for number in range(2):
            (tmp_path / f"web{number}").mkdir()
            webs.append(stack.enter_context(procfile_receiver(
                tmp_path / f"web{number}", simulator.url, TOKEN, SECRET, **environ)))
        logs = [tmp_path / f"worker{number}.log" for number in range(3)]
        workers = [start_worker(environ, log) for log in logs]
        for worker in workers:
            stack.callback(lambda w=worker: w.poll() is None and w.kill())

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=6) as clients:
            event_ids = list(clients.map(lambda n: submit(webs[n % 2].url, n),
                                         range(SUBMISSIONS)))
        while statuses(postgres_url).get("completed", 0) < SUBMISSIONS:
            assert time.monotonic() - started < DEADLINE_SECONDS, statuses(postgres_url)
            assert all(worker.poll() is None for worker in workers)
            time.sleep(0.2)

        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        assert [worker.wait(timeout=15) for worker in workers] == [0, 0, 0]

    markers = Counter(attribute["value"] for draft in shop.draft_orders
                      for attribute in draft["note_attributes"]
                      if attribute["name"] == EVENT_MARKER)
    assert len(set(event_ids)) == SUBMISSIONS
    assert statuses(postgres_url) == {"completed": SUBMISSIONS}
    assert len(shop.draft_orders) == SUBMISSIONS
    assert set(markers) == set(event_ids) and set(markers.values()) == {1}
    delivered_by = [log.read_text().count("-> completed") for log in logs]
    assert sum(delivered_by) == SUBMISSIONS and all(delivered_by), delivered_by
