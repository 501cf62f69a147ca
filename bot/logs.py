"""Logging set-up shared by every process: one format, secrets redacted."""

from __future__ import annotations

import logging
import sys

from .secrets import RedactingFilter

__all__ = ["configure_logging"]


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx logs every request at INFO; that is noise in a chat bot's log.
    logging.getLogger("httpx").setLevel(logging.WARNING)
