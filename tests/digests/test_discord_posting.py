"""Digests into the local Discord fake over REST: embeds, lost channels pausing, and the
nonce that makes a digest sent again after a crash show once."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import discord
import pytest
from aiohttp import web
from discord.http import handle_message_parameters

from adapters.discord.poster import NONCE_LENGTH, DiscordPoster, nonce_for
from bot.mylivechat import MyLiveChatClient
from bot.scheduler.delivery import Outcome, post_key
from bot.storage import DeliveryStatus, DigestStore
from commands.ports import ChannelRef
from commands.reply import Reply
from tests.fakes.discord_api import FakeDiscord

from .conftest import FakeClock, local, make_scheduler, subscribe

CHANNEL, GONE, ADMIN, DM = "700000000000000001", "700000000000000002", "600000000000000001", "7"


class DiscordWithLostChannels(FakeDiscord):
    """The fake, plus what it does not serve yet: a channel the bot lost access to
    (403 Missing Access) and opening a DM channel (``POST /users/@me/channels``)."""

    def _answer(self, method: str, path: str, body: Any) -> web.StreamResponse:
        if method == "POST" and path == f"/channels/{GONE}/messages":
            return _json({"code": 50001, "message": "Missing Access"}, status=403)
        if method == "POST" and path == "/users/@me/channels":
            recipient = {**self.bot_user, "id": str(body["recipient_id"]), "bot": False}
            return _json({"id": DM, "type": 1, "recipients": [recipient]})
        return super()._answer(method, path, body)


def _json(data: object, status: int = 200) -> web.Response:
    # discord.py parses a body as JSON only when Content-Type is exactly application/json.
    body = json.dumps(data).encode()
    return web.Response(body=body, status=status, headers={"Content-Type": "application/json"})


@pytest.fixture
async def discord_api() -> AsyncIterator[DiscordWithLostChannels]:
    async with DiscordWithLostChannels() as fake:
        with fake.installed():
            yield fake


@pytest.fixture
async def poster(discord_api: FakeDiscord) -> AsyncIterator[DiscordPoster]:
    poster = await DiscordPoster.login("fake-token.for-tests")
    yield poster
    await poster.aclose()


async def test_a_digest_is_sent_to_the_channel_as_embeds(
    discord_api: FakeDiscord,
    poster: DiscordPoster,
    store: DigestStore,
    site_api: MyLiveChatClient,
    clock: FakeClock,
) -> None:
    sub = await subscribe(
        store, local("2026-04-21 12:00", "UTC"), platform="discord", channel=CHANNEL, tz="UTC"
    )
    scheduler = make_scheduler(store, site_api, clock, {"discord": poster})
    clock.set(local("2026-04-22 09:00:01", "UTC"))
    assert await scheduler.fire(sub.id) is Outcome.POSTED
    [body] = discord_api.channel_messages(CHANNEL)
    assert body["embeds"][0]["title"].startswith("Usage digest")
    assert body["allowed_mentions"] == {"parse": []}
    assert not discord_api.refused


async def test_a_channel_the_bot_lost_pauses_the_digest_and_dms_the_admin(
    discord_api: FakeDiscord,
    poster: DiscordPoster,
    store: DigestStore,
    site_api: MyLiveChatClient,
    clock: FakeClock,
) -> None:
    sub = await subscribe(
        store,
        local("2026-04-21 12:00", "UTC"),
        platform="discord",
        channel=GONE,
        tz="UTC",
        created_by=ADMIN,
    )
    scheduler = make_scheduler(store, site_api, clock, {"discord": poster})
    clock.set(local("2026-04-22 09:00:01", "UTC"))
    assert await scheduler.fire(sub.id) is Outcome.CHANNEL_GONE
    paused = await store.get(sub.id)
    assert paused is not None and paused.paused
    assert paused.paused_reason == (
        "the bot can no longer post in the channel (403 Missing Access)"
    )
    [dm] = discord_api.channel_messages(DM)
    assert dm["embeds"][0]["title"] == f"Digest #{sub.id} paused"


async def test_a_digest_carries_a_nonce_discord_enforces(
    discord_api: FakeDiscord,
    poster: DiscordPoster,
    store: DigestStore,
    site_api: MyLiveChatClient,
    clock: FakeClock,
) -> None:
    sub = await subscribe(
        store, local("2026-04-21 12:00", "UTC"), platform="discord", channel=CHANNEL, tz="UTC"
    )
    scheduler = make_scheduler(store, site_api, clock, {"discord": poster})
    clock.set(local("2026-04-22 09:00:01", "UTC"))
    assert await scheduler.fire(sub.id) is Outcome.POSTED
    [body] = discord_api.channel_messages(CHANNEL)
    expected = nonce_for(post_key(sub.id, "2026-04-22T09:00"))
    assert body["nonce"] == expected and len(expected) == NONCE_LENGTH
    assert body["enforce_nonce"] is True
    assert nonce_for(post_key(sub.id, "2026-04-23T09:00")) != expected  # one per period


async def test_the_fake_answers_a_repeated_enforced_nonce_with_the_first_message(
    discord_api: FakeDiscord, poster: DiscordPoster
) -> None:
    http = poster.http

    async def send(nonce: str | None, *, enforce: bool = True) -> dict[str, Any]:
        with handle_message_parameters(content="hello", nonce=nonce) as params:
            if not enforce and params.payload is not None:
                params.payload.pop("enforce_nonce", None)
            return await http.send_message(int(CHANNEL), params=params)

    first = await send("n-1")
    again = await send("n-1")
    assert again["id"] == first["id"] and len(discord_api.channel_messages(CHANNEL)) == 1
    assert discord_api.repeats == 1
    await send("n-2")
    await send("n-3", enforce=False)
    await send("n-3", enforce=False)  # without enforce_nonce, Discord creates both
    assert len(discord_api.channel_messages(CHANNEL)) == 4
    discord_api.nonce_window = 0.0  # Discord forgets a nonce after a few minutes
    await send("n-1")
    assert len(discord_api.channel_messages(CHANNEL)) == 5
    with pytest.raises(discord.HTTPException) as refused:
        await send("x" * (NONCE_LENGTH + 1))
    assert refused.value.status == 400


async def test_a_digest_whose_sender_died_mid_post_is_sent_again_and_shows_once(
    discord_api: FakeDiscord,
    poster: DiscordPoster,
    store: DigestStore,
    site_api: MyLiveChatClient,
    clock: FakeClock,
    caplog_digests: pytest.LogCaptureFixture,
) -> None:
    sub = await subscribe(
        store, local("2026-04-21 12:00", "UTC"), platform="discord", channel=CHANNEL, tz="UTC"
    )
    clock.set(local("2026-04-22 09:00:01", "UTC"))
    period = "2026-04-22T09:00"
    # The first scheduler claimed the digest, began posting, and Discord took the post;
    # the scheduler died before it could record it.
    dead = await store.claim(sub.id, period, clock(), claimed_by="dead")
    assert dead is not None and await store.mark_posting(dead, clock(), timedelta(seconds=60))
    key = post_key(sub.id, period)
    await poster.post(ChannelRef("discord", CHANNEL), Reply(title="Usage digest"), key=key)
    clock.advance(seconds=61)
    scheduler = make_scheduler(store, site_api, clock, {"discord": poster})
    [retaken] = await scheduler.sweep()
    assert retaken.outcome is Outcome.POSTED
    assert len(discord_api.matching("POST", f"/channels/{CHANNEL}/messages")) == 2
    assert len(discord_api.channel_messages(CHANNEL)) == 1 and discord_api.repeats == 1
    assert "dead stopped while posting it; it is sent again under the same key" in (
        caplog_digests.text
    )
    delivery = await store.delivery(sub.id, period)
    assert delivery is not None and delivery.status is DeliveryStatus.POSTED


class _LosesFirstAnswer:
    """Posts through the real poster, then acts as if the answer was lost, once."""

    def __init__(self, poster: DiscordPoster) -> None:
        self.poster = poster
        self.lost = False

    async def post(self, channel: ChannelRef, reply: Reply, *, key: str | None = None) -> None:
        await self.poster.post(channel, reply, key=key)
        if not self.lost:
            self.lost = True
            raise ConnectionResetError("the answer never came")


async def test_a_post_whose_answer_was_lost_is_sent_again_under_its_nonce_and_shows_once(
    discord_api: FakeDiscord,
    poster: DiscordPoster,
    store: DigestStore,
    site_api: MyLiveChatClient,
    clock: FakeClock,
    caplog_digests: pytest.LogCaptureFixture,
) -> None:
    sub = await subscribe(
        store, local("2026-04-21 12:00", "Europe/Berlin"), platform="discord", channel="555"
    )
    scheduler = make_scheduler(store, site_api, clock, {"discord": _LosesFirstAnswer(poster)})
    clock.set(local("2026-04-22 09:00:01", "Europe/Berlin"))
    assert await scheduler.fire(sub.id) is Outcome.POSTED
    assert len(discord_api.channel_messages("555")) == 1
    assert "posted again under the same key" in caplog_digests.text
