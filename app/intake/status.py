"""The status document: what a shopper may see of an event, at
`GET /events/<token>` (app/intake/routes.py).
"""

from ..event import Event
from ..states import DraftState, InvoiceStatus
from .shopper_texts import shopper_error, shopper_line

# The invoice's statuses a shopper hears of (pending is no news yet).
SHOWN_INVOICE = (InvoiceStatus.SENT, InvoiceStatus.SKIPPED, InvoiceStatus.FAILED)
# The order's financial statuses that mean the customer paid (and kept it).
PAID = ("paid", "partially_refunded")


def status_document(event: Event) -> dict[str, object]:
    """What a shopper may see of an event: its outcome, nothing of its payload,
    the cart lines left out of its draft order, and for a failure its code, a
    shopper's sentence (not the stored detail) and the cart lines it names.

    Line objects ({line, variant_id, code, detail}) are written for shoppers by
    the backends, but for the lines Shopify refused. Events delivered before
    migrations 3 and 4 have these columns empty: no lines, no order, and their
    draft is shown as open."""
    draft: dict[str, object] | None = None
    order: dict[str, object] | None = None
    invoice = event.get("invoice_status")
    if event["draft_order_id"] is not None:
        draft = {"id": event["draft_order_id"], "name": event["draft_order_name"],
                 "invoice_url": event["invoice_url"],
                 "state": event.get("draft_state") or DraftState.OPEN,
                 "invoice": invoice if invoice in SHOWN_INVOICE else None}
    if event.get("order_id") is not None:
        order = {"name": event.get("order_name"),
                 "paid": event.get("order_financial_status") in PAID}
    error: dict[str, object] | None = None
    if event["error_code"]:
        error = {"code": event["error_code"],
                 "detail": shopper_error(event["error_code"])}
        lines = event.get("error_lines")
        if lines:
            error["lines"] = [shopper_line(line) for line in lines]
    prepared = event.get("prepared") or {}
    return {"id": event["id"], "status": event["status"], "draft_order": draft, "error": error,
            "dropped_lines": prepared.get("dropped", []), "order": order}
