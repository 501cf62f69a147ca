"""``mlc-bot discord`` (Procfile ``worker:``): the Discord bot on the gateway.

``--print-commands`` prints the application commands a sync would send, without connecting.
With METRICS_PORT set it serves ``/metrics`` (and ``/healthz``) on it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys

import aiohttp
import discord

from adapters.connecting import ConnectionAttempts
from adapters.discord.bot import MlcBot, command_payloads
from adapters.discord.interactions import InteractionHandler
from adapters.discord.poster import DiscordPoster
from commands.catalog import default_catalog
from commands.core import Core
from commands.ports import Poster

from ..compose import build_core
from ..config import REQUIREMENTS, ConfigError, Problem, Settings
from ..metrics import Metrics
from ..storage.lazy import LazyDatabase
from ..web import metrics_server
from .signals import stop_requested

__all__ = ["DiscordPart", "print_commands", "run"]

log = logging.getLogger("mlc_bot.discord")


class DiscordSyncState:
    """The hash of the last command sync, per scope, in the bot's database (``SyncState``)."""

    def __init__(self, database: LazyDatabase) -> None:
        self._database = database

    async def synced(self, scope: str) -> str | None:
        from ..storage.state import StateRecords

        async with self._database.opened() as store:
            return await StateRecords(store.engine).get(f"discord-sync:{scope}")

    async def remember(self, scope: str, digest: str) -> None:
        from ..storage.state import StateRecords

        async with self._database.opened() as store:
            await StateRecords(store.engine).put(f"discord-sync:{scope}", digest)


class DiscordPart:
    """The Discord bot as part of a process: started, run in the background, stopped."""

    def __init__(
        self,
        core: Core,
        settings: Settings,
        *,
        database: LazyDatabase | None = None,
        posters: dict[str, Poster] | None = None,
    ) -> None:
        """``database`` keeps the last command sync's hash (no repeated sync on restart);
        ``posters`` (the mapping the core's alerts post through) gets this bot's own Discord
        poster once logged in, so a Claim clicked here updates the alert's message."""
        settings.require("DISCORD_TOKEN")
        assert settings.discord_token is not None
        self._token = settings.discord_token.reveal()
        self._guild_ids = settings.discord_guild_ids
        self.client = MlcBot(
            InteractionHandler(core, guild_ids=settings.discord_guild_ids),
            core.catalog,
            guild_ids=settings.discord_guild_ids,
            sync_state=DiscordSyncState(database) if database is not None else None,
        )
        self._posters = posters
        self._running: asyncio.Task[None] | None = None
        self._started = False
        # discord.py logs each failed gateway connection with its traceback, then retries.
        self._attempts = ConnectionAttempts(
            logging.getLogger("discord.client"),
            "Attempting a reconnect",
            "the Discord gateway connection failed (%s); discord.py reconnects by itself",
        )

    async def start(self) -> None:
        """Log in, sync the commands and connect to the gateway; anything that stops it (a
        refused token, Discord out of reach) is a :class:`ConfigError` saying so."""
        self._attempts.attach()
        try:
            await self.client.login(self._token)
        except discord.LoginFailure:
            await self.stop()
            raise ConfigError(
                Problem(
                    "Discord did not accept DISCORD_TOKEN. Reset the token in the developer "
                    "portal and set the new one.",
                    "DISCORD_TOKEN",
                )
            ) from None
        except discord.HTTPException as exc:  # the command sync, or Discord failing
            await self.stop()
            raise ConfigError(self._refused(exc)) from None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            await self.stop()
            raise ConfigError(
                f"Could not reach Discord ({type(exc).__name__}); check the network."
            ) from None
        if self._posters is not None:
            self._posters.setdefault("discord", DiscordPoster(self.client.http))
        self._running = asyncio.create_task(self._connect(), name="discord gateway")
        failure = await self._attempts.first(self._ready())
        if failure is not None:
            await self.stop()
            raise ConfigError(_gateway_failure(failure))
        self._started = True
        if not self._guild_ids:
            log.warning(
                "DISCORD_GUILD_IDS is empty: every Discord server the bot is in is served;"
                " set it to your server's id (or turn off Public Bot) so no other can use it"
            )

    async def _ready(self) -> None:
        """Until Discord says READY; raises why the connection ended if it ends first."""
        assert self._running is not None
        connected = asyncio.ensure_future(self.client.wait_for("connect"))
        try:
            await asyncio.wait({connected, self._running}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            connected.cancel()
        if connected.done() and not connected.cancelled():
            return
        ended = None if self._running.cancelled() else self._running.exception()
        raise ended or ConnectionError("the gateway connection ended")

    def _refused(self, exc: discord.HTTPException) -> Problem:
        answer = f"{exc.status} {exc.text or 'refused'}"
        if exc.status in (403, 404) and self._guild_ids:
            return Problem(
                f"Discord refused to sync /mlc to the servers in DISCORD_GUILD_IDS ({answer}):"
                " invite the bot to each with the bot and applications.commands scopes, or"
                " correct DISCORD_GUILD_IDS.",
                "DISCORD_GUILD_IDS",
            )
        if exc.status >= 500:
            return Problem(f"Discord is failing ({answer}); try again later.")
        return Problem(f"Discord refused the bot's start ({answer}).", "DISCORD_TOKEN")

    async def _connect(self) -> None:
        try:
            await self.client.connect()
        except (aiohttp.ClientError, OSError, TimeoutError, discord.DiscordException) as exc:
            if self._started:
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
        self._attempts.detach()


def _gateway_failure(exc: BaseException) -> Problem:
    if isinstance(exc, discord.ConnectionClosed) and exc.code == 4004:
        return Problem(
            "Discord's gateway did not accept DISCORD_TOKEN. Reset the token in the developer "
            "portal and set the new one.",
            "DISCORD_TOKEN",
        )
    if isinstance(exc, discord.ConnectionClosed):
        return Problem(f"Discord closed the gateway connection (code {exc.code}).")
    return Problem(
        f"Could not connect to Discord's gateway ({type(exc).__name__}); check the network."
    )


async def run(settings: Settings) -> int:
    """Serve ``/mlc`` until SIGINT or SIGTERM. Returns an exit status; what stops the start
    is a :class:`ConfigError`."""
    settings.require(*REQUIREMENTS["discord"])
    posters: dict[str, Poster] = {}
    database = LazyDatabase(settings.database_url)
    core = build_core(settings, posters=posters, database=database, listen=True)
    metrics = Metrics()
    metrics.instrument(core)
    try:
        part = DiscordPart(core, settings, database=database, posters=posters)
        # Installed before the start: a SIGTERM while connecting stops as cleanly.
        with stop_requested() as stopping:
            try:
                metrics_web = await metrics_server(metrics, settings.metrics_port)
                if metrics_web is not None:
                    core.close_with(metrics_web.stop)
                await part.start()
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
