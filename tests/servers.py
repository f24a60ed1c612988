"""Real servers on loopback ports, for tests that need real HTTP between processes:
the receiver run by the Procfile's own web command, the Shopify simulator and any
WSGI app in a thread. Import from any test: `from servers import procfile_receiver`;
a test starts the simulator with the `start_simulator` fixture (conftest.py).

The only module of the tests that imports the simulator (test_simulator.py aside).
"""

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from app.dev.serving import serve_in_thread
from app.dev.simulator import create_simulator

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def procfile_web_command():
    """The Procfile's `web:` line, to run through a shell as a Procfile runner does
    (so $PORT and the like come from the environment it is given)."""
    line = next(line for line in (PROJECT_ROOT / "Procfile").read_text().splitlines()
                if line.startswith("web:"))
    return ["sh", "-c", "exec " + line.removeprefix("web:").strip()]


def child_pids(pid):
    """The live processes whose parent is `pid` (the web command's serving processes)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            state, parent = stat[stat.rindex(")") + 2:].split()[:2]
            if parent == str(pid) and state != "Z":
                found.append(int(entry.name))
    return sorted(found)


def free_port():
    """A port nothing listens on right now (and, once returned, a closed port)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(app):
    """Serve the WSGI `app` from a thread on a free loopback port; yield the
    server (its `url`, and `refuse_connections`/`accept_connections`)."""
    server = serve_in_thread(app)
    try:
        yield server
    finally:
        server.shutdown()


@dataclass(frozen=True)
class Shop:
    """The Shopify simulator being served: its address, its state (configure,
    draft_orders, snapshot …) and the server that serves it."""
    url: str
    state: object
    server: object


@contextmanager
def shopify_simulator(token, clock=None, **config):
    """The Admin API simulator for `token` (on `clock` if given, configured by
    `config`) on a free loopback port; yield a Shop."""
    app = create_simulator({"token": token, **config}, clock=clock)
    with serve(app) as server:
        yield Shop(server.url, app.extensions["shopify_simulator"], server)


@dataclass(frozen=True)
class Receiver:
    url: str
    database_path: Path
    log_path: Path
    process: subprocess.Popen

    def log(self):
        return self.log_path.read_text(errors="replace")


def _wait_until_healthy(process, url, log_path, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the web process exited with {process.returncode}:\n"
                               f"{log_path.read_text(errors='replace')}")
        try:
            if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the web process did not answer /healthz within {timeout} s:\n"
                       f"{log_path.read_text(errors='replace')}")


@contextmanager
def procfile_receiver(directory, shop_url, token, secret, allowed_origins="*", **env):
    """Run the Procfile's web command (the receiver and its delivery worker) on a
    free port against `shop_url`, its events in `directory`; yield a Receiver."""
    directory = Path(directory)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    database_path = directory / "events.sqlite3"
    log_path = directory / "web.log"
    environ = {
        **os.environ,
        "SHOPIFY_SHOP": shop_url,
        "SHOPIFY_ACCESS_TOKEN": token,
        "SHARED_SECRET": secret,
        "DATABASE_URL": f"sqlite:///{database_path}",
        "RUN_WORKER": "1",
        "ALLOWED_ORIGINS": allowed_origins,
        "PORT": str(port),
        # `python` in the Procfile is the Python running the tests.
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        **env,
    }
    command = procfile_web_command()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=environ,
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_healthy(process, url, log_path, timeout=20)
        yield Receiver(url, database_path, log_path, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def free_ports_in_a_row(count=3):
    """The first of `count` consecutive ports nothing listens on right now."""
    for _ in range(50):
        base = free_port()
        try:
            for port in range(base, base + count):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise RuntimeError(f"no {count} consecutive free ports on 127.0.0.1")


def demo_command(port, *options):
    """`flask --app app demo --port PORT [options]` as the README has a newcomer run
    it, and the newcomer's environment: none of the receiver's settings."""
    environ = {key: value for key, value in os.environ.items()
               if not key.startswith(("SHOPIFY_", "SHARED_", "DATABASE_", "ALLOWED_"))}
    return [sys.executable, "-m", "flask", "--app", "app", "demo", "--port", str(port),
            *options], environ


@contextmanager
def running_demo(directory, *options, **env):
    """The demo on three free ports, run from `directory` with `options`; yields
    (process, port) once its receiver answers, and stops it (SIGTERM) unless the
    test did."""
    port = free_ports_in_a_row(3)
    command, environ = demo_command(port, *options)
    process = subprocess.Popen(command, cwd=directory, env={**environ, **env},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).raise_for_status()
                break
            except requests.RequestException:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    raise RuntimeError(
                        f"the demo did not start:\n{process.stdout.read()}") from None
                time.sleep(0.1)
        yield process, port
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
        process.stdout.close()
