"""Telling "the database cannot be opened" apart from other errors, in words safe to show."""

from __future__ import annotations

from bot.secrets import redact

__all__ = ["cannot_open"]

_REASON_LENGTH = 120


def cannot_open(exc: BaseException) -> str | None:
    """Why opening the database failed (``connection refused``, ``database "x" does not
    exist``, ``unable to open database file``), or None when ``exc`` is not such a failure.

    Only the driver's own first line is used, never SQLAlchemy's message (it can repeat
    the statement and its parameters); registered secrets are redacted from it.
    """
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, OSError):
        return (exc.strerror or type(exc).__name__).strip()
    if isinstance(exc, DBAPIError):
        first = str(exc.orig).strip().splitlines()[:1] if exc.orig is not None else []
        reason = first[0] if first else type(exc.orig or exc).__name__
        return redact(reason[:_REASON_LENGTH])
    return None
