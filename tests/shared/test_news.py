"""Caches that agree: a tag created, renamed or deleted through one process is seen by
``tag`` in every other once the news arrives (Redis pub/sub); without Redis the TTL still
applies; Redis going away fails no command and is said once each way.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.mylivechat import Tag
from bot.sandbox import SandboxServer
from commands.cache import TAGS, SiteCache
from commands.render import render_text
from tests.alerts.harness import wait_until
from tests.commands.conftest import site_a_sessions
from tests.redis_server import RedisServer

from .news import Site, site_process

LOST, BACK = "cache news unavailable", "cache news is back"
MLC_BOT = Path(sys.executable).with_name("mlc-bot")


def _lines(caplog: pytest.LogCaptureFixture, text: str) -> int:
    return sum(text in record.getMessage() for record in caplog.records)


async def _no_tag(site: Site, session: str, name: str) -> None:
    reply = await site.run(f"tag {session} {name}")
    assert not reply.ok
    assert f"There is no tag `{name}`" in render_text(reply)


async def test_a_renamed_tag_is_seen_by_the_other_process_once_the_news_arrives(
    sandbox: SandboxServer, redis_server: RedisServer
) -> None:
    session = site_a_sessions(sandbox)[0]
    async with (
        site_process(sandbox, redis_server.url) as here,
        site_process(sandbox, redis_server.url) as there,
    ):
        await there.ok(f"tag {session} vip")  # `there` caches the tag list
        reads = sandbox.count(resource="tags", method="GET")
        await here.ok("tags edit vip --name gold")
        await there.heard.wait_for(TAGS)
        await _no_tag(there, session, "vip")
        assert "gold" in await there.ok(f"tag {session} gold")
        assert sandbox.count(resource="tags", method="GET") > reads  # read again, not cached

        await here.ok("tags add escalated")
        await there.heard.wait_for(TAGS, 2)
        assert "escalated" in await there.ok(f"tag {session} escalated")
        await here.ok("tags delete escalated")
        await there.heard.wait_for(TAGS, 3)
        reply = await there.run(f"tag {session} escalated")
        assert "was deleted" in render_text(reply)


async def test_a_process_does_not_hear_its_own_news_again(
    sandbox: SandboxServer, redis_server: RedisServer
) -> None:
    async with (
        site_process(sandbox, redis_server.url) as here,
        site_process(sandbox, redis_server.url) as there,
    ):
        await here.ok("tags edit vip --name gold")
        await there.heard.wait_for(TAGS)
        there.core.site.drop_webhooks()  # as a webhook write there does
        # Redis delivers in order: `here` got its own news before this one.
        await here.heard.wait_for("webhooks")
        assert here.heard.news == [None, "webhooks"]  # None: once, when it subscribed
        assert there.heard.news == [None, TAGS]


async def test_without_redis_the_other_process_sees_the_rename_when_its_ttl_ends(
    sandbox: SandboxServer,
) -> None:
    session = site_a_sessions(sandbox)[0]
    now = [0.0]
    async with site_process(sandbox, None) as here, site_process(sandbox, None) as there:
        there.core.site = SiteCache(tags_ttl=300, clock=lambda: now[0])
        await there.ok(f"tag {session} vip")
        await here.ok("tags edit vip --name gold")
        now[0] = 299.0
        assert "vip" in await there.ok(f"tag {session} vip")  # its copy, as before
        now[0] = 301.0
        await _no_tag(there, session, "vip")
        assert "gold" in await there.ok(f"tag {session} gold")


async def test_a_tag_renamed_by_mlc_bot_exec_reaches_a_running_process(
    sandbox: SandboxServer, redis_server: RedisServer, tmp_path: Path
) -> None:
    session = site_a_sessions(sandbox)[0]
    async with site_process(sandbox, redis_server.url) as running:
        await running.ok(f"tag {session} vip")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MLC_", "REDIS_"))}
        env |= {
            "MLC_API_URL": sandbox.url,
            "MLC_API_TOKEN": sandbox.tokens.site_a_write,
            "REDIS_URL": redis_server.url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        }
        exec_ = await asyncio.create_subprocess_exec(
            str(MLC_BOT), "exec", "tags edit vip --name gold", env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await exec_.communicate()
        assert exec_.returncode == 0, (out + err).decode()
        assert err == b""  # nothing to say about Redis or the news
        await running.heard.wait_for(TAGS)
        await _no_tag(running, session, "vip")
        assert "gold" in await running.ok(f"tag {session} gold")


async def test_redis_killed_and_restarted_fails_no_command_and_is_said_once_each_way(
    sandbox: SandboxServer, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mlc_bot.shared")
    session = site_a_sessions(sandbox)[0]
    async with (
        site_process(sandbox, redis_server.url) as here,
        site_process(sandbox, redis_server.url) as there,
    ):
        assert there.news is not None and here.news is not None
        await there.ok(f"tag {session} vip")
        redis_server.kill()
        news = there.news
        await wait_until(lambda: not news.subscribed.is_set(), "the subscription to be lost")
        # While Redis is away, commands on both sides work; the news is lost.
        await here.ok("tags edit vip --name gold")
        await here.ok("tags edit billing --name invoices")
        assert "vip" in await there.ok(f"tag {session} vip")  # the TTL's copy
        await there.ok("tags")
        # `here` fails to publish, `there` to listen (and each to listen or publish again)
        await wait_until(lambda: _lines(caplog, LOST) >= 2, "both to say the news is away")

        redis_server.start()
        await there.heard.wait_for(None, 2)  # subscribed again: everything dropped once
        await _no_tag(there, session, "vip")  # the news missed meanwhile is made up
        assert "invoices" in await there.ok(f"tag {session} invoices")
        await here.ok("tags edit gold --name platinum")  # `here` publishes again
        await there.heard.wait_for(TAGS)
        await _no_tag(there, session, "gold")
    assert _lines(caplog, LOST) == 2  # one line per process
    assert _lines(caplog, BACK) == 2
    assert "Traceback" not in caplog.text


async def test_a_tag_list_read_while_the_news_arrives_is_not_kept() -> None:
    """The list was read before the other process's write landed: keeping it would
    hide the write for the whole TTL."""
    gate, asked = asyncio.Event(), asyncio.Event()
    reads: list[int] = []

    class SlowSite:
        async def list_tags(self) -> list[Tag]:
            reads.append(len(reads))
            asked.set()
            await gate.wait()
            return [Tag(id=1, name="vip")]

    cache = SiteCache()
    api: Any = SlowSite()
    reading = asyncio.create_task(cache.tags(api))
    await asked.wait()
    cache.heard(TAGS)  # the news overtakes the answer
    gate.set()
    assert [t.name for t in await reading] == ["vip"]  # the caller that asked gets it
    await cache.tags(api)
    assert len(reads) == 2  # but the next one reads again
    await cache.tags(api)
    assert len(reads) == 2  # and that answer is kept


async def test_a_redis_that_stops_answering_is_noticed_and_news_flows_when_it_answers_again(
    sandbox: SandboxServer, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A hung Redis (or a connection a network dropped silently) sends no error: the
    listener's pings find it out."""
    caplog.set_level(logging.INFO, logger="mlc_bot.shared")
    session = site_a_sessions(sandbox)[0]
    async with (
        site_process(sandbox, redis_server.url) as here,
        site_process(sandbox, redis_server.url, ping_every=0.2) as there,
    ):
        assert there.news is not None and redis_server._process is not None
        news, redis = there.news, redis_server._process
        await there.heard.wait_for(None)
        await asyncio.sleep(1.0)  # five pings answered: an idle subscription stays up
        assert news.subscribed.is_set() and _lines(caplog, LOST) == 0
        await there.ok(f"tag {session} vip")
        redis.send_signal(signal.SIGSTOP)
        try:
            await wait_until(lambda: not news.subscribed.is_set(), "the silence noticed")
            await here.ok("tags edit vip --name gold")  # its news may be lost in the pause
        finally:
            redis.send_signal(signal.SIGCONT)
        await there.heard.wait_for(None, 2)
        await _no_tag(there, session, "vip")
        assert "gold" in await there.ok(f"tag {session} gold")
    assert _lines(caplog, "Redis stopped answering") == 1
