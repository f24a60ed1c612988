"""An event as the store keeps it and every layer reads it: the contract
between intake, the store, delivery and the pages, as one TypedDict.

A base module (it imports nothing of the app's), so that the pure rules of
app/lifecycle.py can name it without importing the store. `Any` is JSON: the
draft order payload and a preparation's findings.
"""

from typing import Any, TypedDict


class Event(TypedDict):
    """An event, every column of the events table (migrations 1, 3 and 4)."""

    id: str
    status: str                      # an EventStatus value
    customer_id: int | None          # None: a guest
    line_count: int
    received: str                    # the body as sent, or as much as is kept
    payload: dict[str, Any]          # the draft order payload (JSON), decoded
    attempts: int
    failures: int
    throttles: int
    next_attempt_at: float
    lease_owner: str | None
    lease_until: float | None
    poll_url: str | None
    poll_deadline: float | None
    draft_order_id: int | None
    draft_order_name: str | None
    invoice_url: str | None
    error_code: str | None
    error_detail: str | None
    fingerprint: str | None
    client_ip: str | None
    maybe_posted: int                # 0 or 1
    created_at: float
    updated_at: float
    # Migration 3.
    prepared: dict[str, Any] | None  # a preparation's findings (JSON), decoded
    error_lines: list[dict[str, Any]] | None  # the lines a failure names (JSON), decoded
    # Migration 4.
    draft_state: str | None
    draft_updated_at: float | None
    order_id: int | None
    order_name: str | None
    order_financial_status: str | None
    invoice_status: str | None
    invoice_detail: str | None
    invoice_maybe_sent: int          # 0 or 1
    reconcile_at: float | None
    reconcile_count: int
