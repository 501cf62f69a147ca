"""Storage: URL mapping, migrations on start, subscriptions, and the exactly-once lease."""

from __future__ import annotations

import asyncio
import logging
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, inspect, text

from bot.storage import (
    DeliveryStatus,
    DigestStore,
    LazySubscriptionStore,
    async_database_url,
    current_revision,
    display_url,
    head_revision,
)
from commands.digests.store import StorageUnavailable

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
    lease = await store.claim(sub.id, period, SANDBOX_NOW, claimed_by="a")
    assert lease is not None and lease.attempt == 1 and lease.previous_holder is None
    assert await store.claim(sub.id, period, SANDBOX_NOW, claimed_by="b") is None
    assert not await store.record_skipped(sub.id, period, SANDBOX_NOW, detail="late")
    assert await store.finish(lease, DeliveryStatus.POSTED, SANDBOX_NOW, snapshot={"n": 1})
    delivery = await store.delivery(sub.id, period)
    assert delivery is not None and delivery.status is DeliveryStatus.POSTED
    assert delivery.claimed_by == "a"
    reloaded = await store.get(sub.id)
    assert reloaded is not None
    assert reloaded.last_sent_period == period and reloaded.last_snapshot == {"n": 1}


async def test_a_failed_period_keeps_the_previous_baseline(store: DigestStore) -> None:
    sub = await subscribe(store, SANDBOX_NOW)
    lease = await store.claim(sub.id, "p1", SANDBOX_NOW, claimed_by="a")
    assert lease is not None
    await store.finish(
        lease, DeliveryStatus.FAILED, SANDBOX_NOW, request_id="req_1", snapshot={"n": 9}
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
        assert sum(r is not None for r in results) == 1, results


async def test_removing_a_subscription_removes_its_deliveries_and_blocks_claims(
    store: DigestStore,
) -> None:
    sub = await subscribe(store, SANDBOX_NOW)
    await store.claim(sub.id, "p1", SANDBOX_NOW, claimed_by="a")
    await store.remove(sub.id)
    assert await store.deliveries(sub.id) == []
    assert await store.claim(sub.id, "p2", SANDBOX_NOW, claimed_by="a") is None


async def test_a_live_lease_is_never_taken_and_only_its_holder_finishes_it(
    store: DigestStore,
) -> None:
    sub = await subscribe(store, SANDBOX_NOW)
    period, lease_for = "2026-04-23T09:00", timedelta(seconds=60)
    t0 = SANDBOX_NOW
    a = await store.claim(sub.id, period, t0, claimed_by="a", lease=lease_for)
    assert a is not None and a.expires_utc == t0 + lease_for
    assert await store.claim(sub.id, period, t0 + timedelta(seconds=30), claimed_by="b") is None
    assert await store.renew(a, t0 + timedelta(seconds=50), lease_for)  # now until t0+110
    assert await store.claim(sub.id, period, t0 + timedelta(seconds=100), claimed_by="b") is None
    assert await store.expired_claims(t0 + timedelta(seconds=100)) == []

    # a stops renewing (it hangs or died): once the lease is over, b takes the period.
    later = t0 + timedelta(seconds=111)
    [expired] = await store.expired_claims(later)
    assert (expired.claimed_by, expired.attempt) == ("a", 1)
    b = await store.claim(sub.id, period, later, claimed_by="b", lease=lease_for)
    assert b is not None and (b.previous_holder, b.attempt) == ("a", 2)
    assert b.posting_started_utc is None  # a never began posting

    # a wakes up: it can neither renew, nor mark the post as going out, nor finish.
    assert not await store.renew(a, later, lease_for)
    assert not await store.mark_posting(a, later, lease_for)
    assert not await store.finish(a, DeliveryStatus.POSTED, later, snapshot={"n": 1})
    row = await store.delivery(sub.id, period)
    assert row is not None and row.status is DeliveryStatus.CLAIMED and row.claimed_by == "b"

    assert await store.mark_posting(b, later, lease_for)
    assert await store.finish(b, DeliveryStatus.POSTED, later, snapshot={"n": 2})
    done = await store.delivery(sub.id, period)
    assert done is not None and done.status is DeliveryStatus.POSTED and done.attempt == 2
    assert await store.expired_claims(later + timedelta(days=1)) == []
    reloaded = await store.get(sub.id)
    assert reloaded is not None and reloaded.last_snapshot == {"n": 2}


async def test_a_takeover_learns_that_the_previous_holder_had_begun_posting(
    store: DigestStore,
) -> None:
    sub = await subscribe(store, SANDBOX_NOW)
    lease_for = timedelta(seconds=10)
    a = await store.claim(sub.id, "p1", SANDBOX_NOW, claimed_by="a", lease=lease_for)
    assert a is not None
    posting = SANDBOX_NOW + timedelta(seconds=3)
    assert await store.mark_posting(a, posting, lease_for)
    assert await store.claim(sub.id, "p1", posting + timedelta(seconds=9), claimed_by="b") is None
    b = await store.claim(sub.id, "p1", posting + timedelta(seconds=11), claimed_by="b")
    assert b is not None and b.posting_started_utc == posting
    # b dies too, before posting: the third holder still knows the message may be there.
    c = await store.claim(sub.id, "p1", posting + timedelta(minutes=5), claimed_by="c")
    assert c is not None and c.previous_holder == "b" and c.attempt == 3
    assert c.posting_started_utc == posting


async def test_schedulers_racing_for_an_expired_lease_get_one_winner(
    database: Database,
) -> None:
    stores = [await database.store() for _ in range(3)]
    sub = await subscribe(stores[0], SANDBOX_NOW)
    lease_for = timedelta(seconds=60)
    for round_ in range(5):
        period = f"2026-04-2{round_}T09:00"
        first = await stores[0].claim(sub.id, period, SANDBOX_NOW, claimed_by="dead")
        assert first is not None
        after = SANDBOX_NOW + timedelta(minutes=2)
        results = await asyncio.gather(
            *(
                s.claim(sub.id, period, after, claimed_by=f"p{i}", lease=lease_for)
                for i, s in enumerate(stores * 2)
            )
        )
        winners = [r for r in results if r is not None]
        assert len(winners) == 1, results
        assert winners[0].previous_holder == "dead" and winners[0].attempt == 2


async def test_the_tables_match_the_migrations(store: DigestStore) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from bot.storage.schema import metadata

    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async with store.engine.connect() as conn:
        assert await conn.run_sync(differences) == []


async def test_a_claim_stuck_before_leases_existed_is_taken_over_after_the_upgrade(
    database: Database,
) -> None:
    from alembic import command

    from bot.storage.migrate import _config

    store = DigestStore.from_url(database.url, **database.options)
    database.stores.append(store)
    async with store.engine.begin() as conn:
        await conn.run_sync(lambda c: command.upgrade(_config(c), "0001"))
        naive_now = SANDBOX_NOW.replace(tzinfo=None)
        await conn.execute(
            text(
                "INSERT INTO digest_subscriptions (platform, channel_id, kind, at_time, "
                "timezone, days, paused, created_by, created_utc, updated_utc, "
                "active_since_utc) VALUES ('console', 'C1', 'usage', '09:00', 'UTC', "
                "'daily', false, 'U1', :now, :now, :now)"
            ),
            {"now": naive_now},
        )
        await conn.execute(
            text(
                "INSERT INTO digest_deliveries (subscription_id, period, status, claimed_by, "
                "claimed_utc) SELECT id, 'p1', 'claimed', 'old-version', :now "
                "FROM digest_subscriptions"
            ),
            {"now": naive_now},
        )
    await store.migrate()
    [stuck] = await store.deliveries()
    assert stuck.lease_expires_utc == SANDBOX_NOW + timedelta(minutes=5) and stuck.attempt == 1
    sub_id = stuck.subscription_id
    soon = SANDBOX_NOW + timedelta(minutes=4)
    assert await store.claim(sub_id, "p1", soon, claimed_by="new") is None
    taken = await store.claim(sub_id, "p1", soon + timedelta(minutes=2), claimed_by="new")
    assert taken is not None and taken.previous_holder == "old-version"


async def test_an_unreachable_database_is_logged_without_its_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="mlc_bot.storage")
    service = LazySubscriptionStore("postgresql://bot:pw-XYZ-secret@127.0.0.1:1/nowhere")
    with pytest.raises(StorageUnavailable) as raised:
        await service.list_for("slack", "T1")
    await service.aclose()
    assert "DATABASE_URL" in str(raised.value)
    assert "127.0.0.1:1/nowhere" in caplog.text
    assert "pw-XYZ-secret" not in caplog.text and "pw-XYZ-secret" not in str(raised.value)


async def test_a_database_lost_after_start_gives_a_friendly_error(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    service = LazySubscriptionStore(f"sqlite:///{folder / 'bot.db'}")
    assert await service.list_for("slack", "T1") == []
    store = service._store
    assert store is not None
    await store.engine.dispose()  # no open connection survives ...
    shutil.rmtree(folder)  # ... and the volume is gone
    with pytest.raises(StorageUnavailable, match="DATABASE_URL"):
        await service.list_for("slack", "T1")
    await service.aclose()
    # aiosqlite stops a connection that failed to open on its thread, after the fact;
    # let it finish while this test's event loop still runs.
    await asyncio.sleep(0.1)
