"""What a caller tells the rate limiter about the requests it is about to make.

A command arrives at some moment and must be answered by some deadline (Slack's response
URL lives 30 minutes). :func:`request_budget` sets both for every request made inside it,
however deep in the call stack, so requests are served in the order their commands
arrived, and a request that could only go out after its deadline is not queued at all.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from dataclasses import dataclass

__all__ = ["RequestBudget", "current_budget", "request_budget"]


@dataclass(frozen=True, slots=True)
class RequestBudget:
    priority: float | None = None
    """``time.monotonic()`` when the work arrived; earlier goes first."""
    deadline: float | None = None
    """``time.monotonic()`` after which an answer is of no use."""
    on_wait: Callable[[float], None] | None = None
    """Called with the estimated seconds when a request has to wait for the budget."""


_NONE = RequestBudget()
_current: contextvars.ContextVar[RequestBudget | None] = contextvars.ContextVar(
    "mlc_request_budget", default=None
)


def current_budget() -> RequestBudget:
    return _current.get() or _NONE


@contextlib.contextmanager
def request_budget(
    *,
    priority: float | None = None,
    deadline: float | None = None,
    on_wait: Callable[[float], None] | None = None,
) -> Iterator[RequestBudget]:
    """Requests made inside the block (and in tasks it starts) carry this budget."""
    budget = RequestBudget(priority, deadline, on_wait)
    token = _current.set(budget)
    try:
        yield budget
    finally:
        _current.reset(token)
