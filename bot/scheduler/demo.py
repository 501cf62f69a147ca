"""The scheduler inside ``mlc-bot demo``: digests shown in the console, kept in SQLite.

:func:`start_demo_digests` is a background starter for ``adapters.console.run_demo``
(``background=[start_demo_digests]``); :func:`start_demo_scheduler` is the same with
plain arguments.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.mylivechat import MyLiveChatClient
from bot.storage import DigestStore
from commands.context import Context
from commands.reply import Reply

from .clock import Clock, utc_now
from .delivery import DigestSender
from .digest_scheduler import DigestScheduler
from .posting import ChannelRef, ConsolePoster, Poster
from .service import DigestService

if TYPE_CHECKING:
    from adapters.console import DemoSession

__all__ = ["DemoDigests", "start_demo_digests", "start_demo_scheduler"]


class _ReplyPoster:
    """Hands each digest to the console's own reply printer (it keeps the prompt tidy)."""

    def __init__(self, post: Callable[[Reply], Awaitable[None]]) -> None:
        self._post = post

    async def post(self, channel: ChannelRef, reply: Reply, *, key: str | None = None) -> None:
        await self._post(reply)


@dataclass
class DemoDigests:
    """The running demo scheduler. ``service`` is what ``ctx.services["digests"]`` holds."""

    service: DigestService
    scheduler: DigestScheduler
    store: DigestStore
    tempdir: Path | None = None
    """The temporary database's folder, removed by :meth:`aclose`."""

    async def aclose(self) -> None:
        await self.scheduler.stop(grace=5.0)
        await self.store.aclose()
        if self.tempdir is not None:
            shutil.rmtree(self.tempdir, ignore_errors=True)


async def start_demo_scheduler(
    api: MyLiveChatClient,
    write: Callable[[str], object] = print,
    *,
    post: Callable[[Reply], Awaitable[None]] | None = None,
    context: Context | None = None,
    database_url: str | None = None,
    clock: Clock = utc_now,
    poll_interval: float = 2.0,
) -> DemoDigests:
    """Run digests in-process for ``console`` subscriptions.

    Digests go to ``post`` (an async reply printer) when given, else as text to ``write``.
    With ``context``, its ``services["digests"]`` is set so the digest commands work.
    Without ``database_url`` the subscriptions live in a temporary SQLite file.
    """
    tempdir = None
    if database_url is None:
        tempdir = Path(tempfile.mkdtemp(prefix="mlc-bot-demo-"))
        database_url = f"sqlite:///{tempdir / 'digests.db'}"
    store = DigestStore.from_url(database_url)
    await store.migrate()
    poster: Poster = _ReplyPoster(post) if post is not None else ConsolePoster(write)
    sender = DigestSender(store, api, {"console": poster}, clock=clock)
    scheduler = DigestScheduler(store, sender, clock=clock, poll_interval=poll_interval)
    service = DigestService(store=store, clock=clock)
    await scheduler.start()
    if context is not None:
        context.services["digests"] = service
    return DemoDigests(service=service, scheduler=scheduler, store=store, tempdir=tempdir)


async def start_demo_digests(session: DemoSession) -> Callable[[], Awaitable[None]]:
    """A ``BackgroundStarter`` for ``adapters.console.run_demo``; returns the stopper."""
    digests = await start_demo_scheduler(
        session.core.api, post=session.post, context=session.context
    )
    return digests.aclose
