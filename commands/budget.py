"""When MyLiveChat's rate limit makes a command wait: the notice, and the refusal.

A command that has to wait more than a moment for the token's budget tells the caller at
once that it is queued and roughly for how long; a command that could only be answered
after its reply channel expires is not queued at all (see ``failures``).
"""

from __future__ import annotations

import asyncio
import logging

from .context import Context
from .reply import Kind, Reply
from .timefmt import seconds

__all__ = ["QUEUED_NOTICE_AFTER", "QueueNotice", "queued_reply"]

log = logging.getLogger("mlc_bot.commands")

QUEUED_NOTICE_AFTER = 2.0
"""Waits shorter than this go unmentioned: the answer comes about as soon as a notice would."""


def queued_reply(command: str, wait: float) -> Reply:
    return Reply(
        title="Queued",
        text=(
            f"MyLiveChat's rate limit is spent for the moment, so `{command}` waits its turn: "
            f"about {seconds(wait)}. The answer follows here."
        ),
        kind=Kind.INFO,
    )


class QueueNotice:
    """Sends the "queued" notice once per command, when the wait is worth mentioning."""

    def __init__(self, ctx: Context, command: str) -> None:
        self._ctx = ctx
        self._command = command
        self._sending: asyncio.Task[None] | None = None

    def saw_wait(self, wait: float) -> None:
        """The rate limiter's ``on_wait``: called (synchronously) when a request must wait."""
        notify = self._ctx.notify
        if self._sending is not None or notify is None or wait < QUEUED_NOTICE_AFTER:
            return
        self._sending = asyncio.ensure_future(notify(queued_reply(self._command, wait)))

    async def settled(self) -> None:
        """Wait for the notice to be out, so it never arrives after the answer."""
        if self._sending is None:
            return
        try:
            await self._sending
        except Exception as exc:  # the answer matters more than the notice
            log.warning("could not say that %r is queued: %r", self._command, exc)
