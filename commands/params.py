"""Parameters several commands declare alike."""

from __future__ import annotations

from .spec import Param, ParamType

__all__ = ["API_MAX_LIMIT", "SESSION_ID", "limit_param"]

API_MAX_LIMIT = 200
"""The most rows a list resource returns in one call (the API's `limit` bound)."""

SESSION_ID = Param(
    "session_id",
    ParamType.STRING,
    "the chat session id, as shown by `handoffs`",
    positional=True,
    required=True,
    complete="session",
)


def limit_param(help: str, default: int) -> Param:
    """``--limit N``: how many rows one API call asks for, within the API's bound."""
    return Param(
        "limit", ParamType.INTEGER, help, default=default, min=1, max=API_MAX_LIMIT, metavar="N"
    )
