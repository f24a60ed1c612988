"""`pip install .` (not editable): the wheel carries the pages and the storefront
scripts, and the Procfile's web command serves them from another folder, with
no checkout on the path."""

import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import requests
from servers import PROJECT_ROOT, free_port, procfile_web_command

pytestmark = pytest.mark.slow

# What a clean clone does not have, or the wheel does not need.
NOT_IN_A_CLONE = shutil.ignore_patterns(".git", "__pycache__", "*.egg-info", "build", "dist",
                                        ".venv", "instance", "*.sqlite3*", ".*_cache",
                                        ".benchmarks", "bench", "tests")
SHIPPED = ("templates", "static")


def build_wheel(directory):
    """The wheel pip builds from a copy of the checkout, as `pip install .` would."""
    source, wheels = directory / "clone", directory / "wheels"
    shutil.copytree(PROJECT_ROOT, source, ignore=NOT_IN_A_CLONE)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                            "--wheel-dir", str(wheels), str(source)],
                           capture_output=True, text=True, timeout=300)
    if built.returncode and "No matching distribution found for setuptools" in built.stderr:
        pytest.skip("building a wheel needs the build backend from the package index")
    assert built.returncode == 0, built.stderr
    [wheel] = wheels.glob("*.whl")
    return wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory):
    """A fresh virtualenv with the wheel installed; the dependencies are this
    Python's (--system-site-packages), the app only the wheel's."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
                   check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    "--ignore-installed", str(wheel)], check=True, timeout=120)
    return venv


def test_the_wheel_carries_every_template_and_static_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"app/{path.relative_to(PROJECT_ROOT).as_posix()}"
                for folder in SHIPPED for path in (PROJECT_ROOT / folder).rglob("*")
                if path.is_file()}

    assert expected and expected <= names


def test_the_installed_procfile_command_serves_the_setup_page_and_the_snippet_script(
        installed, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    port = free_port()
    environ = {
        "PATH": os.pathsep.join([str(installed / "bin"), os.environ.get("PATH", "")]),
        "HOME": str(tmp_path),
        "SHOPIFY_SHOP": "test-shop.myshopify.com",
        "SHOPIFY_ACCESS_TOKEN": "shpat_wheel_test_token",
        "SHARED_SECRET": "wheel-test-secret",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'events.sqlite3'}",
        "PORT": str(port),
    }
    where = subprocess.run(["python", "-c", "import app; print(app.__file__)"], cwd=elsewhere,
                           env=environ, capture_output=True, text=True, timeout=60)
    assert Path(where.stdout.strip()).is_relative_to(installed), where.stderr

    log_path = tmp_path / "web.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(procfile_web_command(), cwd=elsewhere, env=environ,
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        setup = get_when_up(f"{url}/", process, log_path)
        script = requests.get(f"{url}/static/send-cart.js", timeout=5)
    finally:
        process.terminate()
        process.wait(timeout=10)

    assert setup.status_code == 200, log_path.read_text(errors="replace")
    assert "draft_order_secret" in setup.text  # the snippet, read from the installed package
    assert script.status_code == 200
    assert script.text == (PROJECT_ROOT / "static" / "send-cart.js").read_text(encoding="utf-8")


def get_when_up(url, process, log_path, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return requests.get(url, timeout=5)
        except requests.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the web process did not answer {url}:\n"
                                     f"{log_path.read_text(errors='replace')}") from None
            time.sleep(0.1)
