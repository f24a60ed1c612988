"""The one error shape of the HTTP contract: {"error": {"code", "detail", ...}},
for every error the app answers: an ApiError (app/intake/errors.py), a Werkzeug
HTTP error, anything unexpected.

An ApiError's detail may reach a shopper (the storefront script shows it), so it names no
setting and no internal detail; an error's `log` carries the precise reason
for the merchant, to the log line only.
"""

from collections.abc import Mapping

from flask import Flask, Response, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from ..intake.errors import ApiError
from ..store.batching import Busy


def error_response(status: int, code: str, detail: str | None,
                   headers: Mapping[str, str] | None = None,
                   **extra: object) -> tuple[Response, int, Mapping[str, str]]:
    # detail is None only for an HTTPException raised without a description.
    return jsonify({"error": {"code": code, "detail": detail, **extra}}), status, headers or {}


_HTTP_CODES = {
    404: ("not_found", "There is nothing at this address."),
    405: ("method_not_allowed", "This address does not accept that method."),
    413: ("body_too_large", "The request body is larger than this receiver accepts."),
}


def register(app: Flask) -> None:
    """Answer every error in the contract's JSON shape, never with a traceback."""

    @app.errorhandler(ApiError)
    def api_error(error: ApiError) -> ResponseReturnValue:
        if error.log:
            app.logger.warning("refused %s %s from %s: %d %s: %s", request.method, request.path,
                               request.remote_addr, error.status, error.code, error.log)
        return error_response(error.status, error.code, error.detail, error.headers,
                              **error.extra)

    @app.errorhandler(Busy)
    def busy(error: Busy) -> ResponseReturnValue:
        # More submissions wait to be written than the process queues (app/store/batching.py).
        app.logger.warning("refused %s %s: %s", request.method, request.path, error)
        return error_response(503, "busy", "Too many carts are being sent right now; please "
                              "try again in a moment.",
                              {"Retry-After": str(error.retry_after)},
                              retry_after=error.retry_after)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        # Flask hands a handler only exceptions with a code (handle_http_exception
        # returns code-less proxy exceptions as they are).
        assert error.code is not None
        code, detail = _HTTP_CODES.get(error.code, ("http_error", error.description))
        return error_response(error.code, code, detail)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> ResponseReturnValue:
        app.logger.exception("unexpected error")
        return error_response(500, "internal_error", "Something went wrong on our side.")
