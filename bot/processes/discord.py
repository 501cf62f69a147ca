"""``mlc-bot discord`` (Procfile ``worker:``): the Discord bot on the gateway.

``--print-commands`` prints the application commands a sync would send, without connecting.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys

import aiohttp
import discord

from adapters.discord.bot import MlcBot, command_payloads
from adapters.discord.interactions import InteractionHandler
from adapters.discord.poster import DiscordPoster
from commands.catalog import default_catalog
from commands.core import Core
from commands.ports import Poster

from ..compose import build_core
from ..config import ConfigError, Settings
from .signals import stop_requested

__all__ = ["DiscordPart", "print_commands", "run"]

log = logging.getLogger("mlc_bot.discord")


class DiscordPart:
    """The Discord bot as part of a process: started, run in the background, stopped."""

    def __init__(
        self, core: Core, settings: Settings, *, posters: dict[str, Poster] | None = None
    ) -> None:
        """``posters`` (the mapping the core's alerts post through) gets this bot's own
        Discord poster once logged in, so a Claim clicked here updates the alert's message."""
        if settings.discord_token is None:
            raise ConfigError(
                "DISCORD_TOKEN is not set. Copy the bot token from the Discord developer "
                "portal (your application > Bot > Reset Token)."
            )
        self._token = settings.discord_token.reveal()
        self.client = MlcBot(
            InteractionHandler(core), core.catalog, guild_ids=settings.discord_guild_ids
        )
        self._posters = posters
        self._running: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Log in (a refused token or no network is a ConfigError), then connect in the
        background."""
        try:
            await self.client.login(self._token)
        except discord.LoginFailure:
            await self.client.close()
            raise ConfigError(
                "Discord did not accept DISCORD_TOKEN. Reset the token in the developer "
                "portal and set the new one."
            ) from None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            await self.client.close()
            raise ConfigError(
                f"Could not reach Discord ({type(exc).__name__}); check the network."
            ) from None
        if self._posters is not None:
            self._posters.setdefault("discord", DiscordPoster(self.client.http))
        self._running = asyncio.create_task(self._connect(), name="discord gateway")

    async def _connect(self) -> None:
        try:
            await self.client.connect()
        except (aiohttp.ClientError, OSError, TimeoutError, discord.DiscordException) as exc:
            log.error("the Discord connection ended: %s", type(exc).__name__)
            raise

    async def wait(self) -> None:
        """Until the connection ends for good (it reconnects by itself meanwhile)."""
        if self._running is not None:
            await asyncio.shield(self._running)

    async def stop(self) -> None:
        await self.client.close()
        if self._running is not None:
            self._running.cancel()
            await asyncio.gather(self._running, return_exceptions=True)


async def run(settings: Settings) -> int:
    """Serve ``/mlc`` until SIGINT or SIGTERM. Returns an exit status."""
    posters: dict[str, Poster] = {}
    core = build_core(settings, posters=posters)
    try:
        part = DiscordPart(core, settings, posters=posters)
        await part.start()
        try:
            with stop_requested() as stopping:
                ended = asyncio.ensure_future(part.wait())
                stop = asyncio.ensure_future(stopping.wait())
                await asyncio.wait({ended, stop}, return_when=asyncio.FIRST_COMPLETED)
                stop.cancel()
                if ended.done() and ended.exception() is not None:
                    return 1
        finally:
            await part.stop()
    finally:
        await core.aclose()
    return 0


def print_commands() -> int:
    """Print the JSON array of application commands a sync would send; no connection made."""
    json.dump(command_payloads(default_catalog()), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0
