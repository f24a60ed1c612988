"""/admin/privacy: the exports that answer customers' data requests (Shopify's
customers/data_request, acted on by app/delivery/privacy.py), listed, and each
downloaded as JSON for the merchant to pass on. Behind the event log's
password and lockout (app/web/admin.py), with its security headers.
"""

from flask import Blueprint, Response, current_app, render_template
from flask.typing import ResponseReturnValue

from ..notifications.messages import EXPORTS_PATH
from . import admin, page_headers

bp = Blueprint("privacy_exports", __name__, url_prefix=EXPORTS_PATH)
bp.before_request(admin.require_password)
bp.context_processor(admin.helpers)
page_headers.protect(bp)

EXPORTS_SHOWN = 100


@bp.get("")
def exports() -> ResponseReturnValue:
    rows = current_app.extensions["store"].exports(EXPORTS_SHOWN)
    return render_template("admin/privacy.html", exports=rows, shown=EXPORTS_SHOWN)


@bp.get("/<int:export_id>")
def download(export_id: int) -> ResponseReturnValue:
    body = current_app.extensions["store"].export_body(export_id)
    if body is None:
        return render_template("admin/message.html", message="There is no export with this id "
                               "(exports are deleted after RETENTION_DAYS, or when the "
                               "customer's data is erased)."), 404
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="privacy-export-{export_id}.json"'})
