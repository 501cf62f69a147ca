"""``mlc-bot discord``: connect to the gateway; ``--print-commands``: show what a sync sends."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Mapping
from typing import Any

import discord

from bot.config import ConfigError, Settings
from bot.wiring import Core
from commands.catalog import default_catalog

from .bot import MlcBot
from .interactions import InteractionHandler

__all__ = ["print_commands", "run"]

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


async def run(settings: Settings, *, services: Mapping[str, Any] | None = None) -> int:
    """Serve ``/mlc`` until the process is stopped (SIGINT or SIGTERM)."""
    if settings.discord_token is None:
        raise ConfigError(
            "DISCORD_TOKEN is not set. Copy the bot token from the Discord developer portal "
            "(your application > Bot > Reset Token)."
        )
    core = Core(settings)
    handlers = InteractionHandler(core, services=services)
    client = MlcBot(handlers, core.dispatcher.catalog, guild_ids=settings.discord_guild_ids)
    loop = asyncio.get_running_loop()
    closing: set[asyncio.Task[None]] = set()

    def stop() -> None:
        closing.add(loop.create_task(client.close()))

    for signum in _STOP_SIGNALS:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop)
    try:
        async with client:
            await client.start(settings.discord_token.reveal())
    except discord.LoginFailure:
        raise ConfigError(
            "Discord did not accept DISCORD_TOKEN. Reset the token in the developer portal "
            "and set the new one."
        ) from None
    finally:
        for signum in _STOP_SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signum)
        await core.aclose()
    return 0


class _NotServing:
    """Handlers for a client that only prints its commands and never serves them."""

    async def run_command(self, *args: object) -> None:
        raise RuntimeError("this client only prints commands")

    autocomplete = run_action = offer_pick = run_picked = run_command  # type: ignore[assignment]


def print_commands() -> int:
    """Print the JSON array of application commands a sync would send; no connection made."""
    client = MlcBot(_NotServing(), default_catalog(), sync=False)  # type: ignore[arg-type]
    json.dump(client.command_payloads(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0
