"""discord.py's real HTTP client and gateway against the fake Discord, the core on the sandbox.

Interactions arrive as Discord sends them (``INTERACTION_CREATE`` payloads);
what the bot answers is checked as Discord receives it, and the fake refuses
bodies that break Discord's limits, as Discord would.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from typing import Any

import discord
import pytest
from discord.http import HTTPClient, handle_message_parameters

from adapters.discord.bot import MlcBot
from adapters.discord.embeds import render_embeds
from adapters.discord.interactions import InteractionHandler
from bot.config import ConfigError, Settings
from bot.processes.discord import print_commands, run
from bot.sandbox import SandboxServer
from bot.secrets import Secret
from commands.core import Core
from commands.reply import Kind, Reply
from tests.discord import payloads
from tests.fakes.discord_api import DiscordRequest, FakeDiscord, logged_in


async def interact(bot: MlcBot, fake: FakeDiscord, payload: dict[str, Any]) -> DiscordRequest:
    """Deliver ``payload`` as the gateway would; return the bot's follow-up message."""
    bot._connection.parse_interaction_create(payload)  # what the gateway event handler calls
    await fake.wait_for(lambda: fake.followups(payload["token"]))
    (message,) = fake.followups(payload["token"])
    return message


def message_of(followup: DiscordRequest) -> dict[str, Any]:
    """The follow-up as the message Discord stores (what a later click refers to)."""
    return payloads.sent_message(followup.json)


async def test_login_syncs_exactly_what_print_commands_shows(
    discord_bot: MlcBot, fake_discord: FakeDiscord, capsys: pytest.CaptureFixture[str]
) -> None:
    assert print_commands() == 0
    printed = json.loads(capsys.readouterr().out)
    assert fake_discord.synced_commands() == printed
    assert not fake_discord.refused
    assert [r.path for r in fake_discord.requests[:2]] == ["/users/@me", "/oauth2/applications/@me"]


async def test_guild_ids_sync_to_each_guild_at_once(
    core: Core, handler: InteractionHandler, fake_discord: FakeDiscord
) -> None:
    client = MlcBot(handler, core.dispatcher.catalog, guild_ids=(111, 222))
    async with logged_in(client, fake_discord):
        for guild in (111, 222):
            synced = fake_discord.synced_commands(guild)
            assert synced is not None and [c["name"] for c in synced] == ["mlc"]
        assert fake_discord.synced_commands() is None, "no global sync in guild mode"


async def test_defer_reaches_discord_before_mylivechat_is_called_then_the_follow_up(
    discord_bot: MlcBot, fake_discord: FakeDiscord, sandbox: SandboxServer
) -> None:
    sandbox.latency = 0.5
    payload = payloads.slash("handoffs", {"limit": 3})
    followup = await interact(discord_bot, fake_discord, payload)
    (callback,) = fake_discord.interaction_callbacks(payload["id"])
    assert callback.json == {"type": 5, "data": {"flags": 64}}  # deferred, ephemeral
    assert callback.at < sandbox.requests[0].at < followup.at
    body = followup.json
    assert followup.ephemeral and body["allowed_mentions"] == {"parse": []}
    (embed,) = body["embeds"]
    assert embed["title"] == "Recent handoffs" and len(embed["fields"]) == 3
    sessions = [f["name"] for f in embed["fields"]]
    assert payloads.custom_ids(body) == [
        cid for s in sessions for cid in (f"mlc:run:transcript {s}", f"mlc:pick:tag:tag {s}")
    ]


async def test_public_answers_are_visible_to_the_channel(
    discord_bot: MlcBot, fake_discord: FakeDiscord
) -> None:
    payload = payloads.slash("handoffs", {"limit": 2, "public": True})
    followup = await interact(discord_bot, fake_discord, payload)
    (callback,) = fake_discord.interaction_callbacks(payload["id"])
    assert callback.json == {"type": 5}
    assert not followup.ephemeral


async def test_transcript_button_runs_the_core_command_for_the_clicker(
    discord_bot: MlcBot, fake_discord: FakeDiscord
) -> None:
    listing = await interact(discord_bot, fake_discord, payloads.slash("handoffs", {"limit": 1}))
    button = payloads.custom_ids(listing.json)[0]
    session = button.removeprefix("mlc:run:transcript ")
    click = payloads.component(message_of(listing), button, user_id=600000000000000042)
    answer = await interact(discord_bot, fake_discord, click)
    (callback,) = fake_discord.interaction_callbacks(click["id"])
    assert callback.json == {"type": 5, "data": {"flags": 64}}
    assert answer.ephemeral
    assert answer.json["embeds"][0]["title"] == f"Transcript {session}"


async def test_tag_button_offers_a_menu_and_the_choice_tags_the_session(
    discord_bot: MlcBot, fake_discord: FakeDiscord, sandbox: SandboxServer
) -> None:
    listing = await interact(discord_bot, fake_discord, payloads.slash("handoffs", {"limit": 1}))
    tag_button = payloads.custom_ids(listing.json)[1]
    session = tag_button.removeprefix("mlc:pick:tag:tag ")
    offer = await interact(
        discord_bot, fake_discord, payloads.component(message_of(listing), tag_button)
    )
    assert offer.ephemeral and session in json.dumps(offer.json["embeds"])
    (menu,) = offer.json["components"][0]["components"]
    assert menu["custom_id"] == f"mlc:chosen:tag {session}"
    assert "vip" in [o["value"] for o in menu["options"]]
    choose = payloads.component(message_of(offer), menu["custom_id"], values=["vip"])
    answer = await interact(discord_bot, fake_discord, choose)
    assert answer.ephemeral and "vip" in json.dumps(answer.json["embeds"])
    posts = [r.body for r in sandbox.requests if r.method == "POST" and r.resource == "apply_tag"]
    assert len(posts) == 1 and posts[0]["session_id"] == session


async def test_many_rows_get_one_menu_per_action(
    discord_bot: MlcBot, fake_discord: FakeDiscord
) -> None:
    listing = await interact(discord_bot, fake_discord, payloads.slash("handoffs", {"limit": 10}))
    rows = listing.json["components"]
    menus = [row["components"][0] for row in rows]
    assert [m["custom_id"] for m in menus] == ["mlc:rows:0", "mlc:rows:1"]
    assert [m["placeholder"] for m in menus] == ["Transcript…", "Tag…"]
    first = menus[0]["options"][0]
    assert first["value"].startswith("run:transcript ")
    pick = payloads.component(message_of(listing), "mlc:rows:0", values=[first["value"]])
    answer = await interact(discord_bot, fake_discord, pick)
    assert answer.json["embeds"][0]["title"] == "Transcript " + first["label"]


async def test_a_member_clicking_an_admin_button_is_refused(
    discord_bot: MlcBot, fake_discord: FakeDiscord, sandbox: SandboxServer
) -> None:
    add = payloads.slash(
        "webhooks add",
        {"url": "https://example.com/hook", "events": "handoff"},
        permissions=payloads.ADMIN_PERMISSIONS,
    )
    created = await interact(discord_bot, fake_discord, add)
    assert created.ephemeral, "the reply holds the new secret"
    listing = await interact(
        discord_bot,
        fake_discord,
        payloads.slash("webhooks list", {}, permissions=payloads.ADMIN_PERMISSIONS),
    )
    test_button = next(c for c in payloads.custom_ids(listing.json) if "webhooks test" in c)
    click = payloads.component(message_of(listing), test_button)  # a member without Manage Server
    refused = await interact(discord_bot, fake_discord, click)
    assert refused.json["embeds"][0]["title"] == "Not allowed"
    assert sandbox.count(resource="test_webhook") == 0


async def test_autocomplete_answers_with_choices_from_the_cached_tags(
    discord_bot: MlcBot, fake_discord: FakeDiscord, sandbox: SandboxServer
) -> None:
    for typed in ("", "v", "vi"):
        payload = payloads.slash("tag", {"session_id": "s_1", "tag": typed}, focused="tag")
        discord_bot._connection.parse_interaction_create(payload)
        await fake_discord.wait_for(lambda p=payload: fake_discord.interaction_callbacks(p["id"]))
    (callback,) = fake_discord.interaction_callbacks(payload["id"])
    assert callback.json["type"] == 8
    assert callback.json["data"]["choices"][0]["value"] == "vip"
    assert sandbox.count(method="GET", resource="tags") == 1


async def test_long_replies_are_accepted_by_discords_limits(
    discord_bot: MlcBot, fake_discord: FakeDiscord
) -> None:
    for words, options in [
        ("help", {}),
        ("handoffs", {"limit": 25}),
        ("transcripts", {"limit": 50}),
        ("feedback", {"limit": 200}),
    ]:
        reply = await interact(discord_bot, fake_discord, payloads.slash(words, options))
        assert reply.json["embeds"], words
    assert not fake_discord.refused


async def test_run_connects_to_the_gateway_and_serves_until_sigterm(
    fake_discord: FakeDiscord, sandbox: SandboxServer
) -> None:
    fake_discord.token = "fake-discord-token"
    settings = Settings(
        api_url=sandbox.url,
        api_token=Secret(sandbox.tokens.site_a_write),
        discord_token=Secret("fake-discord-token"),
    )
    with fake_discord.installed():
        serving = asyncio.create_task(run(settings))
        await asyncio.wait_for(fake_discord.identified.wait(), 10)
        payload = payloads.slash("ping")
        await fake_discord.dispatch("INTERACTION_CREATE", payload)
        await fake_discord.wait_for(lambda: fake_discord.followups(payload["token"]))
        os.kill(os.getpid(), signal.SIGTERM)
        assert await asyncio.wait_for(serving, 10) == 0
    (answer,) = fake_discord.followups(payload["token"])
    assert answer.json["embeds"][0]["title"] == "MyLiveChat is reachable"
    assert fake_discord.synced_commands() is not None


async def test_run_explains_a_missing_or_refused_token(
    fake_discord: FakeDiscord, sandbox: SandboxServer
) -> None:
    base = Settings(api_url=sandbox.url, api_token=Secret(sandbox.tokens.site_a_write))
    with pytest.raises(ConfigError, match="DISCORD_TOKEN is not set"):
        await run(base)
    fake_discord.token = "the-real-one"
    wrong = Settings(
        api_url=base.api_url, api_token=base.api_token, discord_token=Secret("wrong-token")
    )
    with fake_discord.installed(), pytest.raises(ConfigError, match="did not accept") as caught:
        await run(wrong)
    assert "wrong-token" not in str(caught.value)


async def test_a_failed_public_command_turns_private_on_the_wire(
    discord_bot: MlcBot, fake_discord: FakeDiscord, sandbox: SandboxServer
) -> None:
    sandbox.inject_fault("500", count=5)
    payload = payloads.slash("handoffs", {"limit": 2, "public": True})
    answer = await interact(discord_bot, fake_discord, payload)
    (callback,) = fake_discord.interaction_callbacks(payload["id"])
    (edit,) = fake_discord.original_edits(payload["token"])
    assert callback.json == {"type": 5} and callback.at < edit.at < answer.at
    assert edit.json["embeds"] == [] and "privately" in edit.json["content"]
    assert answer.ephemeral and "components" not in answer.json
    footer = answer.json["embeds"][0]["footer"]["text"]
    assert "Error code: internal_error" in footer and "Request id: " in footer


async def test_rendered_embeds_post_to_a_channel_as_digests_send_them(
    fake_discord: FakeDiscord,
) -> None:
    huge = Reply(title="Weekly digest", text="figure line\n" * 3000, kind=Kind.INFO)
    http = HTTPClient(asyncio.get_running_loop())
    with fake_discord.installed():
        await http.static_login("fake-token")
        try:
            with handle_message_parameters(embeds=render_embeds(huge)) as params:
                await http.send_message(123, params=params)
            fake_discord.gone_channels.add("456")
            with pytest.raises(discord.NotFound), handle_message_parameters(content="x") as gone:
                await http.send_message(456, params=gone)
            too_big = [discord.Embed(description="x" * 4000) for _ in range(2)]
            with (
                pytest.raises(discord.HTTPException),
                handle_message_parameters(embeds=too_big) as refused,
            ):
                await http.send_message(123, params=refused)
        finally:
            await http.close()
    (posted,) = fake_discord.channel_messages(123)
    assert posted["embeds"][0]["title"] == "Weekly digest"
    assert "characters not shown" in posted["embeds"][-1]["footer"]["text"]
    assert len(fake_discord.refused) == 1


async def test_options_discord_has_out_of_date_get_a_friendly_answer(
    discord_bot: MlcBot, fake_discord: FakeDiscord, sandbox: SandboxServer
) -> None:
    stale = payloads.slash("tags add", {"colour": "#ff0000"})  # an old client: no "name"
    discord_bot._connection.parse_interaction_create(stale)
    await fake_discord.wait_for(lambda: fake_discord.interaction_callbacks(stale["id"]))
    (callback,) = fake_discord.interaction_callbacks(stale["id"])
    assert callback.json["type"] == 4 and callback.ephemeral
    assert callback.json["data"]["embeds"][0]["title"] == "This command changed"
    assert sandbox.count(resource="tags") == 0
