"""The scheduler: cron jobs from the database, catch-up, exactly once, DST, no backlog."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from adapters.console.poster import ConsolePoster
from bot.mylivechat import MyLiveChatClient
from bot.sandbox import SandboxServer
from bot.scheduler.delivery import Outcome
from bot.storage import DeliveryStatus, DigestStore

from .conftest import Database, FakeClock, Posts, local, make_scheduler, subscribe

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"


async def test_a_run_is_posted_once_however_often_its_job_fires(
    store: DigestStore,
    site_api: MyLiveChatClient,
    clock: FakeClock,
    console: ConsolePoster,
    posts: Posts,
) -> None:
    sub = await subscribe(store, local("2026-04-21 12:00", BERLIN), tz=BERLIN)
    scheduler = make_scheduler(store, site_api, clock, {"console": console})
    clock.set(local("2026-04-22 09:00:02", BERLIN))
    assert await scheduler.fire(sub.id) is Outcome.POSTED
    assert await scheduler.fire(sub.id) is Outcome.DUPLICATE
    assert len(posts.to("C1")) == 1 and "Usage digest" in posts.to("C1")[0]
    delivery = await store.delivery(sub.id, "2026-04-22T09:00")
    assert delivery is not None and delivery.status is DeliveryStatus.POSTED


async def test_jobs_follow_the_database_and_apscheduler_fires_them(
    store: DigestStore,
    site_api: MyLiveChatClient,
    clock: FakeClock,
    console: ConsolePoster,
    posts: Posts,
) -> None:
    clock.set(local("2026-04-22 09:00:30", BERLIN))
    early = await subscribe(store, clock() - timedelta(days=1), tz=BERLIN, days="weekdays")
    scheduler = make_scheduler(store, site_api, clock, {"console": console})
    await scheduler.start()
    try:
        assert posts.lines and len(posts.to("C1")) == 1  # 30 s late: caught up at start
        assert scheduler.job_ids() == [f"digest-{early.id}"]
        job = scheduler.scheduler.get_job(f"digest-{early.id}")
        assert job is not None and job.next_run_time.tzinfo is not None
        trigger_next = job.trigger.get_next_fire_time(None, local("2026-04-24 10:00", BERLIN))
        assert trigger_next == local("2026-04-27 09:00", BERLIN)  # Friday 10:00 -> Monday

        # Another process adds one: the next poll sees the revision change.
        late = await subscribe(store, clock(), at="17:30", tz=NEW_YORK, channel="C2")
        assert await scheduler.refresh()
        assert scheduler.job_ids() == sorted([f"digest-{early.id}", f"digest-{late.id}"])
        assert not await scheduler.refresh()  # nothing changed since

        # APScheduler itself runs the job: make it due now and wait for the post.
        clock.set(local("2026-04-22 17:30:01", NEW_YORK))
        scheduler.scheduler.modify_job(f"digest-{late.id}", next_run_time=datetime.now(UTC))
        for _ in range(200):
            if posts.to("C2"):
                break
            await asyncio.sleep(0.02)
        assert len(posts.to("C2")) == 1

        await store.set_paused(early.id, True, clock())
        await store.remove(late.id)
        assert await scheduler.refresh()
        assert scheduler.job_ids() == []
    finally:
        await scheduler.stop()


async def test_after_downtime_the_latest_missed_run_is_sent_once(
    database: Database,
    site_api: MyLiveChatClient,
    clock: FakeClock,
    posts: Posts,
    caplog_digests: pytest.LogCaptureFixture,
) -> None:
    store = await database.store()
    sub = await subscribe(store, local("2026-04-19 20:00", BERLIN), tz=BERLIN)
    # Down from Sunday evening until Wednesday 09:40: Mon, Tue and Wed 09:00 were missed.
    clock.set(local("2026-04-22 09:40", BERLIN))
    console = ConsolePoster(posts.write)
    caught = await make_scheduler(store, site_api, clock, {"console": console}).catch_up()
    assert [(c.period, c.outcome) for c in caught] == [("2026-04-22T09:00", Outcome.POSTED)]
    assert len(posts.to("C1")) == 1
    assert [d.period for d in await store.deliveries(sub.id)] == ["2026-04-22T09:00"]
    assert "missed its run for 2026-04-22T09:00" in caplog_digests.text

    # A restart a minute later sends nothing again.
    clock.advance(minutes=1)
    restarted = make_scheduler(await database.store(), site_api, clock, {"console": console})
    assert await restarted.catch_up() == []
    assert len(posts.to("C1")) == 1


async def test_a_missed_run_older_than_its_interval_is_skipped_with_a_log_line(
    store: DigestStore,
    site_api: MyLiveChatClient,
    clock: FakeClock,
    console: ConsolePoster,
    posts: Posts,
    caplog_digests: pytest.LogCaptureFixture,
) -> None:
    sub = await subscribe(store, local("2026-04-20 08:00", BERLIN), tz=BERLIN, days="weekdays")
    clock.set(local("2026-04-25 10:00", BERLIN))  # Saturday: Friday 09:00 is 25 h old
    caught = await make_scheduler(store, site_api, clock, {"console": console}).catch_up()
    assert [(c.period, c.outcome) for c in caught] == [("2026-04-24T09:00", Outcome.SKIPPED)]
    assert posts.lines == []
    delivery = await store.delivery(sub.id, "2026-04-24T09:00")
    assert delivery is not None and delivery.status is DeliveryStatus.SKIPPED
    assert "skipped" in caplog_digests.text and "2026-04-24T09:00" in caplog_digests.text


async def test_a_scheduler_that_dies_while_building_leaves_the_digest_to_another_once(
    database: Database,
    site: SandboxServer,
    site_api: MyLiveChatClient,
    clock: FakeClock,
    posts: Posts,
    caplog_digests: pytest.LogCaptureFixture,
) -> None:
    store = await database.store()
    await subscribe(store, local("2026-04-21 12:00", BERLIN), tz=BERLIN)
    clock.set(local("2026-04-22 09:00:01", BERLIN))
    console = ConsolePoster(posts.write)
    first = make_scheduler(store, site_api, clock, {"console": console}, instance="first")
    site.latency = 5.0  # the API is slow: the first process dies while waiting for it
    crashing = asyncio.create_task(first.catch_up())
    for _ in range(200):
        if site.count(resource="usage"):
            break
        await asyncio.sleep(0.01)
    crashing.cancel()
    site.latency = 0.0
    second_store = await database.store()
    second = make_scheduler(second_store, site_api, clock, {"console": console}, instance="second")
    sub_id = (await second_store.list_all())[0].id

    # While the first one's lease runs, nobody else sends the digest.
    assert await second.catch_up() == []
    assert await second.fire(sub_id) is Outcome.DUPLICATE
    clock.advance(seconds=59)
    assert await second.sweep() == []
    assert posts.lines == []

    # The lease has run out: the second scheduler's sweep sends it, once, and says why.
    clock.advance(seconds=2)
    [retaken] = await second.sweep()
    assert (retaken.period, retaken.outcome) == ("2026-04-22T09:00", Outcome.POSTED)
    assert len(posts.to("C1")) == 1
    assert "digest #1 for 2026-04-22T09:00: the previous holder first stopped" in (
        caplog_digests.text
    )
    [delivery] = await second_store.deliveries()
    assert delivery.status is DeliveryStatus.POSTED and delivery.claimed_by == "second"
    assert delivery.attempt == 2
    assert await second.sweep() == [] and await second.fire(sub_id) is Outcome.DUPLICATE
    assert len(posts.to("C1")) == 1


async def test_a_claim_left_by_a_dead_scheduler_that_is_now_too_old_is_skipped_with_a_line(
    store: DigestStore,
    site_api: MyLiveChatClient,
    clock: FakeClock,
    console: ConsolePoster,
    posts: Posts,
    caplog_digests: pytest.LogCaptureFixture,
) -> None:
    sub = await subscribe(store, local("2026-04-21 12:00", BERLIN), tz=BERLIN)
    run = local("2026-04-22 09:00:01", BERLIN)
    lease = await store.claim(sub.id, "2026-04-22T09:00", run, claimed_by="dead")
    assert lease is not None and await store.mark_posting(lease, run, timedelta(seconds=60))
    # Every scheduler was down until the next day, 09:30: Wednesday's run is stale and
    # Thursday's is a new period, posted as usual.
    clock.set(local("2026-04-23 09:30", BERLIN))
    scheduler = make_scheduler(store, site_api, clock, {"console": console})
    [skipped] = await scheduler.sweep()
    assert (skipped.period, skipped.outcome) == ("2026-04-22T09:00", Outcome.SKIPPED)
    assert posts.lines == []
    stale = await store.delivery(sub.id, "2026-04-22T09:00")
    assert stale is not None and stale.status is DeliveryStatus.SKIPPED
    assert stale.detail is not None and "dead stopped before finishing it" in stale.detail
    assert "may have been posted" in stale.detail and "later run" in stale.detail
    assert "digest #1 for 2026-04-22T09:00 skipped: not sent: dead stopped" in (caplog_digests.text)
    assert await scheduler.sweep() == []
    assert [(c.period, c.outcome) for c in await scheduler.catch_up()] == [
        ("2026-04-23T09:00", Outcome.POSTED)
    ]


async def test_a_stalled_holder_that_lost_its_lease_does_not_post(
    database: Database,
    site: SandboxServer,
    site_api: MyLiveChatClient,
    clock: FakeClock,
    posts: Posts,
    caplog_digests: pytest.LogCaptureFixture,
) -> None:
    store = await database.store()
    sub = await subscribe(store, local("2026-04-21 12:00", BERLIN), tz=BERLIN)
    clock.set(local("2026-04-22 09:00:01", BERLIN))
    console = ConsolePoster(posts.write)
    stalled = make_scheduler(store, site_api, clock, {"console": console}, instance="stalled")
    site.latency = 1.0  # the build hangs long enough for its lease to be taken over
    slow = asyncio.create_task(stalled.fire(sub.id))
    for _ in range(200):
        if site.count(resource="usage"):
            break
        await asyncio.sleep(0.01)
    clock.advance(seconds=61)  # no renewal came through in time (the loop was blocked)
    other = make_scheduler(await database.store(), site_api, clock, {"console": console})
    site.latency = 0.0
    [retaken] = await other.sweep()
    assert retaken.outcome is Outcome.POSTED
    assert await slow is Outcome.LEASE_LOST
    assert len(posts.to("C1")) == 1
    assert "lost its claim while building it" in caplog_digests.text


async def test_two_schedulers_on_one_database_post_each_digest_once(
    database: Database,
    site_api: MyLiveChatClient,
    clock: FakeClock,
    posts: Posts,
) -> None:
    store = await database.store()
    subs = [
        await subscribe(store, local("2026-04-20 12:00", BERLIN), tz=BERLIN, channel=f"C{i}")
        for i in range(3)
    ]
    clock.set(local("2026-04-22 09:00:01", BERLIN))
    console = ConsolePoster(posts.write)
    a = make_scheduler(store, site_api, clock, {"console": console}, instance="a")
    b = make_scheduler(await database.store(), site_api, clock, {"console": console}, instance="b")
    await asyncio.gather(a.catch_up(), b.catch_up())
    assert [len(posts.to(f"C{i}")) for i in range(3)] == [1, 1, 1]

    clock.advance(days=1)  # both fire Thursday's jobs at the same moment
    outcomes = await asyncio.gather(*(s.fire(sub.id) for sub in subs for s in (a, b)))
    assert sorted(outcomes).count(Outcome.POSTED) == 3
    assert outcomes.count(Outcome.DUPLICATE) == 3
    assert [len(posts.to(f"C{i}")) for i in range(3)] == [2, 2, 2]


async def test_resuming_never_replays_the_backlog(
    store: DigestStore,
    site_api: MyLiveChatClient,
    clock: FakeClock,
    console: ConsolePoster,
    posts: Posts,
) -> None:
    sub = await subscribe(store, local("2026-04-13 12:00", BERLIN), tz=BERLIN)
    await store.set_paused(sub.id, True, local("2026-04-14 12:00", BERLIN))
    # Resumed on Wednesday at 11:00, after that day's 09:00 run.
    await store.set_paused(sub.id, False, local("2026-04-22 11:00", BERLIN))
    clock.set(local("2026-04-22 11:00:05", BERLIN))
    scheduler = make_scheduler(store, site_api, clock, {"console": console})
    assert await scheduler.catch_up() == []
    assert await scheduler.fire(sub.id) is None
    assert posts.lines == []
    clock.set(local("2026-04-23 09:00:01", BERLIN))
    assert await scheduler.fire(sub.id) is Outcome.POSTED


async def test_a_subscription_added_after_todays_time_waits_for_tomorrow(
    store: DigestStore,
    site_api: MyLiveChatClient,
    clock: FakeClock,
    console: ConsolePoster,
    posts: Posts,
) -> None:
    clock.set(local("2026-04-22 12:00", BERLIN))
    sub = await subscribe(store, clock(), tz=BERLIN)
    scheduler = make_scheduler(store, site_api, clock, {"console": console})
    assert await scheduler.catch_up() == []
    assert await scheduler.fire(sub.id) is None
    assert posts.lines == []


async def test_fall_back_fires_twice_in_wall_time_and_posts_once(
    store: DigestStore,
    site_api: MyLiveChatClient,
    clock: FakeClock,
    console: ConsolePoster,
    posts: Posts,
) -> None:
    sub = await subscribe(store, local("2026-10-30 12:00", NEW_YORK), at="01:30", tz=NEW_YORK)
    scheduler = make_scheduler(store, site_api, clock, {"console": console})
    first = datetime(2026, 11, 1, 5, 30, 1, tzinfo=UTC)  # 01:30 EDT
    second = datetime(2026, 11, 1, 6, 30, 1, tzinfo=UTC)  # 01:30 EST, an hour later
    clock.set(first)
    assert await scheduler.fire(sub.id) is Outcome.POSTED
    clock.set(second)
    assert await scheduler.fire(sub.id) is Outcome.DUPLICATE
    assert len(posts.to("C1")) == 1
    clock.set(datetime(2026, 11, 2, 6, 30, 1, tzinfo=UTC))  # Monday 01:30 EST
    assert await scheduler.fire(sub.id) is Outcome.POSTED
    assert [d.period for d in await store.deliveries(sub.id)] == [
        "2026-11-01T01:30",
        "2026-11-02T01:30",
    ]


async def test_spring_forward_sends_a_skipped_wall_time_once_an_hour_later(
    store: DigestStore,
    site_api: MyLiveChatClient,
    clock: FakeClock,
    console: ConsolePoster,
    posts: Posts,
) -> None:
    sub = await subscribe(store, local("2026-03-28 12:00", BERLIN), at="02:30", tz=BERLIN)
    scheduler = make_scheduler(store, site_api, clock, {"console": console})
    clock.set(datetime(2026, 3, 29, 0, 59, tzinfo=UTC))  # 01:59 CET: the day's run is ahead
    assert await scheduler.fire(sub.id) is None
    clock.set(datetime(2026, 3, 29, 1, 30, 1, tzinfo=UTC))  # 03:30 CEST
    assert await scheduler.fire(sub.id) is Outcome.POSTED
    clock.set(datetime(2026, 3, 29, 2, 30, 1, tzinfo=UTC))  # 04:30 CEST
    assert await scheduler.fire(sub.id) is Outcome.DUPLICATE
    periods = [d.period for d in await store.deliveries(sub.id)]
    assert "2026-03-29T02:30" in periods and periods.count("2026-03-29T02:30") == 1
    assert len(posts.to("C1")) == 1


async def test_a_platform_without_a_poster_leaves_the_run_for_a_process_that_has_one(
    store: DigestStore,
    site_api: MyLiveChatClient,
    clock: FakeClock,
    console: ConsolePoster,
) -> None:
    sub = await subscribe(store, local("2026-04-21 12:00", BERLIN), tz=BERLIN, platform="slack")
    clock.set(local("2026-04-22 09:00:02", BERLIN))
    scheduler = make_scheduler(store, site_api, clock, {"console": console})
    assert await scheduler.fire(sub.id) is Outcome.NO_POSTER
    assert await store.deliveries(sub.id) == []


async def test_when_the_api_fails_a_notice_with_the_request_id_is_posted_and_retried_next_run(
    store: DigestStore,
    site: SandboxServer,
    site_api: MyLiveChatClient,
    clock: FakeClock,
    console: ConsolePoster,
    posts: Posts,
) -> None:
    sub = await subscribe(store, local("2026-04-20 12:00", BERLIN), tz=BERLIN)
    scheduler = make_scheduler(store, site_api, clock, {"console": console})
    site.inject_fault("500", count=3)  # the first try and both retries
    clock.set(local("2026-04-22 09:00:01", BERLIN))
    assert await scheduler.fire(sub.id) is Outcome.FAILED
    [notice] = posts.to("C1")
    delivery = await store.delivery(sub.id, "2026-04-22T09:00")
    assert delivery is not None and delivery.status is DeliveryStatus.FAILED
    assert delivery.request_id and f"Request id: {delivery.request_id}" in notice
    assert "internal_error" in notice and "Thu 2026-04-23 09:00 CEST" in notice
    clock.set(local("2026-04-23 09:00:01", BERLIN))
    assert await scheduler.fire(sub.id) is Outcome.POSTED
    assert "Usage digest" in posts.to("C1")[1]


async def test_a_subscription_added_seconds_before_its_time_is_not_left_for_tomorrow(
    store: DigestStore,
    site_api: MyLiveChatClient,
    clock: FakeClock,
    console: ConsolePoster,
    posts: Posts,
) -> None:
    clock.set(local("2026-04-22 08:59:58", BERLIN))
    scheduler = make_scheduler(store, site_api, clock, {"console": console})
    await scheduler.start()
    try:
        await subscribe(store, clock(), tz=BERLIN)  # by the bot process, at 08:59:58
        clock.set(local("2026-04-22 09:00:04", BERLIN))  # the scheduler's next poll
        await scheduler._refresh_job()
        assert len(posts.to("C1")) == 1
        await scheduler._refresh_job()  # nothing changed: nothing more
        assert len(posts.to("C1")) == 1
    finally:
        await scheduler.stop()
