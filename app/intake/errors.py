"""The refusal of a request: `ApiError`, which intake raises before anything
is written, and app/web/errors.py answers in the HTTP contract's one error
shape, {"error": {"code", "detail", ...}}.

The detail may reach a shopper (the storefront script shows it), so it names no
setting and no internal detail; an error's `log` carries the precise reason
for the merchant, to the log line only.
"""

from collections.abc import Mapping


class ApiError(Exception):
    """A request we refuse; `extra` names the field or line at fault, `headers`
    go on the answer (e.g. Retry-After), `log` is the reason for the log line
    when the shopper's `detail` leaves it out (never a secret)."""

    def __init__(self, status: int, code: str, detail: str,
                 headers: Mapping[str, str] | None = None, log: str | None = None,
                 **extra: object) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers or {}
        self.log = log
        self.extra = extra
