"""Security headers for the pages a person opens in a browser: the setup page
and the admin's event log. One policy for both, so neither drifts.

Scripts come only from our own /static/ files (no inline script an injected
string could become); styles may be inline (the layout carries them); no page
may be framed (clickjacking the retry button), cached (customer data,
configuration) or sniffed into another type.
"""

from flask import Blueprint, Response

HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; "
                               "style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    # Not "no-referrer": with it browsers send `Origin: null` on our own form posts.
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def protect(blueprint: Blueprint) -> None:
    """Put HEADERS on every answer of `blueprint`, refusals included."""

    @blueprint.after_request
    def harden(response: Response) -> Response:
        response.headers.update(HEADERS)
        return response
