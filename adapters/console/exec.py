"""``mlc-bot exec``: one command, its reply printed, an exit status for scripts.

The person at a terminal is an admin on the console. Nothing of Slack, Discord, aiohttp,
APScheduler or SQLAlchemy is imported here: ``exec`` must start fast.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Awaitable, Callable
from typing import TextIO

from commands.context import Caller, Context, Surface
from commands.core import Core
from commands.render import render_json, render_text
from commands.reply import Reply

__all__ = [
    "CONSOLE_CALLER",
    "DEMO_CHANNEL",
    "console_context",
    "run_once",
    "show",
    "terminal_width",
]

CONSOLE_CALLER = Caller(user_id="console", name="console", platform_admin=True)


DEMO_CHANNEL = "console"
"""The channel ``mlc-bot demo``'s console is: its digests are posted into it."""


def console_context(
    core: Core,
    *,
    notify: Callable[[Reply], Awaitable[None]] | None = None,
    channel: str | None = None,
    reply_deadline: float | None = None,
) -> Context:
    """A command context for the person at this terminal.

    ``notify`` shows interim replies (such as "queued") before the answer. ``channel``
    makes the console a channel that gets digests (the demo's :data:`DEMO_CHANNEL`);
    without it (``mlc-bot exec``) digest commands name their channel with ``--channel``.
    ``reply_deadline`` (monotonic): an answer that would come later is refused instead.
    """
    return core.context(
        CONSOLE_CALLER,
        Surface("console", channel_id=channel),
        notify=notify,
        reply_deadline=reply_deadline,
    )


def show(reply: Reply, *, as_json: bool = False, stream: TextIO | None = None) -> None:
    """Print ``reply``: JSON, or text (failures on stderr unless a stream is given).

    At a terminal, tables wrap to its width; into a pipe or a file, lines stay whole.
    """
    if stream is None:
        stream = sys.stdout if as_json or reply.ok else sys.stderr
    text = render_json(reply) if as_json else render_text(reply, width=terminal_width(stream))
    print(text, file=stream, flush=True)


def terminal_width(stream: TextIO) -> int | None:
    """The columns of the terminal ``stream`` writes to; None when it is not a terminal."""
    try:
        if not stream.isatty():
            return None
    except (AttributeError, ValueError):  # a closed or unusual stream
        return None
    return shutil.get_terminal_size().columns


NO_WAIT_HINT = "(`mlc-bot exec --no-wait` fails at once instead of waiting.)"


async def _to_stderr(reply: Reply) -> None:
    """An interim reply ("queued: about 40 s") on stderr, before the wait it announces."""
    print(f"{render_text(reply)}\n{NO_WAIT_HINT}", file=sys.stderr, flush=True)


async def run_once(core: Core, text: str, *, as_json: bool = False, wait: bool = True) -> int:
    """Run ``text`` and print the reply. Exit status: 0 done, 1 refused, 2 not understood.

    A command that has to wait for MyLiveChat's rate limit says on stderr how long, first;
    with ``wait=False`` it is refused at once instead ("try again in N s", exit status 1).
    """
    deadline = None if wait else time.monotonic()
    ctx = console_context(core, notify=_to_stderr, reply_deadline=deadline)
    reply = await core.dispatcher.run_text(text, ctx)
    show(reply, as_json=as_json)
    return reply.exit_status
