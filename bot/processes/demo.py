"""``mlc-bot demo``: the console on an embedded sandbox, with digests posted into it.

Nothing to configure: the sandbox runs on a free port in this process, the digest
subscriptions live in a temporary SQLite file, and the console is the only channel.
Background jobs (the digest scheduler by default) start after the banner and stop when
the console closes; one that fails to start is reported and the console goes on.

The console shows replies and posts only: every log line (the sandbox's, the scheduler's)
goes to a file named in the banner, kept after the demo ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from adapters.console.repl import Console
from adapters.webhooks.receiver import add_routes
from bot.mylivechat import MyLiveChatClient
from bot.sandbox import SandboxServer
from commands.alerts.model import NewRule
from commands.context import Context
from commands.core import Core
from commands.ports import ChannelRef, Poster
from commands.reply import Reply

from ..alerts.secrets import new_key
from ..alerts.worker import AlertWorker
from ..compose import build_core, build_inbox
from ..config import Settings
from ..logs import log_to_file
from ..scheduler.clock import Clock, utc_now
from ..scheduler.delivery import DigestSender
from ..scheduler.digest_scheduler import DigestScheduler
from ..secrets import Secret
from ..storage import DigestStore, LazySubscriptionStore
from ..storage.lazy import LazyDatabase
from ..web import WebServer

__all__ = [
    "BackgroundStarter",
    "DemoSession",
    "Stopper",
    "demo_scheduler",
    "run_demo",
    "start_demo_digests",
]

EVENTS_EVERY = 20.0
"""Seconds between the sandbox's made-up events in the demo."""
FIRST_EVENT_AFTER = 4.0
"""Seconds after start until the demo's first handoff arrives."""
SLA_SECONDS = 120
"""The demo's handoff alerts remind after this long unclaimed."""

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
    """The demo's poster: every channel is the console; alerts are numbered messages."""

    def __init__(self, post: Callable[[Reply], Awaitable[None]]) -> None:
        self._post = post
        self._posted = 0

    async def post(
        self, channel: ChannelRef, reply: Reply, *, key: str | None = None
    ) -> str | None:
        self._posted += 1
        await self._post(reply)
        return str(self._posted)

    async def update(self, channel: ChannelRef, message_id: str, reply: Reply) -> None:
        await self._post(dataclasses.replace(reply, title=f"{reply.title} (updated)"))

    async def reply_to(
        self, channel: ChannelRef, message_id: str, reply: Reply, *, key: str | None = None
    ) -> str | None:
        return await self.post(channel, reply, key=key)


async def demo_scheduler(
    core: Core,
    post: Callable[[Reply], Awaitable[None]],
    *,
    clock: Clock = utc_now,
    poll_interval: float = 2.0,
) -> DigestScheduler:
    """A started digest scheduler on the core's digest database, posting with ``post``."""
    found = core.digests.store if core.digests is not None else None
    if isinstance(found, LazySubscriptionStore):
        found = await found.database.store()
    if not isinstance(found, DigestStore):
        raise RuntimeError("the demo's digests have no database")
    store = found
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
    events_every: float | None = EVENTS_EVERY,
) -> int:
    """Start the sandbox on a free port and open a console on it. Returns an exit status.

    With ``scheduler``, the background jobs run (digests by default) and live alerts arrive:
    the sandbox makes up a handoff or a rating every ``events_every`` seconds and sends it
    to the demo's own receiver, and the console (the demo's one channel) shows the alert.
    """
    log_path = _new_log_file()
    restore_logging = log_to_file(log_path)
    tempdir = Path(tempfile.mkdtemp(prefix="mlc-bot-demo-"))
    try:
        async with SandboxServer(events_every=events_every if scheduler else None) as sandbox:
            return await _demo(settings, sandbox, tempdir, log_path, scheduler, background)
    finally:
        restore_logging()
        shutil.rmtree(tempdir, ignore_errors=True)


async def _demo(
    settings: Settings,
    sandbox: SandboxServer,
    tempdir: Path,
    log_path: Path,
    scheduler: bool,
    background: Sequence[BackgroundStarter],
) -> int:
    receiver = WebServer(_free_port(), host="127.0.0.1")
    settings = dataclasses.replace(
        settings,
        database_url=f"sqlite:///{tempdir / 'bot.db'}",
        public_url=f"http://127.0.0.1:{receiver.port}",
        secret_key=Secret(new_key()),
    )
    database = LazyDatabase(settings.database_url)
    posters: dict[str, Poster] = {}
    api = MyLiveChatClient(sandbox.tokens.site_a_write, base_url=sandbox.url)
    core = build_core(settings, api=api, database=database, posters=posters)
    console = Console(core, interactive=sys.stdin.isatty())
    posters["console"] = _ConsoleChannel(console.post)
    worker = AlertWorker(database, posters)
    inbox = build_inbox(settings, database, wake=worker.wake)
    if inbox is not None:
        add_routes(receiver.app, inbox)
    await receiver.start()
    session = DemoSession(core, console.context, sandbox, console.post)
    print(_banner(sandbox, log_path), flush=True)
    stoppers: list[Stopper] = []
    try:
        if scheduler:
            # Alerts are set up meanwhile: the console takes commands at once.
            alerts = asyncio.create_task(_live_alerts(core, api, sandbox))
            stoppers = [lambda: _cancelled(alerts), *await _start(session, background)]
            await worker.start()
        await console.serve()
    finally:
        for stop in reversed(stoppers):
            with contextlib.suppress(Exception):
                await stop()
        await worker.stop()
        await receiver.stop()
        await core.aclose()
    return 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _watch_the_console(core: Core, api: MyLiveChatClient) -> bool:
    """Alert the console to every handoff and to ratings of 2 stars or fewer."""
    if core.alerts is None:
        return False
    rules = (
        NewRule("console", None, "console", "handoff", "console", sla_seconds=SLA_SECONDS),
        NewRule("console", None, "console", "feedback", "console", max_rating=2),
    )
    try:
        for rule in rules:
            await core.alerts.add(api, rule)
    except Exception as exc:  # the console still works without alerts
        print(f"! live alerts did not start ({type(exc).__name__}); the console works without.")
        return False
    return True


async def _live_alerts(core: Core, api: MyLiveChatClient, sandbox: SandboxServer) -> None:
    """The console's alert rules, then a handoff a few seconds in, so a newcomer sees an
    alert in the first minute (the sandbox's pace brings the rest)."""
    if await _watch_the_console(core, api):
        await asyncio.sleep(FIRST_EVENT_AFTER)
        await sandbox.emit_new(sandbox.site_a_id, "handoff")


async def _cancelled(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


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
            f"Live alerts: a new handoff or rating arrives about every {EVENTS_EVERY:.0f} s;"
            " `alerts claim <id>` claims a handoff, `alerts` lists the rules.",
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
