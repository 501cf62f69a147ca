"""The command the current task is running, for whoever writes a log line meanwhile.

The dispatcher sets it around each command it runs; the application's log formatter reads
it, so every line written during a command carries that command's request id.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass

__all__ = ["RunningCommand", "running_command"]


@dataclass(frozen=True, slots=True)
class RunningCommand:
    request_id: str
    """Made up by the dispatcher for this one run: the same in every line it logs."""
    name: str
    started: float
    """``time.monotonic()`` when the run began."""


current: contextvars.ContextVar[RunningCommand | None] = contextvars.ContextVar(
    "mlc_running_command", default=None
)


def running_command() -> RunningCommand | None:
    """The command the current task (or the task that started it) is running, if any."""
    return current.get()
