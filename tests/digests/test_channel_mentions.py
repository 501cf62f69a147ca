"""Digests name their channel as a mention people can click, on every platform.

Slack shows ``<#C1>`` as the channel's name and Discord ``<#123…>`` likewise; a terminal shows
``#C1``. The digest list (with its "(here)"), the pause, resume and remove answers, and the
admin's direct message about a paused digest all use it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from adapters.discord.embeds import render_embeds
from adapters.discord.poster import DiscordPoster
from adapters.slack.blocks import render_message
from adapters.slack.client import web_client
from adapters.slack.poster import SlackPoster
from bot.mylivechat import MyLiveChatClient
from bot.scheduler.delivery import Outcome
from bot.secrets import REGISTRY
from bot.storage import DigestStore
from commands.context import Caller, Context, Policy, Surface
from commands.digests.service import DigestService
from commands.dispatch import Dispatcher
from commands.render import render_text
from commands.reply import Reply
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.slack_api import FakeSlack
from tests.slack.views import text_of

from .conftest import FakeClock, local, make_scheduler, subscribe
from .test_discord_posting import ADMIN, DM, GONE, DiscordWithLostChannels

RunText = Callable[..., Awaitable[Reply]]
SUPPORT, SALES = "700000000000000011", "700000000000000012"


@pytest.fixture
def run(
    store: DigestStore, site_api: MyLiveChatClient, clock: FakeClock, dispatcher: Dispatcher
) -> RunText:
    service = DigestService(store, clock=clock)

    async def run_text(text: str, *, platform: str = "slack", channel: str = "C1") -> Reply:
        ctx = Context(
            api=site_api,
            caller=Caller("U_ME", platform_admin=True),
            surface=Surface(platform, channel, "T1"),
            secrets=REGISTRY,
            policy=Policy(default_timezone="UTC"),
            clock=clock,
            digests=service,
        )
        return await dispatcher.run_text(text, ctx)

    return run_text


async def test_slack_digest_list_and_answers_mention_the_channel(run: RunText) -> None:
    await run("digest add usage", channel="C1")
    await run("digest add feedback", channel="C2")
    listing = render_message(await run("digest list", channel="C1"))
    text = text_of(listing["blocks"])
    assert "`#1` · usage · <#C1> (here) ·" in text
    assert "`#2` · feedback · <#C2> ·" in text and "<#C2> (here)" not in text
    assert "```" not in text, "a code block would show the mention as text"

    paused = text_of(render_message(await run("digest pause 2"))["blocks"])
    assert "The feedback digest of <#C2> is paused." in paused
    resumed = text_of(render_message(await run("digest resume 2"))["blocks"])
    assert "The feedback digest of <#C2> runs" in resumed
    removed = text_of(render_message(await run("digest remove 2"))["blocks"])
    assert "The feedback digest of <#C2> (" in removed


async def test_discord_and_the_terminal_mention_the_channel_their_way(run: RunText) -> None:
    await run("digest add usage", platform="discord", channel=SUPPORT)
    await run("digest add usage", platform="discord", channel=SALES)
    listing = await run("digest list", platform="discord", channel=SUPPORT)
    values = [f.value for f in render_embeds(listing)[0].fields]
    assert values[0].startswith(f"usage · <#{SUPPORT}> (here) · ")
    assert values[1].startswith(f"usage · <#{SALES}> · ")
    assert f"#{SUPPORT} (here)" in render_text(listing)
    (embed,) = render_embeds(await run("digest pause 2", platform="discord", channel=SUPPORT))
    assert embed.description is not None
    assert f"The usage digest of <#{SALES}> is paused." in embed.description


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


async def test_the_admins_slack_message_about_a_paused_digest_mentions_the_channel(
    slack: FakeSlack, store: DigestStore, site_api: MyLiveChatClient, clock: FakeClock
) -> None:
    poster = SlackPoster(web_client(slack.url, token=slack.bot_token, posts=True))
    when = local("2026-04-21 12:00", "UTC")
    sub = await subscribe(store, when, platform="slack", channel="C_OLD", tz="UTC")
    slack.fail_channel("C_OLD", "is_archived")
    scheduler = make_scheduler(store, site_api, clock, {"slack": poster})
    clock.set(local("2026-04-22 09:00:01", "UTC"))
    assert await scheduler.fire(sub.id) is Outcome.CHANNEL_GONE
    [dm] = [m for m in slack.messages if m.channel == "U_ADMIN"]
    assert "The usage digest for <#C_OLD> is paused" in text_of(dm.blocks)
    assert dm.text.startswith(f"Digest #{sub.id} paused: The usage digest for <#C_OLD>")


@pytest.fixture
async def discord_api() -> AsyncIterator[DiscordWithLostChannels]:
    async with DiscordWithLostChannels() as fake:
        with fake.installed():
            yield fake


async def test_the_admins_discord_message_about_a_paused_digest_mentions_the_channel(
    discord_api: FakeDiscord, store: DigestStore, site_api: MyLiveChatClient, clock: FakeClock
) -> None:
    poster = await DiscordPoster.login("fake-token.for-tests")
    try:
        when = local("2026-04-21 12:00", "UTC")
        sub = await subscribe(
            store, when, platform="discord", channel=GONE, tz="UTC", created_by=ADMIN
        )
        scheduler = make_scheduler(store, site_api, clock, {"discord": poster})
        clock.set(local("2026-04-22 09:00:01", "UTC"))
        assert await scheduler.fire(sub.id) is Outcome.CHANNEL_GONE
    finally:
        await poster.aclose()
    [dm] = discord_api.channel_messages(DM)
    assert f"The usage digest for <#{GONE}> is paused" in dm["embeds"][0]["description"]
