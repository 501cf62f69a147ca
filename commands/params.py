"""Parameters several commands declare alike, and the bounds they share.

The lengths are the API's (the sandbox enforces the same ones), so a value the
API would refuse is refused here, with a message, before any call.
"""

from __future__ import annotations

from .spec import Param, ParamType, Source

__all__ = [
    "API_MAX_LIMIT",
    "ID_MAX",
    "SESSION_ID",
    "SESSION_ID_MAX_LENGTH",
    "TAG_NAME_MAX_LENGTH",
    "URL_MAX_LENGTH",
    "id_param",
    "limit_param",
]

API_MAX_LIMIT = 200
"""The most rows a list resource returns in one call (the API's `limit` bound)."""

ID_MAX = 2**31 - 1
"""The largest id: PostgreSQL's ``integer`` (digest ids) and the API's 32-bit ids."""

SESSION_ID_MAX_LENGTH = 64
"""The longest session id the API takes (POST apply_tag)."""
TAG_NAME_MAX_LENGTH = 50
"""The longest tag name the API takes."""
URL_MAX_LENGTH = 2048
"""The longest webhook or receiver URL the API takes."""

SESSION_ID = Param(
    "session_id",
    ParamType.STRING,
    "the chat session id, as shown by `handoffs`",
    positional=True,
    required=True,
    complete=Source.SESSION,
    max_length=SESSION_ID_MAX_LENGTH,
    # It travels in URL queries (GET transcripts, DELETE apply_tag): printable ASCII only.
    pattern=r"[!-~]+",
    pattern_help="letters, digits and punctuation without spaces, as `handoffs` shows it",
)


def id_param(help: str, *, complete: Source | None = None) -> Param:
    """``<id>``: a row's number, 1 to :data:`ID_MAX`."""
    return Param(
        "id",
        ParamType.INTEGER,
        help,
        positional=True,
        required=True,
        min=1,
        max=ID_MAX,
        complete=complete,
    )


def limit_param(help: str, default: int) -> Param:
    """``--limit N``: how many rows one API call asks for, within the API's bound."""
    return Param(
        "limit", ParamType.INTEGER, help, default=default, min=1, max=API_MAX_LIMIT, metavar="N"
    )
