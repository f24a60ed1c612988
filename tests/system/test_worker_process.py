"""`flask --app app worker`, the Procfile's separate worker process, for real:
the web app (RUN_WORKER=0) only queues; the worker process delivers."""

import os
import signal
import subprocess
import sys
import time

import pytest
from helpers import settings, submit

pytestmark = pytest.mark.slow  # a worker process


def test_separate_worker_process_delivers_queued_events_and_stops_on_sigterm(
        make_app, start_simulator, tmp_path):
    shop = start_simulator("shpat_worker_test")
    environ = settings(tmp_path, SHOPIFY_SHOP=shop.url, SHOPIFY_ACCESS_TOKEN="shpat_worker_test")
    web = make_app(**environ)
    status_url = submit(web.test_client())["status_url"]

    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker"],
                              env={**os.environ, **environ}, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 20
    while web.test_client().get(status_url).json["status"] != "completed":
        assert time.monotonic() < deadline and worker.poll() is None
        time.sleep(0.05)

    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=10) == 0
    assert "worker: stopped" in worker.stdout.read()
    assert len(shop.state.draft_orders) == 1
