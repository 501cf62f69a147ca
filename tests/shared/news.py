"""Cores of "other processes" for the cache-news tests: each with its own API client and
its own :class:`RedisNews`, run as the adapters run them (command text in, a Reply out)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from bot.mylivechat import MyLiveChatClient
from bot.sandbox import SandboxServer
from bot.secrets import REGISTRY
from bot.shared.redis_news import RedisNews
from commands.context import Caller, Surface
from commands.core import Core
from commands.render import render_text
from commands.reply import Reply

__all__ = ["Heard", "Site", "site_process"]


@dataclass
class Heard:
    """What a core heard from the others, in order, and a way to wait for more."""

    news: list[str | None] = field(default_factory=list)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    def passing_to(self, heard: Callable[[str | None], None]) -> Callable[[str | None], None]:
        def hear(what: str | None) -> None:
            heard(what)
            self.news.append(what)
            asyncio.get_running_loop().create_task(self._notify())

        return hear

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, what: str | None, count: int = 1) -> None:
        """Until ``what`` was heard ``count`` times."""
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: self.news.count(what) >= count), 30
            )


@dataclass
class Site:
    """One process's core on site A (``news`` None: no Redis, the TTLs alone)."""

    core: Core
    news: RedisNews | None
    heard: Heard

    async def run(self, text: str) -> Reply:
        caller = Caller(user_id="U_ADMIN", name="ana", platform_admin=True)
        ctx = self.core.context(caller, Surface(platform="console", channel_id="C_TEST"))
        return await self.core.dispatcher.run_text(text, ctx)

    async def ok(self, text: str) -> str:
        reply = await self.run(text)
        assert reply.ok, render_text(reply)
        return render_text(reply)


@contextlib.asynccontextmanager
async def site_process(
    sandbox: SandboxServer, redis_url: str | None, *, listen: bool = True, **options: float
) -> AsyncIterator[Site]:
    """A core as a long-running process builds it: announcing, and (``listen``) hearing;
    ``options`` for its :class:`RedisNews`."""
    token = sandbox.tokens.site_a_write
    options.setdefault("reconnect_pause", 0.1)
    news = RedisNews.from_url(redis_url, token, **options) if redis_url else None
    core = Core(MyLiveChatClient(token, base_url=sandbox.url), secrets=REGISTRY, news=news)
    heard = Heard()
    try:
        if news is not None:
            core.close_with(news.aclose)
            if listen:
                news.listen(heard.passing_to(core.site.heard))
                await asyncio.wait_for(news.subscribed.wait(), 30)
        yield Site(core, news, heard)
    finally:
        await core.aclose()
