"""CI's dependency audit (.ci/audit_dependencies.py), against the real pip-audit
and a local stand-in for OSV's vulnerability database."""

import importlib.util
import json
from pathlib import Path

import pytest
from flask import Flask, request
from servers import free_port, serve

pytest.importorskip("pip_audit")

SCRIPT = Path(__file__).resolve().parent.parent.parent / ".ci" / "audit_dependencies.py"
spec = importlib.util.spec_from_file_location("audit_dependencies", SCRIPT)
audit_dependencies = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit_dependencies)

ADVISORY = {"id": "GHSA-test-0000-0000", "summary": "a test advisory",
            "affected": [{"package": {"name": "flask", "ecosystem": "PyPI"},
                          "ranges": [{"type": "ECOSYSTEM",
                                      "events": [{"introduced": "0"}, {"fixed": "3.1.1"}]}]}]}


@pytest.fixture
def osv():
    """An OSV query API that knows one advisory: flask before 3.1.1."""
    app = Flask(__name__)

    @app.post("/v1/query")
    def query():
        asked = json.loads(request.get_data())
        vulnerable = asked["package"]["name"] == "flask" and asked["version"] == "3.0.0"
        return {"vulns": [ADVISORY]} if vulnerable else {}

    with serve(app) as server:
        yield (("--vulnerability-service", "osv", "--osv-url", f"{server.url}/v1/query"),)


def test_the_audited_set_is_the_projects_run_time_closure():
    pinned = audit_dependencies.closure()

    assert {"flask", "werkzeug", "jinja2", "requests", "urllib3", "psycopg-binary"} <= set(pinned)
    assert not {"pip", "setuptools", "pytest", "cart-draft-orders"} & set(pinned)


@pytest.mark.slow
def test_a_known_vulnerability_fails_the_audit(osv):
    status, lines = audit_dependencies.audit({"flask": "3.0.0", "click": "8.1.7"}, osv)

    assert status == 1
    assert lines == ["dependency audit: flask 3.0.0: GHSA-test-0000-0000 (fixed in 3.1.1)"]


@pytest.mark.slow
def test_no_known_vulnerability_passes_the_audit(osv):
    status, lines = audit_dependencies.audit({"flask": "3.1.3", "click": "8.1.7"}, osv)

    assert (status, lines) == (0, ["dependency audit: 2 packages, no known vulnerabilities"])


@pytest.mark.slow
def test_an_unreachable_database_is_a_visible_skip_not_a_failure():
    closed = f"http://127.0.0.1:{free_port()}/v1/query"
    service = (("--vulnerability-service", "osv", "--osv-url", closed),)

    status, [line] = audit_dependencies.audit({"flask": "3.0.0"}, service)

    assert status == 0
    assert line.startswith("dependency audit: vulnerability database unreachable, skipped")
