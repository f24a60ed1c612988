"""pyproject.toml's floors admit no release with a published advisory we know of
(CI's audit checks what is installed; this checks what a fresh install may pick)."""

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

PYPROJECT = Path(__file__).resolve().parent.parent.parent / "pyproject.toml"

# package: (advisory, first fixed release)
FIXED = {
    "flask": ("CVE-2026-27205, session without Vary: Cookie", "3.1.3"),
    "werkzeug": ("CVE-2026-27199, safe_join and Windows device names", "3.1.6"),
    "jinja2": ("CVE-2025-27516, sandbox escape through |attr", "3.1.6"),
    "requests": ("CVE-2026-25645, extract_zipped_paths temporary file", "2.33.0"),
    "urllib3": ("CVE-2026-44432, decompression bomb in the streaming API", "2.7.0"),
    "cryptography": ("CVE-2026-69247, a Bleichenbacher oracle in PKCS#7 decryption", "50.0.0"),
    "waitress": ("CVE-2024-49768, request processing race on pipelined requests", "3.0.1"),
}


def floors():
    requirements = map(Requirement, tomllib.loads(PYPROJECT.read_text())["project"]
                       ["dependencies"])
    return {r.name.lower(): min(Version(s.version) for s in r.specifier if s.operator == ">=")
            for r in requirements}


@pytest.mark.parametrize("package", sorted(FIXED))
def test_the_floor_is_past_the_last_advisory(package):
    advisory, fixed = FIXED[package]
    if package not in floors():
        pytest.skip(f"{package} is no longer a dependency")

    assert floors()[package] >= Version(fixed), advisory
