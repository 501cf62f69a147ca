"""Errors raised by the MyLiveChat API client.

The hierarchy::

    MyLiveChatError                 every failure; carries code, message, status, request_id
    ├── APIStatusError              the API answered with its error envelope (or a 4xx status)
    │   ├── BadRequest              400 bad_request / missing_field / bad_field
    │   ├── AuthError               401 unauthorized
    │   ├── ScopeError              403 forbidden_scope
    │   ├── NotFound                404 not_found / unknown_resource
    │   ├── Conflict                409 duplicate_name
    │   ├── RateLimited             429 rate_limited (with retry_after)
    │   └── ServerError             5xx with the API's internal_error envelope
    ├── APIConnectionError          no usable answer from the API
    │   ├── ConnectionFailed        never sent (refused, DNS, connect timeout): nothing happened
    │   ├── APITimeout              sent, and no answer came in time
    │   ├── ConnectionLost          sent, and the connection dropped before the answer
    │   └── UndecodableResponse     an answer that is not the API's JSON (proxy page, garbled
    │                               body, a 5xx without the API's envelope)
    ├── OutcomeUnknown              a write was sent and its answer lost: it may have been
    │                               applied; ``cause`` is the error that lost the answer
    └── BudgetExhausted             not sent: the rate limit would hold it past its deadline

A read (GET, HEAD) raises the error as it is. A write (POST, PATCH, DELETE) that was sent and
got no answer saying what became of it raises :class:`OutcomeUnknown` instead, with the error
as its ``cause``. That is: a timeout, a dropped connection, an undecodable 2xx or 5xx, and also
the API's own 500 envelope, because the vendor does not promise that a server-side error
rolled the change back. A :class:`ConnectionFailed`, a 3xx/4xx answer and every other API
error envelope say the write was not applied, so they are raised as they are.

Every error's text is safe to show a user: it never contains the token.
"""

from __future__ import annotations

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeout",
    "AuthError",
    "BadRequest",
    "BudgetExhausted",
    "Conflict",
    "ConnectionFailed",
    "ConnectionLost",
    "MyLiveChatError",
    "NotFound",
    "OutcomeUnknown",
    "RateLimited",
    "ScopeError",
    "ServerError",
    "UndecodableResponse",
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
    """The API's own 5xx envelope: it failed on its side (quote the request id)."""

    default_code = "internal_error"


class APIConnectionError(MyLiveChatError):
    """No usable answer from the API: see the subclasses for what happened."""

    default_code = "transport_error"


class ConnectionFailed(APIConnectionError):
    """The request never reached MyLiveChat (refused, unresolvable, connect timeout).

    Nothing was sent, so nothing was applied: repeating any request is safe.
    """

    default_code = "connection_error"


class APITimeout(APIConnectionError):
    """The request was sent and MyLiveChat did not answer in time."""

    default_code = "timeout"


class ConnectionLost(APIConnectionError):
    """The request was sent and the connection dropped before an answer came."""

    default_code = "connection_lost"


class UndecodableResponse(APIConnectionError):
    """An answer that is not the API's JSON: a proxy's error page, a garbled body.

    ``status`` is the HTTP status it came with.
    """

    default_code = "bad_response"


class OutcomeUnknown(MyLiveChatError):
    """A write was sent and no answer said what became of it: it may have been applied.

    Never repeat it blindly: read the resource back to learn what happened. ``cause`` is the
    error that lost the answer (also ``__cause__``); code, status, request id and message are
    its. ``method`` and ``resource`` say what was attempted. ``safe_to_repeat`` is True for
    the writes the API documents as idempotent (the client has retried those already).
    """

    def __init__(
        self,
        cause: MyLiveChatError,
        *,
        method: str,
        resource: str,
        safe_to_repeat: bool = False,
    ) -> None:
        super().__init__(
            cause.message, code=cause.code, status=cause.status, request_id=cause.request_id
        )
        self.cause = cause
        self.method = method
        self.resource = resource
        self.safe_to_repeat = safe_to_repeat

    @property
    def may_still_apply(self) -> bool:
        """True when the API itself never answered (a timeout, a dropped connection, a proxy's
        5xx page): MyLiveChat may still be working on the write, so a read made now may not
        show it yet. False after the API's 500 envelope or a garbled 2xx: it had finished."""
        if isinstance(self.cause, ServerError):
            return False
        status = self.cause.status
        return not (isinstance(self.cause, UndecodableResponse) and status and status < 400)

    def __repr__(self) -> str:
        return (
            f"OutcomeUnknown(method={self.method!r}, resource={self.resource!r}, "
            f"cause={self.cause!r})"
        )


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
