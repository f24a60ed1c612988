"""What a newcomer meets on a clean clone: files git would pick up, skip
reasons, and lines of the README and docs/ that must agree with what the app does."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.store import open_store

ROOT = Path(__file__).resolve().parent.parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = {path.name: path.read_text(encoding="utf-8")
        for path in sorted((ROOT / "docs").glob("*.md"))}
DOCUMENTATION = "\n".join([README, *DOCS.values()])


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(),
                    reason="needs git and a git checkout")
def test_git_ignores_every_file_a_relative_sqlite_database_leaves(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = open_store("sqlite:///events.sqlite3")  # relative: in the working folder
    store.migrate()
    left = sorted(path.name for path in tmp_path.iterdir())
    assert "events.sqlite3.lock" in left
    ignored = subprocess.run(["git", "-C", str(ROOT), "check-ignore", "--no-index", *left],
                             capture_output=True, text=True).stdout.split()
    assert ignored == left


def test_documentation_and_setup_page_name_the_same_cart_section():
    setup_page = (ROOT / "templates" / "setup.html").read_text(encoding="utf-8")
    named = re.compile(r"sections/[\w-]+\.liquid")
    assert set(named.findall(DOCUMENTATION)) == set(named.findall(setup_page)) \
        == {"sections/main-cart-footer.liquid"}  # Dawn's section with the checkout button


def test_the_http_contract_shows_the_health_check_s_body(client):
    body = json.dumps(client.get("/healthz").get_json(), sort_keys=True)
    assert f"`200 {body}`" in DOCS["http-contract.md"]


@pytest.mark.slow
def test_browser_tests_without_chromium_are_skipped_with_the_line_to_run(tmp_path):
    pytest.importorskip("selenium")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
         str(ROOT / "tests" / "browser" / "test_send_cart.py"), "-x"],
        env={**os.environ, "CHROMEDRIVER": str(tmp_path / "no-chromedriver")},
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "skipped" in result.stdout and "failed" not in result.stdout, result.stdout
    assert "apt-get install chromium chromium-driver" in result.stdout


def test_the_development_doc_names_every_dev_dependency():
    import tomllib
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    names = [re.match(r"[\w-]+", requirement).group(0).lower()
             for requirement in extras["project"]["optional-dependencies"]["dev"]]
    dependencies = DOCS["development.md"].split("## Dependencies", 1)[1].lower()
    assert [name for name in names if name not in dependencies] == []
