"""Errors raised by the MyLiveChat API client.

The hierarchy::

    MyLiveChatError                 every failure; carries code, message, status, request_id
    ├── APIStatusError              the API answered with an error envelope or an error status
    │   ├── BadRequest              400 bad_request / missing_field / bad_field
    │   ├── AuthError               401 unauthorized
    │   ├── ScopeError              403 forbidden_scope
    │   ├── NotFound                404 not_found / unknown_resource
    │   ├── Conflict                409 duplicate_name
    │   ├── RateLimited             429 rate_limited (with retry_after)
    │   └── ServerError             5xx internal_error
    ├── TransportError              no usable answer: timeout, connection failure, non-JSON body
    └── BudgetExhausted             not sent: the rate limit would hold it past its deadline

Every error's text is safe to show a user: it never contains the token.
"""

from __future__ import annotations

__all__ = [
    "APIStatusError",
    "AuthError",
    "BadRequest",
    "BudgetExhausted",
    "Conflict",
    "MyLiveChatError",
    "NotFound",
    "RateLimited",
    "ScopeError",
    "ServerError",
    "TransportError",
    "error_for_status",
]


class MyLiveChatError(Exception):
    """Base of every client error.

    ``code`` is the API's error code (or a client-side one such as ``timeout``),
    ``status`` the HTTP status when there was one, ``request_id`` the id to quote
    to MyLiveChat support.
    """

    default_code = "error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.status = status
        self.request_id = request_id

    def __str__(self) -> str:
        parts = [f"{self.code}: {self.message}"]
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.request_id:
            parts.append(f"request id {self.request_id}")
        return " | ".join(parts)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, "
            f"status={self.status!r}, request_id={self.request_id!r})"
        )


class APIStatusError(MyLiveChatError):
    """The API answered, and the answer was an error."""


class BadRequest(APIStatusError):
    default_code = "bad_request"


class AuthError(APIStatusError):
    default_code = "unauthorized"


class ScopeError(APIStatusError):
    default_code = "forbidden_scope"


class NotFound(APIStatusError):
    default_code = "not_found"


class Conflict(APIStatusError):
    default_code = "duplicate_name"


class RateLimited(APIStatusError):
    default_code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class ServerError(APIStatusError):
    default_code = "internal_error"


class TransportError(MyLiveChatError):
    """No usable answer: a timeout, a refused connection or a body that is not JSON."""

    default_code = "transport_error"


class BudgetExhausted(MyLiveChatError):
    """The request was not sent: the token's budget is spent for longer than it may wait.

    ``retry_after`` is the estimated wait, in seconds, before the budget has room again.
    """

    default_code = "rate_limit_spent"

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequest,
    401: AuthError,
    403: ScopeError,
    404: NotFound,
    409: Conflict,
    429: RateLimited,
}


def error_for_status(status: int) -> type[APIStatusError]:
    """The exception class for an HTTP error status."""
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, BadRequest if 400 <= status < 500 else APIStatusError)
