"""The web process as the Procfile runs it (`app/serve.py`): what the server in
front of the app must keep of the HTTP contract, and that the README gives the
same command as the Procfile."""

import os
import signal
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests
from helpers import SECRET, TOKEN, cart_body
from servers import PROJECT_ROOT, child_pids, free_port, procfile_receiver, procfile_web_command

MAX_BODY_BYTES = 4096


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    # Nothing here reaches the shop: the delivery worker has nothing it could deliver.
    with procfile_receiver(tmp_path_factory.mktemp("serve"), "http://127.0.0.1:9", TOKEN,
                           SECRET, MAX_BODY_BYTES=str(MAX_BODY_BYTES),
                           TRUSTED_PROXIES="1") as receiver:
        yield receiver


def test_readme_gives_the_procfile_web_command_as_the_production_command():
    command = procfile_web_command()[-1].removeprefix("exec ")
    readme = (PROJECT_ROOT / "README.md").read_text().splitlines()
    assert f"web: {command}" in readme
    assert command in readme  # the command to run, alone on its line


def test_body_over_max_body_bytes_is_a_json_413_from_the_server(web):
    response = requests.post(f"{web.url}/webhooks/cart", data=b"x" * (MAX_BODY_BYTES + 1),
                             headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"


def test_headers_over_the_limit_are_a_json_431(web):
    response = requests.get(f"{web.url}/healthz", headers={"X-Big": "y" * 70_000}, timeout=10)
    assert response.status_code == 431
    assert response.json()["error"]["code"] == "headers_too_large"


def test_malformed_request_is_a_json_400(web):
    parts = urlsplit(web.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n")
        answer = b"".join(iter(lambda: sock.recv(65536), b""))  # it closes after a refusal
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b'"code": "bad_request"' in body


def test_forwarded_headers_reach_the_app_behind_a_trusted_proxy(web):
    response = requests.post(f"{web.url}/webhooks/cart", json=cart_body(), timeout=10,
                             headers={"X-Forwarded-Proto": "https",
                                      "X-Forwarded-Host": "receiver.example",
                                      "X-Forwarded-For": "203.0.113.9"})
    assert response.status_code == 202, response.text
    assert response.json()["status_url"].startswith("https://receiver.example/events/")


def wait_for(condition, seconds=15):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.mark.slow
def test_sigterm_stops_the_web_process_and_all_its_serving_processes(tmp_path):
    with procfile_receiver(tmp_path, "http://127.0.0.1:9", TOKEN, SECRET) as receiver:
        children = child_pids(receiver.process.pid)
        receiver.process.send_signal(signal.SIGTERM)
        assert receiver.process.wait(timeout=10) == 0
    assert children and not any(os.path.exists(f"/proc/{pid}") for pid in children)


@pytest.mark.slow
def test_web_concurrency_processes_serve_the_one_port(tmp_path):
    with procfile_receiver(tmp_path, "http://127.0.0.1:9", TOKEN, SECRET,
                           WEB_CONCURRENCY="3") as receiver:
        wait_for(lambda: len(child_pids(receiver.process.pid)) == 3)
        assert all(requests.get(f"{receiver.url}/healthz", timeout=10).ok for _ in range(20))


@pytest.mark.slow
def test_a_killed_serving_process_is_replaced_at_once(tmp_path):
    with procfile_receiver(tmp_path, "http://127.0.0.1:9", TOKEN, SECRET,
                           WEB_CONCURRENCY="2") as receiver:
        wait_for(lambda: len(child_pids(receiver.process.pid)) == 2)
        killed = child_pids(receiver.process.pid)[0]
        os.kill(killed, signal.SIGKILL)

        wait_for(lambda: len(child_pids(receiver.process.pid)) == 2
                 and killed not in child_pids(receiver.process.pid), seconds=5)
        assert requests.get(f"{receiver.url}/healthz", timeout=10).ok


@pytest.mark.slow
def test_a_serving_process_that_cannot_start_stops_the_service(tmp_path):
    """A configuration error would fail every replacement too: exit 3, no restart loop."""
    environ = {k: v for k, v in os.environ.items()
               if not k.startswith(("SHOPIFY_", "SHARED_", "DATABASE_"))}
    result = subprocess.run(procfile_web_command(), cwd=PROJECT_ROOT, timeout=60,
                            env={**environ, "PORT": str(free_port()), "WEB_CONCURRENCY": "2"},
                            capture_output=True, text=True)
    assert result.returncode == 3
    assert result.stderr.count("configuration error: SHARED_SECRET is required but not set") \
        in (1, 2)  # each serving process says it, unless the first stops the other first
    assert "starting another" not in result.stderr


@pytest.mark.slow
def test_a_burst_past_the_threads_logs_one_queue_depth_line_not_one_per_request(tmp_path):
    """WEB_THREADS set alone (2) starts, STATUS_WAITERS following it; 60 carts at
    once queue in waitress, whose per-request warnings app.serve folds."""
    with procfile_receiver(tmp_path, "http://127.0.0.1:9", TOKEN, SECRET, WEB_CONCURRENCY="1",
                           WEB_THREADS="2", DEDUPE_WINDOW="0", RATE_LIMIT_PER_IP="0",
                           RATE_LIMIT_PER_CUSTOMER="0") as receiver:
        def send(_):
            return requests.post(f"{receiver.url}/webhooks/cart", json=cart_body(),
                                 timeout=30).status_code

        with ThreadPoolExecutor(30) as pool:
            assert set(pool.map(send, range(60))) == {202}
        log = receiver.log()
    assert "Task queue depth is" not in log
    assert log.count("Task queue depth reached") == 1
