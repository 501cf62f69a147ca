"""What the client tells an observer about its requests (the application's metrics).

The client knows nothing of Prometheus: it calls these hooks, and the application records
what it wants. A hook that raises is logged and ignored, so a metrics bug never turns an
answered request into a failed one.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["RequestObserver"]


@runtime_checkable
class RequestObserver(Protocol):
    """Told about every attempt the client makes (retries count one each)."""

    def request_done(self, method: str, resource: str, status: str, seconds: float) -> None:
        """An attempt ended: ``status`` is the HTTP status as text (``"200"``, ``"429"``), or
        for an attempt that got no answer the error's code (``"timeout"``,
        ``"connection_error"``, ``"connection_lost"``, ...). ``seconds``: the HTTP exchange,
        rate-limit waits excluded."""
        ...

    def budget_waited(self, seconds: float) -> None:
        """An attempt waited ``seconds`` for the token's rate limit before it was sent
        (about 0 when the budget had room)."""
        ...
