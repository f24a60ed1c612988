"""Real servers on loopback ports, for tests that need real HTTP between processes:
the receiver under gunicorn exactly as the Procfile runs it, and any WSGI app
in a thread. Import from any test: `from servers import gunicorn_receiver`.
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

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def free_port():
    """A port nothing listens on right now (and, once returned, a closed port)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Receiver:
    url: str
    database_path: Path
    log_path: Path

    def log(self):
        return self.log_path.read_text(errors="replace")


def _wait_until_healthy(process, url, log_path, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n"
                               f"{log_path.read_text(errors='replace')}")
        try:
            if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer /healthz within {timeout} s:\n"
                       f"{log_path.read_text(errors='replace')}")


@contextmanager
def gunicorn_receiver(directory, shop_url, token, secret, allowed_origins="*", **env):
    """Run `gunicorn app.wsgi:app` (one gthread worker, in-process delivery
    worker) against `shop_url`, its events in `directory`; yield a Receiver."""
    directory = Path(directory)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    database_path = directory / "events.sqlite3"
    log_path = directory / "gunicorn.log"
    environ = {
        **os.environ,
        "SHOPIFY_SHOP": shop_url,
        "SHOPIFY_ACCESS_TOKEN": token,
        "SHARED_SECRET": secret,
        "DATABASE_URL": f"sqlite:///{database_path}",
        "RUN_WORKER": "1",
        "ALLOWED_ORIGINS": allowed_origins,
        **env,
    }
    command = [sys.executable, "-m", "gunicorn", "app.wsgi:app",
               "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "4",
               "--worker-class", "gthread", "--graceful-timeout", "5"]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=environ,
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_healthy(process, url, log_path, timeout=20)
        yield Receiver(url, database_path, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
