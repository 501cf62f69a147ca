"""``mlc-bot demo``: the console on an embedded sandbox, with digests posted into it.

Nothing to configure: the sandbox runs on a free port in this process, the digest
subscriptions live in a temporary SQLite file, and the console is the only channel.
Background jobs (the digest scheduler by default) start after the banner and stop when
the console closes; one that fails to start is reported and the console goes on.

The console shows replies and posts only: every log line (the sandbox's, the scheduler's)
goes to a file named in the banner, kept after the demo ends.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from adapters.console.repl import Console
from bot.mylivechat import MyLiveChatClient
from bot.sandbox import SandboxServer
from commands.context import Context
from commands.core import Core
from commands.digests.service import DigestService
from commands.ports import ChannelRef
from commands.reply import Reply

from ..compose import build_core
from ..config import Settings
from ..logs import log_to_file
from ..scheduler.clock import Clock, utc_now
from ..scheduler.delivery import DigestSender
from ..scheduler.digest_scheduler import DigestScheduler
from ..storage import DigestStore

__all__ = [
    "BackgroundStarter",
    "DemoSession",
    "Stopper",
    "demo_scheduler",
    "run_demo",
    "start_demo_digests",
]

Stopper = Callable[[], Awaitable[None]]
"""Stops something a :data:`BackgroundStarter` started."""


@dataclass(frozen=True, slots=True)
class DemoSession:
    """What a background job in the demo can use: the core on the sandbox, and the console."""

    core: Core
    context: Context
    sandbox: SandboxServer
    post: Callable[[Reply], Awaitable[None]]
    """Print a reply on the console (e.g. a digest) without disturbing the prompt."""


BackgroundStarter = Callable[[DemoSession], Awaitable[Stopper | None]]
"""Starts a background job for the demo; returns how to stop it."""


class _ConsoleChannel:
    """The digest poster of the demo: every channel is the console."""

    def __init__(self, post: Callable[[Reply], Awaitable[None]]) -> None:
        self._post = post

    async def post(self, channel: ChannelRef, reply: Reply, *, key: str | None = None) -> None:
        await self._post(reply)


async def demo_scheduler(
    core: Core,
    post: Callable[[Reply], Awaitable[None]],
    *,
    clock: Clock = utc_now,
    poll_interval: float = 2.0,
) -> DigestScheduler:
    """A started digest scheduler on the core's digest database, posting with ``post``."""
    store = core.digests.store if core.digests is not None else None
    if not isinstance(store, DigestStore):
        raise RuntimeError("the demo's digests have no database")
    sender = DigestSender(store, core.api, {"console": _ConsoleChannel(post)}, clock=clock)
    scheduler = DigestScheduler(store, sender, clock=clock, poll_interval=poll_interval)
    await scheduler.start()
    return scheduler


async def start_demo_digests(session: DemoSession) -> Stopper:
    """The digest scheduler on the demo's database, posting into the console."""
    scheduler = await demo_scheduler(session.core, session.post)

    async def stop() -> None:
        await scheduler.stop(grace=5.0)

    return stop


async def run_demo(
    settings: Settings,
    *,
    scheduler: bool = True,
    background: Sequence[BackgroundStarter] = (start_demo_digests,),
) -> int:
    """Start the sandbox on a free port and open a console on it. Returns an exit status."""
    log_path = _new_log_file()
    restore_logging = log_to_file(log_path)
    tempdir = Path(tempfile.mkdtemp(prefix="mlc-bot-demo-"))
    try:
        async with SandboxServer() as sandbox:
            store = DigestStore.from_url(f"sqlite:///{tempdir / 'digests.db'}")
            await store.migrate()
            api = MyLiveChatClient(sandbox.tokens.site_a_write, base_url=sandbox.url)
            core = build_core(settings, api=api, digests=DigestService(store))
            core.close_with(store.aclose)
            console = Console(core, interactive=sys.stdin.isatty())
            session = DemoSession(core, console.context, sandbox, console.post)
            print(_banner(sandbox, log_path), flush=True)
            stoppers = await _start(session, background) if scheduler else []
            try:
                await console.serve()
            finally:
                for stop in reversed(stoppers):
                    with contextlib.suppress(Exception):
                        await stop()
                await core.aclose()
    finally:
        restore_logging()
        shutil.rmtree(tempdir, ignore_errors=True)
    return 0


def _new_log_file() -> Path:
    """A new, private file for this demo's log, in the system's temporary folder."""
    fd, name = tempfile.mkstemp(prefix="mlc-bot-demo-", suffix=".log")
    os.close(fd)
    return Path(name)


def _banner(sandbox: SandboxServer, log_path: Path) -> str:
    site = sandbox.state.sites.get(sandbox.site_a_id)
    name = site.name if site is not None else "a demo site"
    return "\n".join(
        [
            "MyLiveChat bot demo",
            f"A local sandbox of the MyLiveChat API, seeded with data for {name}"
            f" (site {sandbox.site_a_id}).",
            "Nothing here touches a real account; changes vanish when you leave.",
            "Try: handoffs, usage, feedback --max-rating 2, tags, tag <session_id> vip, help",
            "Ctrl-C clears the line or stops a running command; type exit (or press Ctrl-D)"
            " to leave.",
            f"The demo's log goes to {log_path}",
            "",
        ]
    )


async def _start(session: DemoSession, starters: Sequence[BackgroundStarter]) -> list[Stopper]:
    stoppers: list[Stopper] = []
    for start in starters:
        try:
            stop = await start(session)
        except Exception as exc:
            name = getattr(start, "__name__", "a background job")
            print(f"! {name} did not start ({type(exc).__name__}); the console works without it.")
            continue
        if stop is not None:
            stoppers.append(stop)
    return stoppers
