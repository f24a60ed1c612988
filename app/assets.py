"""Where the pages (templates/) and the storefront's scripts (static/) are:
beside the package in a checkout, inside it once installed from a wheel
(pyproject.toml maps the two folders into the package), so the app serves
them either way."""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _folder(name: str) -> Path:
    inside = _PACKAGE / name  # installed; checked first, as site-packages' parent is anybody's
    return inside if inside.is_dir() else _PACKAGE.parent / name


TEMPLATES = _folder("templates")
STATIC = _folder("static")
