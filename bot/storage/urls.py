"""Database URLs: the async driver to use, and a form that is safe to log."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url

from bot.secrets import register_secret

__all__ = ["async_database_url", "display_url"]

# The async driver for each database named without one.
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",  # Heroku's and others' spelling
}


def async_database_url(url: str) -> str:
    """``DATABASE_URL`` as SQLAlchemy's async engine needs it.

    ``sqlite:///path`` becomes ``sqlite+aiosqlite:///path``; ``postgresql://`` and
    ``postgres://`` become ``postgresql+asyncpg://``. A URL that already names a
    driver (``postgresql+asyncpg://``) is kept as it is.
    """
    text = url.strip()
    scheme, sep, rest = text.partition("://")
    if not sep:
        raise ValueError(
            "DATABASE_URL must look like sqlite:///mlc-bot.db or "
            "postgresql://user:password@host:5432/dbname"
        )
    driver = _ASYNC_DRIVERS.get(scheme.lower())
    if driver is not None:
        text = f"{driver}://{rest}"
    parsed = _parse_url(text)
    if parsed.password:
        register_secret(parsed.password)
    return text


def _parse_url(url: str) -> URL:
    try:
        return make_url(url)
    except Exception:  # SQLAlchemy raises ArgumentError; the message would echo the URL
        raise ValueError(
            "DATABASE_URL is not a database URL; expected e.g. sqlite:///mlc-bot.db or "
            "postgresql://user:password@host:5432/dbname"
        ) from None


def display_url(url: str) -> str:
    """``url`` with its password hidden, for logs and error messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable DATABASE_URL>"
