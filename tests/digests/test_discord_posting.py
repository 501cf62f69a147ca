"""Digests into the local Discord fake over REST: embeds, and lost channels pausing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from adapters.discord.poster import DiscordPoster
from bot.mylivechat import MyLiveChatClient
from bot.scheduler.delivery import Outcome
from bot.storage import DigestStore
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
