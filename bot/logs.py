"""Logging set-up shared by every process: text or JSON lines, secrets redacted.

``LOG_FORMAT=json`` writes one JSON object per line: ``time``, ``level``, ``logger``,
``message``; while a command runs, its ``request_id`` and ``command``, and the
``mlc_request_id`` MyLiveChat gave the command's latest answer; an ``exception`` as one
string. The redacting filter runs before either format, and the JSON formatter redacts
every field once more (fields passed as ``extra=`` too).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from commands.running import running_command

from .mylivechat import last_request_id
from .secrets import RedactingFilter, redact

__all__ = ["QUIET_LOGGERS", "JsonLineFormatter", "configure_logging", "log_to_file"]

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

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


class JsonLineFormatter(JsonFormatter):
    """One JSON object per record, on one line, with the running command's ids."""

    def __init__(self) -> None:
        super().__init__(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger", "exc_info": "exception"},
            timestamp="time",
            json_ensure_ascii=False,
        )

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        running = running_command()
        if running is not None:
            log_data["request_id"] = running.request_id
            log_data["command"] = running.name
            mlc_request_id = last_request_id(since=running.started)
            if mlc_request_id is not None:
                log_data["mlc_request_id"] = mlc_request_id
        ordered = {"time": log_data.pop("time"), **log_data}
        # The filter scrubbed the message and the traceback; extras and stacks it never saw.
        return {key: _redacted(value) for key, value in ordered.items()}


def _redacted(value: Any) -> Any:
    """``value`` with every string in it redacted; anything not JSON-shaped becomes one."""
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, bool | int | float | datetime):
        return value
    if isinstance(value, dict):
        return {str(key): _redacted(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_redacted(item) for item in value]
    return redact(str(value))


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Log to stderr at ``level`` (a name such as "DEBUG"), libraries no lower than their
    floor, as ``fmt``: ``text`` lines or ``json`` objects, one per line."""
    numeric = logging.getLevelName(level.strip().upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    if fmt not in ("text", "json"):
        raise ValueError(f"unknown log format {fmt!r}")
    handler = logging.StreamHandler(sys.stderr)
    formatter = JsonLineFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT)
    handler.setFormatter(formatter)
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
    handler.setFormatter(logging.Formatter(TEXT_FORMAT))
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
