"""Small named values kept between starts (``mlc_bot_state``)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from .schema import state

__all__ = ["StateRecords"]


class StateRecords:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def get(self, name: str) -> str | None:
        async with self.engine.begin() as conn:
            return await conn.scalar(select(state.c.value).where(state.c.name == name))

    async def put(self, name: str, value: str) -> None:
        now = datetime.now(UTC)
        async with self.engine.begin() as conn:
            changed = await conn.execute(
                update(state).where(state.c.name == name).values(value=value, updated_utc=now)
            )
            if changed.rowcount:
                return
        try:
            async with self.engine.begin() as conn:
                await conn.execute(state.insert().values(name=name, value=value, updated_utc=now))
        except IntegrityError:  # another process inserted it first: ours is as new
            async with self.engine.begin() as conn:
                await conn.execute(
                    update(state).where(state.c.name == name).values(value=value, updated_utc=now)
                )
