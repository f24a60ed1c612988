"""The one error shape of the HTTP contract: {"error": {"code", "detail", ...}}."""

from flask import jsonify
from werkzeug.exceptions import HTTPException


class ApiError(Exception):
    """A request we refuse; `extra` names the field or line at fault, `headers`
    go on the answer (e.g. Retry-After)."""

    def __init__(self, status, code, detail, headers=None, **extra):
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


def error_response(status, code, detail, headers=None, **extra):
    return jsonify({"error": {"code": code, "detail": detail, **extra}}), status, headers or {}


_HTTP_CODES = {
    404: ("not_found", "There is nothing at this address."),
    405: ("method_not_allowed", "This address does not accept that method."),
    413: ("body_too_large", "The request body is larger than this receiver accepts."),
}


def register(app):
    """Answer every error in the contract's JSON shape, never with a traceback."""

    @app.errorhandler(ApiError)
    def api_error(error):
        return error_response(error.status, error.code, error.detail, error.headers,
                              **error.extra)

    @app.errorhandler(HTTPException)
    def http_error(error):
        code, detail = _HTTP_CODES.get(error.code, ("http_error", error.description))
        return error_response(error.code, code, detail)

    @app.errorhandler(Exception)
    def unexpected(error):
        app.logger.exception("unexpected error")
        return error_response(500, "internal_error", "Something went wrong on our side.")
