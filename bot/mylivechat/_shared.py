"""A token's rolling window shared by several processes: what the rate limiter needs of it.

Each process's :class:`~bot.mylivechat.RateLimiter` mirrors the server's window from what
*it* sends. Processes that share a token can give their limiters one :class:`SharedWindow`
(the application keeps it in Redis, say): a store of the requests every process holds in
the token's window, on one clock. Its rules are the limiter's own:

* a request holds a place from before it is sent (:meth:`SharedWindow.reserve`) until
  ``window`` seconds after its answer (:meth:`SharedWindow.record` with ``expires_in``), or
  is forgotten if the server did not count it (a 429: ``expires_in=None``); a place whose
  answer never comes expires by itself long after (its process may have died);
* while nobody knows the limit, one request at a time is granted, across all processes;
* the limit and window learned from the headers are kept with the places, so a process
  that starts later need not probe; a window is only ever replaced by a smaller estimate;
* when an answer reports more requests in the window than the store holds, the difference
  (someone else using the token) is held until the reported reset;
* a ``Retry-After`` blocks every process (:meth:`SharedWindow.block`).

An implementation raises :class:`SharedWindowUnavailable` when its store cannot answer;
the limiter then uses its own mirror alone, and asks the store again now and then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["Reservation", "SharedWindow", "SharedWindowUnavailable"]


class SharedWindowUnavailable(Exception):
    """The shared window's store did not answer (down, unreachable, refusing)."""


@dataclass(frozen=True, slots=True)
class Reservation:
    """The store's answer to :meth:`SharedWindow.reserve`."""

    granted: bool
    wait: float = 0.0
    """When not granted: seconds until it is worth asking again."""
    limit: int | None = None
    """The limit as the store knows it (learned by any process), None if nobody knows."""
    window: float | None = None
    """The window in seconds as the store knows it, None if nobody knows."""


class SharedWindow(Protocol):
    """One token's window, shared by every process using the token (see the module)."""

    @property
    def name(self) -> str:
        """What to call the store in log lines (never a password)."""
        ...

    async def reserve(self, slot: str, *, limit: int | None, window: float | None) -> Reservation:
        """Take a place for request ``slot`` (unique) if the window has room for it.

        ``limit`` and ``window``: what this process knows (None: nothing yet).
        """
        ...

    async def record(
        self,
        slot: str,
        *,
        expires_in: float | None,
        limit: int | None = None,
        window: float | None = None,
        used: int | None = None,
        reset_in: float | None = None,
    ) -> None:
        """The request holding ``slot`` was answered.

        ``expires_in``: seconds from now until the server has surely forgotten it; None:
        it was not counted (refused), free the place. ``limit``/``window``: what this
        process knows now. ``used``/``reset_in``: the requests the server reported in the
        window and the seconds until its reported reset, to hold the ones no process of
        ours holds.
        """
        ...

    async def block(self, seconds: float) -> None:
        """The server said ``Retry-After: seconds``: grant nothing before it has passed."""
        ...

    async def restore(
        self,
        own: Sequence[tuple[str, float | None]],
        others: Sequence[float],
        *,
        limit: int | None,
        window: float | None,
    ) -> None:
        """Back after an outage: put back this process's places, ``(slot, expires_in)``
        (None: still in flight); if the store lost everything, also the requests of others
        this process knows of (seconds until each expires), and what it knows of the budget.
        """
        ...

    async def aclose(self) -> None: ...
