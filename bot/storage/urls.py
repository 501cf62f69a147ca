"""Database URLs: which ones the bot supports, the async driver to use, a form safe to log.

:func:`database_url_problem` needs no SQLAlchemy, so every process can check
``DATABASE_URL`` at start without importing it (``mlc-bot exec`` starts fast).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from bot.secrets import register_secret

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

__all__ = [
    "SUPPORTED_SCHEMES",
    "async_database_url",
    "database_url_password",
    "database_url_problem",
    "display_url",
]

# The async driver for each scheme the bot accepts; None: the URL names it already.
_ASYNC_DRIVERS: dict[str, str | None] = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",  # Heroku's and others' spelling
    "sqlite+aiosqlite": None,
    "postgresql+asyncpg": None,
}
SUPPORTED_SCHEMES = tuple(_ASYNC_DRIVERS)

_EXAMPLES = "sqlite:///mlc-bot.db or postgresql://user:password@host:5432/dbname"
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]{0,30}")


def database_url_problem(url: str) -> str | None:
    """What is wrong with ``url`` as ``DATABASE_URL``, or None when the bot can use it.

    The answer never repeats the URL (it may hold a password), only its scheme.
    """
    scheme, sep, _rest = url.strip().partition("://")
    if not sep or not _SCHEME.fullmatch(scheme):
        return f"DATABASE_URL must look like {_EXAMPLES}"
    if scheme.lower() not in _ASYNC_DRIVERS:
        return (
            f"DATABASE_URL names {scheme}://, which mlc-bot does not support: use SQLite"
            f" or PostgreSQL ({_EXAMPLES}; postgres:// works too)"
        )
    try:
        _ = urlsplit(url.strip()).port  # raises on a port that is not a number
    except ValueError:
        return f"DATABASE_URL has a port that is not a number from 1 to 65535; expected {_EXAMPLES}"
    return None


def database_url_password(url: str) -> str | None:
    """The password in ``url``, if any (to register it with the log redactor)."""
    try:
        password = urlsplit(url.strip()).password
    except ValueError:
        return None
    return unquote(password) if password else None


def async_database_url(url: str) -> str:
    """``DATABASE_URL`` as SQLAlchemy's async engine needs it.

    ``sqlite:///path`` becomes ``sqlite+aiosqlite:///path``; ``postgresql://`` and
    ``postgres://`` become ``postgresql+asyncpg://``. A URL that already names a
    supported driver (``postgresql+asyncpg://``) is kept as it is; any other is a
    ``ValueError`` that names the supported ones.
    """
    problem = database_url_problem(url)
    if problem is not None:
        raise ValueError(problem)
    text = url.strip()
    scheme, _, rest = text.partition("://")
    driver = _ASYNC_DRIVERS[scheme.lower()]
    text = f"{driver or scheme.lower()}://{rest}"
    parsed = _parse_url(text)
    if parsed.password:
        register_secret(parsed.password)
    return text


def _parse_url(url: str) -> URL:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url)
    except Exception:  # SQLAlchemy raises ArgumentError; the message would echo the URL
        raise ValueError(f"DATABASE_URL is not a database URL; expected e.g. {_EXAMPLES}") from None


def display_url(url: str) -> str:
    """``url`` with its password hidden, for logs and error messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable DATABASE_URL>"
