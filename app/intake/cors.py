"""Cross-origin access for the storefront's script.

The storefront page lives on the shop's domain and calls us from there, so the
receiver's endpoints answer CORS preflights and tag responses for allowed
origins. A browser request from any other origin is refused outright: a
`text/plain` POST needs no preflight, so headers alone would not stop it.
"""

from flask import Blueprint, Response, current_app, request

from .errors import ApiError

_ALLOWED_HEADERS = "Content-Type"
_ALLOWED_METHODS = "GET, POST, OPTIONS"


def _allowed(origin: str) -> bool:
    allowed = current_app.config["ALLOWED_ORIGINS"]
    # The configured list first: working out our own host costs more than a look-up.
    return allowed == "*" or origin in allowed or origin == request.host_url.rstrip("/")


def enable(blueprint: Blueprint) -> None:
    @blueprint.before_request
    def refuse_other_origins() -> tuple[str, int] | None:
        origin = request.headers.get("Origin")
        if origin and not _allowed(origin):
            raise ApiError(403, "origin_not_allowed",
                           "This website may not send carts to the store's draft order service.",
                           log=f"origin {origin[:200]!r} is not in ALLOWED_ORIGINS")
        if request.method == "OPTIONS":
            return "", 204
        return None

    @blueprint.after_request
    def add_cors_headers(response: Response) -> Response:
        origin = request.headers.get("Origin")
        if origin and _allowed(origin):
            wildcard = current_app.config["ALLOWED_ORIGINS"] == "*"
            response.headers["Access-Control-Allow-Origin"] = "*" if wildcard else origin
            response.headers["Access-Control-Allow-Methods"] = _ALLOWED_METHODS
            response.headers["Access-Control-Allow-Headers"] = _ALLOWED_HEADERS
            response.headers["Access-Control-Max-Age"] = "600"
            response.vary.add("Origin")
        return response
