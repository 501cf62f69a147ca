"""Logging set-up shared by every process: one format, secrets redacted."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path

from .secrets import RedactingFilter

__all__ = ["LOG_FORMAT", "QUIET_LOGGERS", "configure_logging", "log_to_file"]

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# LOG_LEVEL=DEBUG is for the bot's own loggers (mlc_bot.*, bot.*). Libraries narrate every
# socket read, SQL statement, row and event loop tick at DEBUG, which buries the bot's lines
# (and can echo request bodies), so each of these is held at its floor whatever LOG_LEVEL is;
# a higher LOG_LEVEL still wins. INFO where a library's INFO lines are rare and useful
# (connected, disconnected), WARNING where INFO is itself per-request or per-poll noise.
QUIET_LOGGERS: dict[str, int] = {
    "httpx": logging.WARNING,  # one INFO line per HTTP request
    "httpcore": logging.INFO,
    "aiosqlite": logging.INFO,
    "sqlalchemy": logging.WARNING,  # INFO echoes every SQL statement
    "tzlocal": logging.INFO,
    "asyncio": logging.INFO,
    "apscheduler": logging.INFO,
    "apscheduler.executors": logging.WARNING,  # "Running job ..." at INFO on every poll
    "slack_sdk": logging.INFO,
    "slack_bolt": logging.INFO,
    "discord": logging.INFO,  # discord.http, discord.gateway, discord.client, discord.state
}


def configure_logging(level: str = "INFO") -> None:
    """Log to stderr at ``level`` (a name such as "DEBUG"), libraries no lower than their floor."""
    numeric = logging.getLevelName(level.strip().upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    for name, floor in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(max(numeric, floor))


def log_to_file(path: Path) -> Callable[[], None]:
    """Send every log line (and Python's warnings) to ``path`` instead of the terminal,
    redacted and formatted as on stderr; returns how to put the terminal's logging back."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers[:] = [handler]
    logging.captureWarnings(True)

    def restore() -> None:
        logging.captureWarnings(False)
        root.handlers[:] = saved
        handler.close()

    return restore
