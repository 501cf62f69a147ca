"""A shared store as one process sees it: up, or away since a failure.

Every request may meet the failure; the log says it once when the store goes away and
once when it is back, and while it is away it is asked again only every few seconds, so
no request waits on a store that is down.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

__all__ = ["RETRY_EVERY", "Outage"]

RETRY_EVERY = 5.0
"""Seconds between asks while the store is away."""


class Outage:
    """One log line each way; ``skipping`` while the store is away and not due again."""

    def __init__(
        self,
        log: logging.Logger,
        *,
        lost: str,
        back: str,
        retry_every: float = RETRY_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``lost`` and ``back`` are the log lines, with ``{where}`` (and ``lost`` also
        ``{error}``) in them."""
        self._log = log
        self._lost = lost
        self._back = back
        self.retry_every = retry_every
        self._clock = clock
        self.down = False
        self._retry_at = 0.0

    @property
    def skipping(self) -> bool:
        """The store failed a moment ago: do without it rather than wait on it again."""
        return self.down and self._clock() < self._retry_at

    def failed(self, where: str, error: BaseException | str) -> None:
        self._retry_at = self._clock() + self.retry_every
        if not self.down:
            self.down = True
            reason = error if isinstance(error, str) else (str(error) or type(error).__name__)
            self._log.warning(self._lost.format(where=where, error=reason))

    def worked(self, where: str) -> None:
        if self.down:
            self.down = False
            self._log.info(self._back.format(where=where))
