"""Storage: URL mapping, migrations on start, subscriptions, and the exactly-once claim."""

from __future__ import annotations

import asyncio
import logging
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect

from bot.storage import (
    DeliveryStatus,
    DigestStore,
    async_database_url,
    current_revision,
    display_url,
    head_revision,
)

from .conftest import SANDBOX_NOW, Database, subscribe


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///mlc-bot.db", "sqlite+aiosqlite:///mlc-bot.db"),
        ("sqlite:////var/data/bot.db", "sqlite+aiosqlite:////var/data/bot.db"),
        ("postgresql://u:p@db:5432/bot", "postgresql+asyncpg://u:p@db:5432/bot"),
        ("postgres://u:p@db/bot", "postgresql+asyncpg://u:p@db/bot"),
        ("postgresql+asyncpg://u@db/bot", "postgresql+asyncpg://u@db/bot"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_database_urls_get_an_async_driver(given: str, expected: str) -> None:
    assert async_database_url(given) == expected


def test_a_malformed_url_says_what_to_write_without_echoing_it() -> None:
    with pytest.raises(ValueError, match=r"sqlite:///mlc-bot\.db") as raised:
        async_database_url("hunter2-not-a-url")
    assert "hunter2" not in str(raised.value)


def test_the_password_never_shows(caplog: pytest.LogCaptureFixture) -> None:
    url = "postgresql://bot:s3cr3t-pw@db.internal:5432/bot"
    assert "s3cr3t-pw" not in display_url(url)
    assert "db.internal" in display_url(url)
    async_database_url(url)  # registers the password with the log redactor
    from bot.secrets import redact

    assert "s3cr3t-pw" not in redact(f"could not connect to {url}")


async def test_migrations_create_the_schema_once_and_are_idempotent(database: Database) -> None:
    store = await database.store()
    await store.migrate()  # a second start changes nothing
    assert await current_revision(store.engine) == head_revision()
    async with store.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert {"digest_subscriptions", "digest_deliveries", "mlc_bot_revisions"} <= tables


async def test_two_processes_starting_at_once_both_migrate(database: Database) -> None:
    first, second = (
        DigestStore.from_url(database.url, **database.options),
        DigestStore.from_url(database.url, **database.options),
    )
    database.stores += [first, second]
    await asyncio.gather(first.migrate(), second.migrate())
    assert await current_revision(first.engine) == head_revision()


async def test_subscriptions_round_trip_and_changes_raise_the_revision(store: DigestStore) -> None:
    start = await store.revision()
    sub = await subscribe(store, SANDBOX_NOW, kind="feedback", at="17:30", workspace="T1")
    assert sub.kind == "feedback" and sub.at_time == "17:30" and not sub.paused
    assert sub.active_since_utc == SANDBOX_NOW
    assert await store.get(sub.id) == sub
    assert [s.id for s in await store.list_for("console", "T1")] == [sub.id]
    assert await store.list_for("console", None) == []
    assert await store.revision() == start + 1

    later = SANDBOX_NOW + timedelta(days=2)
    paused = await store.set_paused(sub.id, True, later, reason="channel archived")
    assert paused is not None and paused.paused and paused.paused_reason == "channel archived"
    assert await store.list_all(active_only=True) == []
    resumed = await store.set_paused(sub.id, False, later + timedelta(hours=1))
    assert resumed is not None and not resumed.paused and resumed.paused_reason is None
    assert resumed.active_since_utc == later + timedelta(hours=1)
    assert await store.remove(sub.id)
    assert not await store.remove(sub.id)
    assert await store.get(sub.id) is None
    assert await store.revision() == start + 4


async def test_a_period_is_claimed_once_and_posting_records_the_baseline(
    store: DigestStore,
) -> None:
    sub = await subscribe(store, SANDBOX_NOW)
    period = "2026-04-23T09:00"
    assert await store.claim(sub.id, period, SANDBOX_NOW, claimed_by="a")
    assert not await store.claim(sub.id, period, SANDBOX_NOW, claimed_by="b")
    assert not await store.record_skipped(sub.id, period, SANDBOX_NOW, detail="late")
    await store.finish(sub.id, period, DeliveryStatus.POSTED, SANDBOX_NOW, snapshot={"n": 1})
    delivery = await store.delivery(sub.id, period)
    assert delivery is not None and delivery.status is DeliveryStatus.POSTED
    assert delivery.claimed_by == "a"
    reloaded = await store.get(sub.id)
    assert reloaded is not None
    assert reloaded.last_sent_period == period and reloaded.last_snapshot == {"n": 1}


async def test_a_failed_period_keeps_the_previous_baseline(store: DigestStore) -> None:
    sub = await subscribe(store, SANDBOX_NOW)
    await store.claim(sub.id, "p1", SANDBOX_NOW, claimed_by="a")
    await store.finish(
        sub.id, "p1", DeliveryStatus.FAILED, SANDBOX_NOW, request_id="req_1", snapshot={"n": 9}
    )
    reloaded = await store.get(sub.id)
    assert reloaded is not None and reloaded.last_snapshot is None
    delivery = await store.delivery(sub.id, "p1")
    assert delivery is not None and delivery.request_id == "req_1"


async def test_concurrent_claimers_on_separate_connections_get_one_winner(
    database: Database,
) -> None:
    stores = [await database.store() for _ in range(3)]
    sub = await subscribe(stores[0], SANDBOX_NOW)
    for round_ in range(5):
        period = f"2026-04-2{round_}T09:00"
        results = await asyncio.gather(
            *(
                s.claim(sub.id, period, SANDBOX_NOW, claimed_by=f"p{i}")
                for i, s in enumerate(stores * 2)
            )
        )
        assert results.count(True) == 1, results


async def test_removing_a_subscription_removes_its_deliveries_and_blocks_claims(
    store: DigestStore,
) -> None:
    sub = await subscribe(store, SANDBOX_NOW)
    await store.claim(sub.id, "p1", SANDBOX_NOW, claimed_by="a")
    await store.remove(sub.id)
    assert await store.deliveries(sub.id) == []
    assert not await store.claim(sub.id, "p2", SANDBOX_NOW, claimed_by="a")


async def test_an_unreachable_database_is_logged_without_its_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from bot.scheduler.service import DigestService, StorageUnavailable

    caplog.set_level(logging.ERROR, logger="mlc_bot.digests")
    service = DigestService("postgresql://bot:pw-XYZ-secret@127.0.0.1:1/nowhere")
    with pytest.raises(StorageUnavailable) as raised:
        await service.list("slack", "T1")
    await service.aclose()
    assert "DATABASE_URL" in str(raised.value)
    assert "127.0.0.1:1/nowhere" in caplog.text
    assert "pw-XYZ-secret" not in caplog.text and "pw-XYZ-secret" not in str(raised.value)


async def test_a_database_lost_after_start_gives_a_friendly_error(tmp_path: Path) -> None:
    from bot.scheduler.service import DigestService, StorageUnavailable

    folder = tmp_path / "data"
    folder.mkdir()
    service = DigestService(f"sqlite:///{folder / 'bot.db'}")
    assert await service.list("slack", "T1") == []
    store = service._store
    assert store is not None
    await store.engine.dispose()  # no open connection survives ...
    shutil.rmtree(folder)  # ... and the volume is gone
    with pytest.raises(StorageUnavailable, match="DATABASE_URL"):
        await service.list("slack", "T1")
    await service.aclose()
    # aiosqlite stops a connection that failed to open on its thread, after the fact;
    # let it finish while this test's event loop still runs.
    await asyncio.sleep(0.1)
