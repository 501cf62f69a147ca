"""Shared dedupe: the first offer of a delivery key wins in every process, on the database
(SQLite, PostgreSQL) and on Redis, and a store that is away lets deliveries run, saying so
once each way.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.shared.redis_seen import RedisSeen
from bot.shared.seen import DatabaseSeen
from bot.storage import create_engine
from bot.storage.lazy import LazyDatabase
from bot.storage.schema import seen
from bot.storage.seen import SeenRecords
from tests.alerts.harness import wait_until
from tests.redis_server import RedisServer

from .conftest import Database

RACERS = 8
LOST, BACK = "shared delivery dedupe unavailable", "shared delivery dedupe is back"


async def _racers(database: Database, count: int = RACERS) -> list[SeenRecords]:
    """``count`` engines on the test's database, as ``count`` processes would have."""
    await database.store()  # migrated
    return [SeenRecords(create_engine(database.url, **database.options)) for _ in range(count)]


async def _dispose(racers: list[SeenRecords]) -> None:
    for racer in racers:
        await racer.engine.dispose()


def _lines(caplog: pytest.LogCaptureFixture, text: str) -> int:
    return sum(text in record.getMessage() for record in caplog.records)


async def test_processes_racing_for_a_key_on_the_database_get_one_winner(
    database: Database,
) -> None:
    racers = await _racers(database)
    try:
        for n in range(5):
            key = f"trigger_id:race-{n}"
            answers = await asyncio.gather(*(r.first_time(key, 900) for r in racers))
            assert answers.count(True) == 1, answers
            assert not await racers[n].first_time(key, 900)  # and every later offer loses
    finally:
        await _dispose(racers)


async def test_an_expired_key_is_taken_over_by_exactly_one_racer(database: Database) -> None:
    racers = await _racers(database)
    try:
        an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
        for n in range(5):
            key = f"event_id:Ev{n}"
            assert await racers[0].first_time(key, 60, now=an_hour_ago)  # expired since
            answers = await asyncio.gather(*(r.first_time(key, 900) for r in racers))
            assert answers.count(True) == 1, answers
            assert not await racers[1].first_time(key, 900)
    finally:
        await _dispose(racers)


async def test_expired_keys_are_swept_and_live_ones_kept(database: Database) -> None:
    (writer, sweeper) = await _racers(database, 2)
    try:
        an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
        for n in range(20):
            await writer.first_time(f"body:old-{n}", 60, now=an_hour_ago)
        assert await writer.first_time("event_id:live", 900)
        assert await sweeper.first_time("event_id:new", 900)  # a process's first win sweeps
        async with sweeper.engine.connect() as conn:
            left = await conn.scalar(select(func.count()).select_from(seen))
        assert left == 2
        assert not await writer.first_time("event_id:live", 900)  # swept rows only
    finally:
        await _dispose([writer, sweeper])


async def test_processes_racing_for_a_key_on_redis_get_one_winner(redis_url: str) -> None:
    racers = [RedisSeen.from_url(redis_url) for _ in range(RACERS)]
    try:
        for _ in range(5):
            key = f"trigger_id:{uuid.uuid4().hex}"
            answers = await asyncio.gather(*(r.first_time(key, 900) for r in racers))
            assert answers.count(True) == 1, answers
            assert not await racers[0].first_time(key, 900)
    finally:
        for racer in racers:
            await racer.aclose()


async def test_a_key_on_redis_expires_with_its_ttl(redis_url: str) -> None:
    seen_here = RedisSeen.from_url(redis_url)
    try:
        key = f"event_id:{uuid.uuid4().hex}"
        assert await seen_here.first_time(key, 0.2)
        assert not await seen_here.first_time(key, 0.2)
        client = seen_here._redis

        async def expired() -> bool:
            return not await client.exists(RedisSeen.redis_key(key))

        await wait_until(expired, "Redis to expire the key")
        assert await seen_here.first_time(key, 0.2)
    finally:
        await seen_here.aclose()


async def test_redis_away_lets_deliveries_run_and_says_so_once_each_way(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mlc_bot.shared")
    shared = RedisSeen.from_url(redis_server.url)
    shared.outage.retry_every = 0.0  # ask Redis on every delivery, to count the log lines
    try:
        assert await shared.first_time("trigger_id:before", 900)
        redis_server.kill()
        # Away: everything runs (this process's own memory still drops its repeats).
        assert [await shared.first_time("trigger_id:before", 900) for _ in range(3)] == [True] * 3
        assert await shared.first_time("trigger_id:during", 900)
        assert _lines(caplog, LOST) == 1
        assert _lines(caplog, BACK) == 0
        redis_server.start()
        assert await shared.first_time("trigger_id:after", 900)
        assert not await shared.first_time("trigger_id:after", 900)
        assert _lines(caplog, BACK) == 1
        assert _lines(caplog, LOST) == 1
    finally:
        await shared.aclose()
    assert "Traceback" not in caplog.text


async def test_a_database_away_lets_deliveries_run_and_says_so_once_each_way(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    folder = tmp_path / "not-there-yet"
    database = LazyDatabase(f"sqlite:///{folder / 'bot.db'}")
    shared = DatabaseSeen(database)
    shared.outage.retry_every = 0.0
    try:
        assert [await shared.first_time("trigger_id:t1", 900) for _ in range(3)] == [True] * 3
        assert _lines(caplog, LOST) == 1
        assert "unable to open database file" in caplog.text
        assert _lines(caplog, "digest database") == 0  # no line per request from the database
        folder.mkdir()
        assert await shared.first_time("trigger_id:t1", 900)
        assert not await shared.first_time("trigger_id:t1", 900)
        assert _lines(caplog, BACK) == 1
        assert _lines(caplog, LOST) == 1
    finally:
        await database.aclose()
    assert "Traceback" not in caplog.text
