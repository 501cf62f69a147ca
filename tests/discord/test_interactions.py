"""Callbacks driven with mocked ``discord.Interaction`` objects against the sandbox."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import discord
import pytest
from pytest_mock import MockerFixture

from adapters.discord.interactions import InteractionHandler, send_reply
from adapters.discord.views import PickButton, PickMenu, RunButton
from bot.compose import build_core
from bot.config import Settings
from bot.mylivechat import MyLiveChatClient
from bot.sandbox import SandboxServer
from commands.catalog import default_catalog
from commands.reply import Field, Kind, Reply
from commands.spec import Command
from tests.discord.conftest import LISTED_ADMIN_ID, MockInteraction

CATALOG = default_catalog()


def cmd(name: str) -> Command:
    found = CATALOG.get(name)
    assert found is not None, name
    return found


def names(interaction: Any) -> list[str]:
    return [name for name, _, _ in interaction.calls]


def followup(interaction: Any) -> dict[str, Any]:
    sent = [kwargs for name, _, kwargs in interaction.calls if name == "followup"]
    assert len(sent) == 1, interaction.calls
    return sent[0]


def first_embed(interaction: Any) -> discord.Embed:
    return followup(interaction)["embeds"][0]


async def test_defer_comes_before_any_mylivechat_call_even_when_the_api_is_slow(
    sandbox: SandboxServer, handler: InteractionHandler, mock_interaction: MockInteraction
) -> None:
    sandbox.latency = 1.0
    interaction = mock_interaction()
    started = time.monotonic()
    await handler.run_command(interaction, cmd("handoffs"), {"limit": 3, "public": None})
    assert names(interaction) == ["defer", "followup"]
    _, deferred_at, defer_kwargs = interaction.calls[0]
    assert defer_kwargs == {"ephemeral": True, "thinking": True}
    assert deferred_at - started < 0.05, "no I/O may come before the defer"
    assert sandbox.requests and deferred_at < sandbox.requests[0].at
    assert first_embed(interaction).title == "Recent handoffs"


async def test_defer_is_immediate_while_the_rate_limiter_holds_the_api_call(
    mocker: MockerFixture,
) -> None:
    async with SandboxServer(rate_limit=1, window=30.0) as sandbox:
        api = MyLiveChatClient(sandbox.tokens.site_a_write, base_url=sandbox.url)
        handler = InteractionHandler(build_core(Settings(api_url=sandbox.url), api=api))
        await api.ping()  # spends the whole budget: the next call must wait ~30 s
        deferred = asyncio.Event()
        interaction = mocker.MagicMock(spec=discord.Interaction)
        interaction.response.defer = mocker.AsyncMock(side_effect=lambda **_: deferred.set())
        interaction.permissions = discord.Permissions.none()
        interaction.user.id, interaction.guild_id, interaction.channel_id = 1, 2, 3
        task = asyncio.create_task(handler.run_command(interaction, cmd("ping"), {}))
        await asyncio.wait_for(deferred.wait(), 0.5)
        assert not task.done(), "the API call is still held back by the rate limiter"
        assert sandbox.count(resource="ping") == 1
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await api.aclose()


async def test_answers_are_private_unless_public_is_asked(
    handler: InteractionHandler, mock_interaction: MockInteraction
) -> None:
    private, public = mock_interaction(), mock_interaction()
    await handler.run_command(private, cmd("handoffs"), {"limit": 2, "public": False})
    await handler.run_command(public, cmd("handoffs"), {"limit": 2, "public": True})
    assert private.calls[0][2]["ephemeral"] is True and followup(private)["ephemeral"] is True
    assert public.calls[0][2]["ephemeral"] is False and followup(public)["ephemeral"] is False


async def test_a_secret_never_goes_to_a_public_message(
    mock_interaction: MockInteraction,
) -> None:
    interaction = mock_interaction()
    secret = Reply(title="Webhook 3 created", fields=(Field("Secret", "s3cr3t"),), sensitive=True)
    await send_reply(interaction, secret, deferred_public=True)
    assert names(interaction) == ["edit_original", "followup"]
    edit = interaction.calls[0][2]
    assert edit["embeds"] == [] and "s3cr3t" not in edit["content"]
    assert followup(interaction)["ephemeral"] is True


async def test_a_failed_public_command_answers_privately_with_the_request_id(
    sandbox: SandboxServer, handler: InteractionHandler, mock_interaction: MockInteraction
) -> None:
    sandbox.inject_fault("500", count=5)
    interaction = mock_interaction()
    await handler.run_command(interaction, cmd("handoffs"), {"limit": 2, "public": True})
    assert names(interaction) == ["defer", "edit_original", "followup"]
    assert followup(interaction)["ephemeral"] is True
    embed = first_embed(interaction)
    assert embed.colour == discord.Colour(0xED4245)
    assert embed.footer.text is not None and "Request id: " in embed.footer.text
    assert "view" not in followup(interaction)


async def test_admin_commands_refuse_members_and_make_no_api_call(
    sandbox: SandboxServer, handler: InteractionHandler, mock_interaction: MockInteraction
) -> None:
    interaction = mock_interaction(manage_guild=False)
    options = {"url": "https://example.com/hook", "events": "handoff", "label": None}
    await handler.run_command(interaction, cmd("webhooks add"), options)
    embed = first_embed(interaction)
    assert embed.title == "Not allowed" and "admins" in (embed.description or "")
    assert sandbox.count(method="POST", resource="webhook_subscriptions") == 0


@pytest.mark.parametrize(
    ("who", "manage_guild"), [("manage-server", True), ("MLC_BOT_ADMINS", False)]
)
async def test_admins_by_manage_server_or_by_config_may_run_admin_commands(
    sandbox: SandboxServer,
    handler: InteractionHandler,
    mock_interaction: MockInteraction,
    who: str,
    manage_guild: bool,
) -> None:
    user_id = LISTED_ADMIN_ID if who == "MLC_BOT_ADMINS" else 600000000000000077
    interaction = mock_interaction(user_id=user_id, manage_guild=manage_guild)
    options = {"url": "https://example.com/hook", "events": "handoff,feedback", "label": None}
    await handler.run_command(interaction, cmd("webhooks add"), options)
    assert sandbox.count(method="POST", resource="webhook_subscriptions") == 1
    sent = followup(interaction)
    assert sent["ephemeral"] is True, "the reply carries the new secret"
    assert "created" in (sent["embeds"][0].title or "")


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("tags add", {"name": "sneaky"}),
        ("tag", {"session_id": "s_8f2a91c0d4e1", "tag": "vip"}),
        ("webhooks delete", {"id": 1}),
    ],
)
async def test_without_the_members_permissions_a_write_sends_nothing(
    sandbox: SandboxServer,
    handler: InteractionHandler,
    mock_interaction: MockInteraction,
    command: str,
    options: dict[str, object],
) -> None:
    interaction = mock_interaction(manage_guild=True, permissions_missing=True)
    await handler.run_command(interaction, cmd(command), options)
    embed = first_embed(interaction)
    assert "Could not confirm your role" in (embed.description or "")
    assert followup(interaction)["ephemeral"] is True
    assert sandbox.count() == 0


async def test_without_the_members_permissions_reads_still_work(
    sandbox: SandboxServer, handler: InteractionHandler, mock_interaction: MockInteraction
) -> None:
    interaction = mock_interaction(permissions_missing=True)
    await handler.run_command(interaction, cmd("tags"), {"all": None})
    assert (first_embed(interaction).title or "").startswith("Tags (")
    assert sandbox.count(method="GET", resource="tags") == 1


async def test_manage_server_means_nothing_outside_a_server(
    handler: InteractionHandler, mock_interaction: MockInteraction
) -> None:
    interaction = mock_interaction(manage_guild=True, guild_id=None)
    assert handler.context(interaction).caller.platform_admin is False


async def test_key_value_options_keep_quoted_values_whole(
    sandbox: SandboxServer, handler: InteractionHandler, mock_interaction: MockInteraction
) -> None:
    interaction = mock_interaction()
    options = {"visitor_key": "u-777", "attr": 'plan=pro company="Acme Inc"'}
    await handler.run_command(interaction, cmd("visitor set"), options)
    bodies = [r.body for r in sandbox.requests if r.resource == "visitors" and r.method == "POST"]
    assert bodies and bodies[0]["attributes"] == {"plan": "pro", "company": "Acme Inc"}


async def test_an_unclosed_quote_gets_a_usage_reply_not_an_api_call(
    sandbox: SandboxServer, handler: InteractionHandler, mock_interaction: MockInteraction
) -> None:
    interaction = mock_interaction()
    await handler.run_command(
        interaction, cmd("visitor set"), {"visitor_key": "u-1", "attr": 'a="b'}
    )
    embed = first_embed(interaction)
    assert embed.title == "That command needs a fix" and "quote" in (embed.description or "")
    assert sandbox.count(resource="visitors") == 0


async def test_tag_autocomplete_fetches_the_tag_list_once_then_uses_the_cache(
    sandbox: SandboxServer, handler: InteractionHandler, mock_interaction: MockInteraction
) -> None:
    param = cmd("tag").param("tag")
    assert param is not None
    first = await handler.autocomplete(mock_interaction(), cmd("tag"), param, "")
    typed = await handler.autocomplete(mock_interaction(), cmd("tag"), param, "bi")
    values = [c.value for c in first]
    assert "vip" in values and "billing" in values
    assert "legacy-promo" not in values, "a deleted tag cannot be applied"
    assert typed[0].value == "billing"
    assert all(len(c.name) <= 100 for c in first)
    assert sandbox.count(method="GET", resource="tags") == 1


async def test_session_autocomplete_reuses_the_handoffs_a_command_listed(
    sandbox: SandboxServer, handler: InteractionHandler, mock_interaction: MockInteraction
) -> None:
    listing = mock_interaction()
    await handler.run_command(listing, cmd("handoffs"), {"limit": 5, "public": None})
    shown = [f.name for f in first_embed(listing).fields]
    param = cmd("transcript").param("session_id")
    assert param is not None
    choices = await handler.autocomplete(mock_interaction(), cmd("transcript"), param, "")
    assert [c.value for c in choices][:5] == shown
    assert sandbox.count(method="GET", resource="handoffs") == 1


async def test_event_lists_complete_one_value_at_a_time(
    handler: InteractionHandler, mock_interaction: MockInteraction
) -> None:
    param = cmd("webhooks add").param("events")
    assert param is not None
    choices = await handler.autocomplete(
        mock_interaction(), cmd("webhooks add"), param, "handoff,f"
    )
    assert [c.value for c in choices] == ["handoff,feedback"]
    start = await handler.autocomplete(mock_interaction(), cmd("webhooks add"), param, "")
    assert [c.value for c in start] == ["handoff", "feedback"]
    done = await handler.autocomplete(
        mock_interaction(), cmd("webhooks add"), param, "handoff,feedback"
    )
    assert [c.value for c in done] == ["handoff,feedback"], "nothing is offered twice"


async def test_webhook_id_autocomplete_offers_integers(
    handler: InteractionHandler, mock_interaction: MockInteraction
) -> None:
    admin = mock_interaction(manage_guild=True)
    options = {"url": "https://example.com/hook", "events": "handoff", "label": "zap"}
    await handler.run_command(admin, cmd("webhooks add"), options)
    param = cmd("webhooks test").param("id")
    assert param is not None
    choices = await handler.autocomplete(mock_interaction(), cmd("webhooks test"), param, "")
    assert choices and all(isinstance(c.value, int) for c in choices)


async def test_autocomplete_answers_empty_rather_than_late_then_warms_up(
    sandbox: SandboxServer, handler: InteractionHandler, mock_interaction: MockInteraction
) -> None:
    handler.autocomplete_timeout = 0.3
    sandbox.latency = 1.0
    param = cmd("tag").param("tag")
    assert param is not None
    assert await handler.autocomplete(mock_interaction(), cmd("tag"), param, "v") == []
    (pending,) = sandbox.requests
    assert pending.status == 0, "it answered while the tag list was still being fetched"
    await asyncio.gather(*list(handler._background))  # the shielded fetch fills the cache
    warm = await handler.autocomplete(mock_interaction(), cmd("tag"), param, "v")
    assert [c.value for c in warm] == ["vip"]
    assert sandbox.count(method="GET", resource="tags") == 1


async def test_a_button_runs_its_command_privately_for_whoever_clicks(
    handler: InteractionHandler, mock_interaction: MockInteraction
) -> None:
    listing = mock_interaction()
    await handler.run_command(listing, cmd("handoffs"), {"limit": 1, "public": True})
    session = first_embed(listing).fields[0].name
    button = RunButton(f"transcript {session}", "Transcript")
    click = mock_interaction(user_id=600000000000000055)
    await button.callback(click)
    assert click.calls[0][0] == "defer" and click.calls[0][2]["ephemeral"] is True
    assert first_embed(click).title == f"Transcript {session}"
    assert followup(click)["ephemeral"] is True


async def test_a_button_checks_the_clickers_permission_again(
    sandbox: SandboxServer, handler: InteractionHandler, mock_interaction: MockInteraction
) -> None:
    button = RunButton("webhooks test 1", "Test")
    member = mock_interaction(manage_guild=False)
    await button.callback(member)
    assert first_embed(member).title == "Not allowed"
    assert sandbox.count(resource="test_webhook") == 0


async def test_a_pick_button_offers_the_tags_in_a_menu(
    handler: InteractionHandler, mock_interaction: MockInteraction
) -> None:
    click = mock_interaction()
    await PickButton("tag", "tag s_abc", "Tag").callback(click)
    sent = followup(click)
    assert sent["ephemeral"] is True and "tag s_abc" in (first_embed(click).description or "")
    (menu,) = sent["view"].children
    assert menu.custom_id == "mlc:chosen:tag s_abc"
    assert "vip" in [o.value for o in menu.item.options]


async def test_render_kinds_reach_discord_as_colours(mock_interaction: MockInteraction) -> None:
    interaction = mock_interaction()
    await send_reply(interaction, Reply(title="Careful", kind=Kind.WARNING), deferred_public=False)
    assert first_embed(interaction).colour == discord.Colour(0xFEE75C)


@pytest.mark.parametrize("name", ["it's", 'say "hi"', "back\\slash", "both ' and \""])
async def test_a_picked_tag_with_quotes_or_backslashes_is_applied_exactly(
    sandbox: SandboxServer,
    api: MyLiveChatClient,
    handler: InteractionHandler,
    mock_interaction: MockInteraction,
    name: str,
) -> None:
    created = await api.create_tag(name)
    (handoff,) = await api.list_handoffs(limit=1)
    session = handoff.session_id
    menu = PickMenu(f"tag {session}", [discord.SelectOption(label=name, value=name)], "")
    click = mock_interaction()
    menu.item._values = [name]  # what discord.py sets from the interaction's data
    await menu.callback(click)
    assert "is now tagged" in (first_embed(click).description or "")
    (applied,) = [r.body for r in sandbox.requests if r.resource == "apply_tag"]
    assert applied == {"session_id": session, "tag_id": created.id}


async def test_an_interaction_from_a_server_the_bot_is_not_set_up_for_runs_nothing(
    sandbox: SandboxServer, core: Any, mock_interaction: MockInteraction
) -> None:
    from tests.discord import payloads

    handler = InteractionHandler(core, guild_ids=[payloads.GUILD_ID])
    foreign = mock_interaction(guild_id=payloads.GUILD_ID + 1, manage_guild=True)
    foreign.client.mlc_handlers = handler
    await handler.run_command(foreign, cmd("tags add"), {"name": "x"})
    await handler.run_action(foreign, "handoffs")
    await handler.run_picked(foreign, "tag s_1", "vip")
    await handler.offer_pick(foreign, "tags", "tag s_1")
    suggested = await handler.autocomplete(foreign, cmd("tag"), cmd("tag").params[0], "")

    assert sandbox.requests == [], "nothing reached MyLiveChat"
    assert suggested == []
    answers = [kwargs for name, _, kwargs in foreign.calls]
    assert names(foreign) == ["send_message"] * 4
    for answer in answers:
        assert answer["ephemeral"] is True
        assert "not set up for this server" in answer["embeds"][0].description

    home = mock_interaction(guild_id=payloads.GUILD_ID)
    await handler.run_command(home, cmd("handoffs"), {"limit": 3, "public": None})
    assert first_embed(home).title == "Recent handoffs"
