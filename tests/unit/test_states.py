"""Every state is named once, in app/states.py, as a StrEnum whose values are
the very strings stored and sent before they were enums (so old rows and
clients keep working). What cannot import them (the storefront script, the
admin templates, SQL) is checked against them here; and app/ builds and
compares states with the members, not with bare strings (an AST scan)."""

import ast
import importlib
import re
from pathlib import Path

import pytest

from app.states import (
    CallKind,
    DraftState,
    EventStatus,
    InvoiceStatus,
    NotificationStatus,
    OutcomeKind,
    WebhookStatus,
)

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"
SEND_CART = (ROOT / "static" / "send-cart.js").read_text(encoding="utf-8")

ENUMS = (EventStatus, DraftState, InvoiceStatus, WebhookStatus, NotificationStatus,
         CallKind, OutcomeKind)
STATE_VALUES = {str(member) for enum in ENUMS for member in enum}


@pytest.mark.parametrize("enum, values", [
    (EventStatus, ["queued", "processing", "completed", "failed"]),
    (DraftState, ["open", "invoice_sent", "completed", "deleted"]),
    (InvoiceStatus, ["pending", "sent", "skipped", "failed"]),
    (WebhookStatus, ["pending", "applied", "ignored"]),
    (NotificationStatus, ["pending", "sent", "failed", "folded"]),
    (CallKind, ["poll", "lookup", "prepare", "post", "invoice", "invoice_check"]),
    (OutcomeKind, ["prepared", "created", "absent", "pending", "throttled", "unavailable",
                   "rejected", "sent", "seen"]),
], ids=lambda value: value.__name__ if isinstance(value, type) else "")
def test_each_enum_keeps_the_strings_used_before(enum, values):
    assert [member.value for member in enum] == values
    for member in enum:  # a member is its string: stored, sent and compared as before
        assert member == member.value and str(member) == f"{member}" == member.value


def test_send_cart_follows_the_draft_while_it_is_not_final():
    from app.lifecycle import FINAL

    table = re.search(r"var DRAFT_STILL_OPEN = \[([^\]]*)\];", SEND_CART).group(1)

    assert re.findall(r'"([^"]*)"', table) == [state for state in DraftState
                                                if state not in FINAL]


def test_send_cart_knows_the_invoice_sent_as_the_status_document_says_it():
    from app.intake.status import SHOWN_INVOICE

    compared = re.findall(r'\.invoice === "([^"]*)"', SEND_CART)

    assert compared == [InvoiceStatus.SENT] and InvoiceStatus.SENT in SHOWN_INVOICE


def test_the_notifications_template_knows_the_pending_status():
    template = (ROOT / "templates" / "admin" / "_notifications.html").read_text(encoding="utf-8")

    assert set(re.findall(r'notification\.status == "([^"]*)"', template)) \
        == {NotificationStatus.PENDING}


def _sql_literal_constants():
    """(module, name, call) for each module-level `_NAME = _literals(...)` of app/store."""
    for path in sorted((APP / "store").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for node in tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) \
                    and getattr(node.value.func, "id", None) == "_literals":
                for target in node.targets:
                    yield module, target.id, node.value


def test_the_stores_sql_literals_are_built_from_the_enums():
    found = list(_sql_literal_constants())
    assert {name for _, name, _ in found} >= {"_PENDING", "_QUEUED", "_FAILED", "_ACTIVE"}
    for module, name, call in found:
        assert not any(isinstance(arg, ast.Constant) for arg in call.args), name
        value = getattr(importlib.import_module(module), name)
        assert {word.strip("'") for word in value.split(", ")} <= STATE_VALUES, name
    pending = next(importlib.import_module(module)._PENDING
                   for module, name, _ in found if name == "_PENDING")
    assert pending == f"'{WebhookStatus.PENDING}'" == f"'{NotificationStatus.PENDING}'"


def test_the_store_writes_no_state_into_sql_by_hand():
    quoted = re.compile("'(" + "|".join(map(re.escape, sorted(STATE_VALUES))) + ")'")
    for path in sorted((APP / "store").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert not quoted.search(node.value), (path.name, node.lineno, node.value)


# --- the AST scan: states built or compared with bare strings

# The values each state's key (a keyword, a column in a dict) may be set to.
KEY_VALUES = {
    "status": {str(status) for enum in (EventStatus, WebhookStatus, NotificationStatus)
               for status in enum},
    "draft_state": {str(state) for state in DraftState},
    "state": {str(state) for state in DraftState},
    "invoice_status": {str(status) for status in InvoiceStatus},
    "kind": {str(kind) for enum in (OutcomeKind, CallKind) for kind in enum},
}
STATE_KEYS = set(KEY_VALUES)
STATE_NAMES = {"kind", "status", "state", "current"}
STATUS_TAKERS = {"finish_notification", "add_webhook"}
OUTCOME_VALUES = {str(kind) for kind in OutcomeKind}


def _strings(node):
    """The string constants `node` is, or holds as a tuple, list or set."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [value for element in node.elts for value in _strings(element)]
    return []


def _names_a_state(node):
    """Whether `node` reads a state: x.kind, x.status, kind, event["draft_state"],
    event.get("invoice_status"), call_kind(...)."""
    if isinstance(node, ast.Attribute):
        return node.attr in STATE_KEYS
    if isinstance(node, ast.Name):
        return node.id in STATE_NAMES
    if isinstance(node, ast.Subscript):
        return any(value in STATE_KEYS for value in _strings(node.slice))
    if isinstance(node, ast.Call):
        func = node.func
        if getattr(func, "id", None) == "call_kind":
            return True
        return getattr(func, "attr", None) == "get" and bool(node.args) \
            and any(value in STATE_KEYS for value in _strings(node.args[0]))
    return False


def _callee(call):
    return getattr(call.func, "id", None) or getattr(call.func, "attr", None)


def bare_states(source):
    """(line, string) for each bare string built or compared as a state in `source`."""
    tree = ast.parse(source)
    found = []
    for node in tree.body:  # a state named again: OPEN = "open", SHOWN = ("sent", "failed")
        if isinstance(node, ast.Assign):
            values = _strings(node.value)
            if values and set(values) <= STATE_VALUES:
                found += [(node.lineno, value) for value in values]
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            callee = _callee(node)
            if callee in ("Outcome", "DraftSeen"):
                first = node.args[:1] + [k.value for k in node.keywords
                                         if k.arg in ("kind", "state")]
                found += [(node.lineno, value) for arg in first for value in _strings(arg)]
            else:
                found += [(node.lineno, value) for keyword in node.keywords
                          if keyword.arg in STATE_KEYS for value in _strings(keyword.value)
                          if value in KEY_VALUES[keyword.arg]]
            if callee in STATUS_TAKERS:
                found += [(node.lineno, value) for arg in node.args
                          for value in _strings(arg) if value in STATE_VALUES]
        elif isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(_names_a_state(operand) for operand in operands):
                found += [(node.lineno, value) for operand in operands
                          for value in _strings(operand) if value in STATE_VALUES]
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                for column in _strings(key) if key is not None else ():
                    found += [(node.lineno, v) for v in _strings(value)
                              if v in KEY_VALUES.get(column, ())]
        elif isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple) \
                and node.value.elts:  # (status, note, ...) as a webhook's judge says it
            found += [(node.lineno, value) for value in _strings(node.value.elts[0])
                      if value in {str(status) for status in WebhookStatus}]
    return found


def test_the_scan_finds_bare_states():
    source = '''
Outcome("sent")
Outcome(kind="throttled", retry_after=1.0)
DraftSeen("open", None)
if outcome.kind == "seen" or kind in ("poll", "post") or call_kind(e) != "invoice": pass
if event["draft_state"] in ("completed", "deleted") or e.get("invoice_status") == "sent": pass
x = {"invoice_status": "pending", "draft_state": "open"}
f(status="failed")
store.finish_notification(claimed, "sent")
def judge(): return "ignored", "why", None
OPEN, DELETED = "open", "deleted"
SHOWN = ("sent", "skipped")
'''
    assert sorted(value for _, value in bare_states(source)) == sorted([
        "sent", "throttled", "open", "seen", "poll", "post", "invoice", "completed",
        "deleted", "sent", "pending", "open", "failed", "sent", "ignored",
        "open", "deleted", "sent", "skipped"])
    assert bare_states('Outcome(OutcomeKind.SENT)\nif kind == CallKind.POLL: pass\n'
                       'if held.grant_kind == "installed" or answer.status == 202: pass\n'
                       'x = {"kind": DRAFT_CREATED, "detail": "failed"}\n'
                       'jsonify(status="unavailable")\n'
                       'KINDS = "draft_created", "failed", "credentials_problem"\n') == []


def test_app_builds_and_compares_states_with_the_enums():
    bare = []
    for path in sorted(APP.rglob("*.py")):
        if path.relative_to(APP).parts[0] == "dev":  # the simulator plays Shopify's side
            continue
        bare += [(str(path.relative_to(ROOT)), line, value)
                 for line, value in bare_states(path.read_text(encoding="utf-8"))]
    assert bare == []
