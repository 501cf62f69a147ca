"""Digests from `mlc-bot exec`: the terminal is no channel, so `--channel` names one.

Real processes against a real sandbox and a real SQLite file; Slack is the local fake of
its Web API (SLACK_API_URL), Discord's check runs against the fake Discord in-process.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.processes.exec import ExecChannels
from bot.sandbox import SandboxServer
from bot.secrets import Secret
from bot.storage import DigestStore
from commands.ports import ChannelRef
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.slack_api import FakeSlack

from .test_console import _env

BOT_TOKEN = "xoxb-1111-2222-fakebottoken"


async def _exec(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "exec",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "bot.db"


@pytest.fixture
def env(sandbox: SandboxServer, tmp_path: Path, database: Path) -> dict[str, str]:
    return _env(
        tmp_path,
        MLC_API_URL=sandbox.url,
        MLC_API_TOKEN=sandbox.tokens.site_a_write,
        DATABASE_URL=f"sqlite:///{database}",
    )


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(bot_token=BOT_TOKEN, team_id="T0TEAM") as fake:
        yield fake


def _channel_info(args: dict[str, Any]) -> dict[str, Any]:
    channel = str(args.get("channel"))
    if channel != "C0SUPPORT":
        return {"ok": False, "error": "channel_not_found"}
    return {"ok": True, "channel": {"id": channel, "name": "support", "is_channel": True}}


async def _stored(database: Path) -> list[Any]:
    store = DigestStore.from_url(f"sqlite:///{database}")
    try:
        await store.migrate()
        return await store.list_all()
    finally:
        await store.aclose()


async def test_a_digest_without_a_channel_is_refused_and_says_how_to_name_one(
    env: dict[str, str], database: Path
) -> None:
    status, out, err = await _exec("digest add usage", env=env)

    assert status == 2 and out == ""
    assert "`mlc-bot exec` runs in no channel" in err
    assert "--channel slack:C0123ABCD" in err and "--channel discord:<channel id>" in err
    assert await _stored(database) == []
    for text in ("digest list", "digest pause 1", "digest resume 1", "digest remove 1"):
        status, _, err = await _exec(text, env=env)
        assert status == 2 and "--channel slack:" in err, text


async def test_without_the_platform_token_the_channel_is_taken_unchecked_and_says_so(
    env: dict[str, str], database: Path
) -> None:
    status, out, err = await _exec("digest add usage --channel slack:c0support", env=env)

    assert status == 0, err
    assert "Slack channel C0SUPPORT gets the usage digest" in out
    assert "Not checked with Slack (SLACK_BOT_TOKEN is not set)" in out
    assert "`digest list --channel slack:C0SUPPORT` does" in out
    [sub] = await _stored(database)
    assert (sub.platform, sub.channel_id, sub.workspace_id) == ("slack", "C0SUPPORT", None)

    status, out, _ = await _exec("digest list --channel slack:C0SUPPORT", env=env)
    assert status == 0 and f"#{sub.id}" in out and "C0SUPPORT" in out


async def test_with_the_slack_token_the_channel_is_checked_and_its_workspace_kept(
    env: dict[str, str], database: Path, slack: FakeSlack
) -> None:
    slack.reply_with("conversations.info", _channel_info)
    env = {**env, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": slack.url}

    status, out, err = await _exec("digest add feedback --channel slack:C0SUPPORT", env=env)

    assert status == 0, err
    assert "Checked with Slack: the bot can post in channel C0SUPPORT (#support)." in out
    [sub] = await _stored(database)
    assert (sub.platform, sub.channel_id, sub.workspace_id) == ("slack", "C0SUPPORT", "T0TEAM")
    assert [c.method for c in slack.calls] == ["auth.test", "conversations.info"]

    paused = await _exec(f"digest pause {sub.id} --channel slack:C0SUPPORT", env=env)
    again = await _exec(f"digest pause {sub.id} --channel slack:C0SUPPORT", env=env)
    assert paused[0] == 0 and f"Digest #{sub.id} paused" in paused[1]
    assert again[0] == 0 and "Already paused" in again[1] and "Nothing changed." in again[1]


async def test_a_channel_slack_does_not_show_the_bot_is_refused(
    env: dict[str, str], database: Path, slack: FakeSlack
) -> None:
    slack.reply_with("conversations.info", _channel_info)
    env = {**env, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": slack.url}

    status, out, err = await _exec("digest add usage --channel slack:C0NOWHERE", env=env)

    assert status == 1 and out == ""
    assert "Slack says the bot cannot post in channel C0NOWHERE (channel_not_found)" in err
    assert "Nothing was changed." in err
    assert await _stored(database) == []


@pytest.mark.parametrize(
    ("channel", "expected"),
    [
        ("teams:C1", "names a Slack or Discord channel"),
        ("slack:123", "A Slack channel id is C or G"),
        ("discord:C0SUPPORT", "A Discord channel id is digits"),
        ("C0SUPPORT", "must be slack:<channel id> or discord:<channel id>"),
    ],
)
async def test_a_malformed_channel_says_what_to_type(
    env: dict[str, str], database: Path, channel: str, expected: str
) -> None:
    status, _, err = await _exec(f"digest add usage --channel {channel}", env=env)

    assert status == 2 and expected in err
    assert await _stored(database) == []


async def test_discord_channels_are_checked_with_the_bot_token_over_rest() -> None:
    async with FakeDiscord() as fake:
        with fake.installed():
            fake.token = "discord-bot-token"
            fake.gone_channels.add("222")
            checker = ExecChannels(Settings(discord_token=Secret("discord-bot-token")))
            try:
                found = await checker.check(ChannelRef("discord", "111"))
                gone = await checker.check(ChannelRef("discord", "222"))
            finally:
                await checker.aclose()
            unset = await ExecChannels(Settings()).check(ChannelRef("discord", "111"))

    assert found.found is True and found.name == "#support"
    assert found.channel == ChannelRef("discord", "111", fake.guild_id)
    assert gone.found is False and gone.detail == "Unknown Channel"
    assert (unset.found, unset.detail) == (None, "DISCORD_TOKEN is not set")
    assert [r.path for r in fake.requests if r.path.startswith("/channels")] == [
        "/channels/111",
        "/channels/222",
    ]
