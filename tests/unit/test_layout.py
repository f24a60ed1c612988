"""The layout of app/: imports point down the layers, never up.

Each package's __init__ says what it may import; this test holds every module
under app/ to it, reading the source (ast), so relative, absolute and
in-function imports all count:

- the base modules (config, states, ids, lifecycle, retry, assets, event) import only
  each other;
- store and shopify import the base only;
- intake and notifications import the base, store and shopify;
- delivery imports those and notifications;
- web imports anything above (never ops);
- ops, the factory (app/__init__.py) and the entry points (serve, wsgi) import
  anything but dev; nothing outside app/dev imports app.dev.
"""

import ast
import shutil
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent.parent / "app"

BASE = {"config", "states", "ids", "lifecycle", "retry", "assets", "event"}
ENTRY = {"serve", "wsgi"}
PACKAGES = {"store", "shopify", "intake", "notifications", "delivery", "web", "ops", "dev"}
# What each layer may import, besides itself.
ALLOWED = {
    "base": {"base"},
    "store": {"base"},
    "shopify": {"base"},
    "intake": {"base", "store", "shopify"},
    "notifications": {"base", "store", "shopify"},
    "delivery": {"base", "store", "shopify", "notifications"},
    "web": {"base", "store", "shopify", "intake", "notifications", "delivery"},
    "ops": {"base", "store", "shopify", "intake", "notifications", "delivery", "web"},
}
ALLOWED["factory"] = ALLOWED["ops"] | {"ops"}
ALLOWED["entry"] = ALLOWED["factory"] | {"factory"}
ALLOWED["dev"] = ALLOWED["entry"] | {"entry"}


def module_name(path, root=APP):
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(name):
    """The layer of a module `app...` (None: not the app's)."""
    parts = name.split(".")
    if parts[0] != "app":
        return None
    if len(parts) == 1:
        return "factory"
    top = parts[1]
    if top in BASE:
        return "base"
    if top in ENTRY:
        return "entry"
    if top in PACKAGES:
        return top
    raise AssertionError(f"{name}: app/{top} belongs to no layer; "
                         "add it to tests/unit/test_layout.py")


def is_module(name, root=APP):
    path = root.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imported(path, root=APP):
    """(line, module imported) for each import in the file at `path`, anywhere in it."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module
            for alias in node.names:  # `from pkg import module` imports the module
                candidate = f"{source}.{alias.name}"
                yield node.lineno, candidate if is_module(candidate, root) else source


def wrong_imports(root=APP):
    found = []
    for path in sorted(root.rglob("*.py")):
        name = module_name(path, root)
        here = layer(name)
        for line, target in imported(path, root):
            there = layer(target)
            if there is None or there == here:
                continue
            if there not in ALLOWED[here]:
                found.append(f"{path.relative_to(root.parent)}:{line}: {name} ({here}) imports "
                             f"{target} ({there})")
    return found


def test_imports_point_down_the_layers():
    found = wrong_imports()
    assert not found, "imports pointing up the layers:\n" + "\n".join(found)


def test_every_package_says_what_it_holds_and_may_import():
    for init in sorted(APP.rglob("__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc, f"{init.relative_to(APP.parent)} has no docstring"


@pytest.mark.slow
@pytest.mark.parametrize("source, wrong", [
    ("from ..delivery.worker import Worker\n", "app.delivery.worker (delivery)"),
    ("def late():\n    from ..web import admin\n", "app.web.admin (web)"),
    ("import app.ops.cli\n", "app.ops.cli (ops)"),
    ("from .. import dev\n", "app.dev (dev)"),
])
def test_an_upward_import_is_named(tmp_path, source, wrong):
    """A copy of app/ with one wrong import in app/intake/cart.py: the test names it."""
    copy = tmp_path / "app"
    shutil.copytree(APP, copy, ignore=shutil.ignore_patterns("__pycache__"))
    with (copy / "intake" / "cart.py").open("a", encoding="utf-8") as cart:
        cart.write("\n" + source)
    found = wrong_imports(copy)
    assert len(found) == 1
    assert found[0].startswith("app/intake/cart.py:")
    assert f"app.intake.cart (intake) imports {wrong}" in found[0]
