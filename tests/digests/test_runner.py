"""``mlc-bot scheduler`` as a process, and the scheduler inside ``mlc-bot demo``."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.console.exec import DEMO_CHANNEL, console_context
from bot.compose import build_core
from bot.config import ConfigError, Settings
from bot.mylivechat import MyLiveChatClient
from bot.processes.demo import DemoSession, demo_scheduler, start_demo_digests
from bot.processes.scheduler import run
from bot.sandbox import SandboxServer
from bot.storage import DigestStore
from commands.digests.schedule import Schedule
from commands.digests.service import DigestService
from commands.digests.store import NewSubscription
from commands.place import Place
from commands.reply import Reply
from tests.fakes.slack_api import FakeSlack

from .conftest import FakeClock, local


async def test_the_scheduler_process_catches_up_posts_to_slack_and_stops_on_sigterm(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'bot.db'}"
    now = datetime.now(UTC)
    due = now - timedelta(minutes=2)
    store = DigestStore.from_url(database_url)
    await store.migrate()
    new = NewSubscription(
        "slack", "T0TEAM", "C_DIGESTS", "usage", due.strftime("%H:%M"), "UTC", "daily", "U_ADMIN"
    )
    await store.add(new, now - timedelta(hours=1))
    await store.aclose()
    async with FakeSlack() as slack:
        env = {
            **os.environ,
            "MLC_API_URL": sandbox.url,
            "MLC_API_TOKEN": sandbox.tokens.site_a_write,
            "DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_API_URL": slack.url,
            "LOG_LEVEL": "INFO",
        }
        env.pop("DISCORD_TOKEN", None)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "scheduler",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            [message] = await slack.wait_for_messages(1, within=20)
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), 20)
        log = stderr.decode()
        assert process.returncode == 0, log
    assert message.channel == "C_DIGESTS" and message.text.startswith("Usage digest")
    assert "missed its run" in log and "stopping the digest scheduler" in log
    assert sandbox.tokens.site_a_write not in log and slack.bot_token not in log


async def test_the_scheduler_refuses_to_start_with_nowhere_to_post(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    settings = Settings.from_env(
        {
            "MLC_API_URL": sandbox.url,
            "MLC_API_TOKEN": sandbox.tokens.site_a_write,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        }
    )
    with pytest.raises(ConfigError, match="neither SLACK_BOT_TOKEN nor DISCORD_TOKEN is set"):
        await run(settings)


async def test_the_scheduler_reports_an_unreachable_database_without_its_password(
    sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings.from_env(
        {
            "MLC_API_URL": sandbox.url,
            "MLC_API_TOKEN": sandbox.tokens.site_a_write,
            "DATABASE_URL": "postgresql://bot:pa55-word-x@127.0.0.1:1/bot",
            "SLACK_BOT_TOKEN": "xoxb-1-2-unused",
        }
    )
    with pytest.raises(ConfigError) as raised:
        await run(settings)
    assert "cannot open the database postgresql://bot:***@127.0.0.1:1/bot" in str(raised.value)
    assert "pa55-word-x" not in str(raised.value) + caplog.text


async def test_the_demo_scheduler_posts_digests_of_console_subscriptions(
    site: SandboxServer, site_api: MyLiveChatClient, clock: FakeClock, tmp_path: Path
) -> None:
    store = DigestStore.from_url(f"sqlite:///{tmp_path / 'demo.db'}")
    await store.migrate()
    digests = DigestService(store, clock=clock)
    core = build_core(Settings(api_url=site.url), api=site_api, digests=digests)
    posted: list[Reply] = []

    async def post(reply: Reply) -> None:
        posted.append(reply)

    clock.set(local("2026-04-22 08:00", "UTC"))
    scheduler = await demo_scheduler(core, post, clock=clock)
    try:
        place = Place("console", None, "console")
        schedule = Schedule("09:00", "UTC", "daily")
        assert core.digests is not None
        sub, created = await core.digests.add(
            place, kind="feedback", schedule=schedule, created_by="console"
        )
        assert created
        assert await scheduler.refresh()
        assert scheduler.job_ids() == [f"digest-{sub.id}"]
        clock.set(local("2026-04-22 09:00:01", "UTC"))
        await scheduler.fire(sub.id)
        [digest] = posted
        assert digest.title.startswith("Feedback digest")
    finally:
        await scheduler.stop()
        await store.aclose()


async def test_the_console_demo_gets_working_digest_commands(
    site: SandboxServer, site_api: MyLiveChatClient, tmp_path: Path
) -> None:
    store = DigestStore.from_url(f"sqlite:///{tmp_path / 'demo.db'}")
    await store.migrate()
    core = build_core(Settings(api_url=site.url), api=site_api, digests=DigestService(store))
    shown: list[Reply] = []

    async def post(reply: Reply) -> None:
        shown.append(reply)

    session = DemoSession(core, console_context(core, channel=DEMO_CHANNEL), site, post)
    stop = await start_demo_digests(session)
    try:
        added = await core.dispatcher.run_text("digest add feedback --days daily", session.context)
        assert added.ok, added.text
        listing = await core.dispatcher.run_text("digest list", session.context)
        assert listing.table is not None and listing.table.rows[0].cells[2] == "console (here)"
        preview = await core.dispatcher.run_text("digest now usage", session.context)
        assert preview.ok and preview.title.startswith("Usage digest")
    finally:
        await stop()
        await store.aclose()
