"""Digests into the local Slack fake: Block Kit, one message a second per channel,
channels the bot lost (archived, removed) pausing their subscription, and a digest whose
sender died mid-post looked for in the channel before it is sent again."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.client import web_client
from adapters.slack.poster import METADATA_EVENT, SlackPoster
from bot.mylivechat import MyLiveChatClient
from bot.scheduler.delivery import Outcome, post_key
from bot.storage import DeliveryStatus, DigestStore
from commands.ports import ChannelGone, ChannelRef
from commands.reply import Reply
from tests.fakes.slack_api import FakeSlack

from .conftest import FakeClock, local, make_scheduler, subscribe

BERLIN = "Europe/Berlin"


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
def poster(slack: FakeSlack) -> SlackPoster:
    return SlackPoster(web_client(slack.url, token=slack.bot_token, posts=True))


def header_text(blocks: list[dict[str, Any]]) -> str:
    return next(b["text"]["text"] for b in blocks if b["type"] == "header")


async def test_a_digest_is_posted_with_chat_post_message_and_blocks(
    slack: FakeSlack,
    poster: SlackPoster,
    store: DigestStore,
    site_api: MyLiveChatClient,
    clock: FakeClock,
) -> None:
    sub = await subscribe(
        store,
        local("2026-04-21 12:00", BERLIN),
        platform="slack",
        workspace="T0TEAM",
        channel="C_SUPPORT",
        kind="feedback",
    )
    scheduler = make_scheduler(store, site_api, clock, {"slack": poster})
    clock.set(local("2026-04-22 09:00:01", BERLIN))
    assert await scheduler.fire(sub.id) is Outcome.POSTED
    [call] = slack.calls_to("chat.postMessage")
    assert call.token == slack.bot_token and call.args["channel"] == "C_SUPPORT"
    [message] = slack.messages
    assert header_text(message.blocks).startswith("Feedback digest")
    assert message.text.startswith("Feedback digest")
    assert any("Ratings" in str(b) for b in message.blocks)


async def test_many_digests_in_one_minute_keep_to_a_message_a_second_per_channel(
    slack: FakeSlack,
    poster: SlackPoster,
    store: DigestStore,
    site_api: MyLiveChatClient,
    clock: FakeClock,
) -> None:
    created = local("2026-04-21 12:00", BERLIN)
    busy = [
        await subscribe(store, created, platform="slack", channel="C_BUSY", kind=kind, tz=tz)
        for kind, tz in (("usage", BERLIN), ("feedback", BERLIN), ("usage", "Europe/Paris"))
    ]
    quiet = await subscribe(store, created, platform="slack", channel="C_QUIET")
    scheduler = make_scheduler(store, site_api, clock, {"slack": poster})
    clock.set(local("2026-04-22 09:00:01", BERLIN))
    outcomes = await asyncio.gather(*(scheduler.fire(s.id) for s in [*busy, quiet]))
    assert outcomes == [Outcome.POSTED] * 4
    busy_times = [c.at for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "C_BUSY"]
    quiet_times = [
        c.at for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "C_QUIET"
    ]
    gaps = [b - a for a, b in itertools.pairwise(busy_times)]
    assert len(busy_times) == 3 and all(gap >= 0.95 for gap in gaps), gaps
    assert quiet_times[0] - busy_times[0] < 0.5  # another channel does not wait its turn


async def test_an_archived_channel_pauses_its_digest_and_tells_the_admin(
    slack: FakeSlack,
    poster: SlackPoster,
    store: DigestStore,
    site_api: MyLiveChatClient,
    clock: FakeClock,
    caplog_digests: pytest.LogCaptureFixture,
) -> None:
    sub = await subscribe(
        store,
        local("2026-04-21 12:00", BERLIN),
        platform="slack",
        channel="C_OLD",
        created_by="U_ADMIN",
    )
    slack.fail_channel("C_OLD", "is_archived")
    scheduler = make_scheduler(store, site_api, clock, {"slack": poster})
    clock.set(local("2026-04-22 09:00:01", BERLIN))
    assert await scheduler.fire(sub.id) is Outcome.CHANNEL_GONE
    paused = await store.get(sub.id)
    assert paused is not None and paused.paused
    assert paused.paused_reason == "the bot can no longer post in the channel (is_archived)"
    assert "digest #1 paused" in caplog_digests.text
    [dm] = [m for m in slack.messages if m.channel == "U_ADMIN"]
    assert header_text(dm.blocks).endswith(f"Digest #{sub.id} paused")
    assert f"digest resume {sub.id}" in str(dm.blocks)

    # No retrying forever: the next run does nothing, and the scheduler drops the job.
    clock.advance(days=1)
    assert await scheduler.fire(sub.id) is None
    assert len(slack.calls_to("chat.postMessage")) == 2
    await scheduler.refresh()
    assert scheduler.job_ids() == []


async def test_a_rate_limited_post_waits_retry_after_and_goes_through(
    slack: FakeSlack, poster: SlackPoster
) -> None:
    slack.rate_limit("chat.postMessage", times=1, retry_after=1)
    started = asyncio.get_running_loop().time()
    await poster.post(ChannelRef("slack", "C1"), Reply(title="Usage digest", text="hello"))
    assert asyncio.get_running_loop().time() - started >= 1.0
    assert len(slack.calls_to("chat.postMessage")) == 2 and len(slack.messages) == 1


async def test_other_slack_errors_fail_the_run_without_pausing(
    slack: FakeSlack,
    store: DigestStore,
    site_api: MyLiveChatClient,
    clock: FakeClock,
) -> None:
    sub = await subscribe(store, local("2026-04-21 12:00", BERLIN), platform="slack")
    bad_token = SlackPoster(AsyncWebClient(token="xoxb-wrong", base_url=slack.url))
    scheduler = make_scheduler(store, site_api, clock, {"slack": bad_token})
    clock.set(local("2026-04-22 09:00:01", BERLIN))
    assert await scheduler.fire(sub.id) is Outcome.FAILED
    still = await store.get(sub.id)
    assert still is not None and not still.paused


async def test_channel_gone_names_the_reason(slack: FakeSlack, poster: SlackPoster) -> None:
    slack.fail_channel("C_GONE", "not_in_channel")
    with pytest.raises(ChannelGone) as raised:
        await poster.post(ChannelRef("slack", "C_GONE"), Reply(title="x"))
    assert raised.value.reason == "not_in_channel"


async def test_a_digest_carries_its_key_as_message_metadata(
    slack: FakeSlack,
    poster: SlackPoster,
    store: DigestStore,
    site_api: MyLiveChatClient,
    clock: FakeClock,
) -> None:
    sub = await subscribe(store, local("2026-04-21 12:00", BERLIN), platform="slack")
    scheduler = make_scheduler(store, site_api, clock, {"slack": poster})
    clock.set(local("2026-04-22 09:00:01", BERLIN))
    assert await scheduler.fire(sub.id) is Outcome.POSTED
    [message] = slack.messages
    assert message.metadata == {
        "event_type": METADATA_EVENT,
        "event_payload": {"key": post_key(sub.id, "2026-04-22T09:00")},
    }


async def _died_while_posting(
    store: DigestStore, poster: SlackPoster, clock: FakeClock, *, reached_slack: bool
) -> int:
    """A subscription whose first scheduler died after it began posting today's digest
    (with its post taken by Slack, or not); the clock is then past that one's lease."""
    sub = await subscribe(
        store, local("2026-04-21 12:00", BERLIN), platform="slack", channel="C_DIGESTS"
    )
    clock.set(local("2026-04-22 09:00:01", BERLIN))
    period = "2026-04-22T09:00"
    dead = await store.claim(sub.id, period, clock(), claimed_by="dead")
    assert dead is not None and await store.mark_posting(dead, clock(), timedelta(seconds=60))
    if reached_slack:
        digest = Reply(title="Usage digest", text="what the dead one sent")
        await poster.post(ChannelRef("slack", "C_DIGESTS"), digest, key=post_key(sub.id, period))
    clock.advance(seconds=61)
    return sub.id


async def test_a_retaken_digest_that_reached_slack_is_found_and_not_posted_again(
    slack: FakeSlack,
    poster: SlackPoster,
    store: DigestStore,
    site_api: MyLiveChatClient,
    clock: FakeClock,
    caplog_digests: pytest.LogCaptureFixture,
) -> None:
    sub_id = await _died_while_posting(store, poster, clock, reached_slack=True)
    scheduler = make_scheduler(store, site_api, clock, {"slack": poster})
    [retaken] = await scheduler.sweep()
    assert retaken.outcome is Outcome.POSTED
    [message] = slack.messages  # the dead one's, and no second one
    assert "what the dead one sent" in str(message.blocks)
    [history] = slack.calls_to("conversations.history")
    assert history.args["channel"] == "C_DIGESTS"
    assert "dead stopped while posting it; the channel shows it" in caplog_digests.text
    delivery = await store.delivery(sub_id, "2026-04-22T09:00")
    assert delivery is not None and delivery.status is DeliveryStatus.POSTED
    reloaded = await store.get(sub_id)
    assert reloaded is not None and reloaded.last_snapshot is not None  # the new baseline


async def test_a_retaken_digest_that_never_reached_slack_is_posted(
    slack: FakeSlack,
    poster: SlackPoster,
    store: DigestStore,
    site_api: MyLiveChatClient,
    clock: FakeClock,
    caplog_digests: pytest.LogCaptureFixture,
) -> None:
    await _died_while_posting(store, poster, clock, reached_slack=False)
    scheduler = make_scheduler(store, site_api, clock, {"slack": poster})
    [retaken] = await scheduler.sweep()
    assert retaken.outcome is Outcome.POSTED
    [message] = slack.messages
    assert message.text.startswith("Usage digest") and message.channel == "C_DIGESTS"
    assert "the channel does not show it, so it is sent now" in caplog_digests.text


async def test_without_the_history_scope_a_retaken_digest_is_sent_again_with_a_warning(
    slack: FakeSlack,
    poster: SlackPoster,
    store: DigestStore,
    site_api: MyLiveChatClient,
    clock: FakeClock,
    caplog_digests: pytest.LogCaptureFixture,
) -> None:
    # Installed from an older manifest without channels:history, the bot cannot look. It
    # sends the digest again (a duplicate beats a silent loss) and says so.
    slack.reply_with(
        "conversations.history",
        {"ok": False, "error": "missing_scope", "needed": "channels:history"},
    )
    await _died_while_posting(store, poster, clock, reached_slack=True)
    scheduler = make_scheduler(store, site_api, clock, {"slack": poster})
    [retaken] = await scheduler.sweep()
    assert retaken.outcome is Outcome.POSTED
    assert len(slack.messages) == 2
    assert "the channel cannot be checked (the bot may not read it), so it is sent again" in (
        caplog_digests.text
    )


async def test_a_post_whose_answer_was_lost_is_looked_for_and_not_sent_twice(
    slack: FakeSlack,
    store: DigestStore,
    site_api: MyLiveChatClient,
    clock: FakeClock,
    caplog_digests: pytest.LogCaptureFixture,
) -> None:
    sub = await subscribe(store, local("2026-04-21 12:00", BERLIN), platform="slack")
    impatient = SlackPoster(AsyncWebClient(token=slack.bot_token, base_url=slack.url, timeout=1))
    slack.delay_answer("chat.postMessage", 3.0)  # Slack posts it; its answer comes too late
    scheduler = make_scheduler(store, site_api, clock, {"slack": impatient})
    clock.set(local("2026-04-22 09:00:01", BERLIN))
    assert await scheduler.fire(sub.id) is Outcome.POSTED
    assert len(slack.messages) == 1 and len(slack.calls_to("chat.postMessage")) == 1
    assert "the answer to its post was lost" in caplog_digests.text
    assert "the channel shows it, so it counts as posted" in caplog_digests.text
    delivery = await store.delivery(sub.id, "2026-04-22T09:00")
    assert delivery is not None and delivery.status is DeliveryStatus.POSTED


async def test_a_post_slack_refused_is_not_looked_for(
    slack: FakeSlack,
    poster: SlackPoster,
    store: DigestStore,
    site_api: MyLiveChatClient,
    clock: FakeClock,
) -> None:
    sub = await subscribe(store, local("2026-04-21 12:00", BERLIN), platform="slack")
    slack.reply_with("chat.postMessage", {"ok": False, "error": "msg_too_long"})
    scheduler = make_scheduler(store, site_api, clock, {"slack": poster})
    clock.set(local("2026-04-22 09:00:01", BERLIN))
    assert await scheduler.fire(sub.id) is Outcome.FAILED
    assert slack.calls_to("conversations.history") == []
    delivery = await store.delivery(sub.id, "2026-04-22T09:00")
    assert delivery is not None and delivery.detail == "msg_too_long"
