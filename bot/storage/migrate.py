"""Bringing the schema to the newest version on start (Alembic, run programmatically)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["current_revision", "head_revision", "migrate"]

log = logging.getLogger("mlc_bot.storage")

MIGRATIONS = Path(__file__).with_name("migrations")
# Any constant will do: it names the lock concurrent starters on PostgreSQL queue on.
_PG_LOCK_KEY = 7_263_524_811


def _config(connection: Connection | None = None) -> Config:
    _quiet_alembic()
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _quiet_alembic() -> None:
    # Alembic narrates every start at INFO, some of it while being imported; our one
    # line in migrate() says what changed.
    alembic_log = logging.getLogger("alembic")
    if alembic_log.level == logging.NOTSET:
        alembic_log.setLevel(logging.WARNING)


def head_revision() -> str:
    _quiet_alembic()
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "the package ships at least one migration"
    return head


def _current(connection: Connection) -> str | None:
    _quiet_alembic()
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Connection) -> None:
    from alembic import command

    if connection.dialect.name == "postgresql":
        # Two processes starting at once (the bot and the scheduler) migrate one at a time.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    if _current(connection) == head_revision():
        return
    command.upgrade(_config(connection), "head")


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


async def migrate(engine: AsyncEngine) -> None:
    """Upgrade the database to the newest schema; a no-op when it is there already."""
    head = head_revision()
    try:
        async with engine.begin() as conn:
            before = await conn.run_sync(_current)
            if before != head:
                await conn.run_sync(_upgrade)
    except Exception:
        # Another process may have migrated first (SQLite has no advisory lock).
        if await current_revision(engine) == head:
            return
        raise
    if before != head:
        log.info("database schema upgraded from %s to %s", before or "empty", head)
