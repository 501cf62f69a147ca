"""Digests and alerts into the console: the demo's "channel" is the terminal."""

from __future__ import annotations

from collections.abc import Callable

from commands.ports import ChannelRef
from commands.render import render_text
from commands.reply import Reply

__all__ = ["ConsolePoster"]


class ConsolePoster:
    """Prints digests (the demo's "channel" is the terminal)."""

    def __init__(self, write: Callable[[str], object] = print) -> None:
        self._write = write

    async def post(self, channel: ChannelRef, reply: Reply, *, key: str | None = None) -> None:
        where = f"@{channel.channel_id}" if channel.direct else f"#{channel.channel_id}"
        self._write(f"[digest → {where}]\n{render_text(reply)}")
