"""CI: audit the project's run-time dependencies against a vulnerability database.

What is audited is what a deployment installs: the project's dependencies and
theirs, at the versions installed here, not pip or setuptools of the machine
image (which the project does not control). A known vulnerability fails the
run; a database that cannot be reached (an offline CI machine, a PyPI mirror
without per-version data) gets one visible line and passes, because otherwise
an offline CI could never pass. Run by .ci/run: `python3 .ci/audit_dependencies.py`.
"""

import json
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PROJECT = "cart-draft-orders"
TIMEOUT = 150  # seconds for one service's whole audit; each request times out after 15 s
# PyPI's advisories first, then OSV's; each as pip-audit's options.
SERVICES = (("--vulnerability-service", "pypi"), ("--vulnerability-service", "osv"))
PREFIX = "dependency audit:"


def closure(project=PROJECT):
    """{name: installed version} of everything `project` needs at run time,
    following extras (psycopg[binary]) and this machine's environment markers."""
    pinned, seen = {}, set()
    pending = [(canonicalize_name(project), frozenset())]
    while pending:
        name, extras = pending.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        for text in metadata.distribution(name).requires or []:
            requirement = Requirement(text)
            if requirement.marker is not None and not any(
                    requirement.marker.evaluate({"extra": extra}) for extra in extras or {""}):
                continue
            wanted = canonicalize_name(requirement.name)
            pinned[wanted] = metadata.version(wanted)
            pending.append((wanted, frozenset(requirement.extras)))
    return pinned


def verdict(report):
    """The exit status and the lines to print for pip-audit's JSON report."""
    dependencies = report["dependencies"]
    skipped = sorted(d["name"] for d in dependencies if d.get("skip_reason"))
    found = [(d["name"], d["version"], v) for d in dependencies for v in d.get("vulns", [])]
    if found:
        return 1, [f"{PREFIX} {name} {version}: {vuln['id']} (fixed in "
                   f"{', '.join(vuln.get('fix_versions') or ['no release yet'])})"
                   for name, version, vuln in found]
    lines = [f"{PREFIX} {len(dependencies) - len(skipped)} packages, no known vulnerabilities"]
    if skipped:
        lines.append(f"{PREFIX} could not look up {', '.join(skipped)}")
    return 0, lines


def _report(pinned, service, timeout):
    """pip-audit's JSON report on `pinned` from one service, or None and why not.
    A report in which no package could be looked up (a PyPI mirror without
    per-version data answers "not found" for each) counts as no report."""
    with tempfile.TemporaryDirectory() as directory:
        requirements, output = Path(directory, "requirements.txt"), Path(directory, "audit.json")
        requirements.write_text("".join(f"{n}=={v}\n" for n, v in sorted(pinned.items())))
        command = [sys.executable, "-m", "pip_audit", "-r", str(requirements), "--no-deps",
                   "--disable-pip", "--progress-spinner", "off", "--timeout", "15",
                   "-f", "json", "-o", str(output), *service]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, f"{service[-1]}: no answer within {timeout} s"
        if not output.exists():  # pip-audit stopped before reporting
            last = (result.stderr.strip().splitlines() or ["pip-audit failed"])[-1]
            return None, f"{service[-1]}: {last[:160]}"
        report = json.loads(output.read_text())
        if not any("skip_reason" not in d for d in report["dependencies"]):
            return None, f"{service[-1]}: no package could be looked up"
        return report, None


def audit(pinned, services=SERVICES, timeout=TIMEOUT):
    """(exit status, lines to print): the first service that answers decides."""
    reasons = []
    for service in services:
        report, reason = _report(pinned, service, timeout)
        if report is not None:
            return verdict(report)
        reasons.append(reason)
    return 0, [f"{PREFIX} vulnerability database unreachable, skipped ({'; '.join(reasons)})"]


def main():
    status, lines = audit(closure())
    print("\n".join(lines), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
