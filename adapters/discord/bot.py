"""The Discord client: the ``/mlc`` command tree, its components, and the command sync."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from typing import Any, Protocol

import discord
from discord import app_commands

from commands.catalog import Catalog
from commands.failures import internal_error_reply, stale_command_reply

from .embeds import render_embeds
from .tree import CommandHandlers, build_root
from .views import DYNAMIC_ITEMS, ActionHandlers

__all__ = [
    "Handlers",
    "MlcBot",
    "MlcCommandTree",
    "SyncState",
    "command_payloads",
    "payload_digest",
]

log = logging.getLogger("mlc_bot.discord")


class SyncState(Protocol):
    """Where the hash of the last synced command payload is kept, per scope."""

    async def synced(self, scope: str) -> str | None: ...

    async def remember(self, scope: str, digest: str) -> None: ...


def payload_digest(payload: list[dict[str, Any]]) -> str:
    """A stable hash of a command payload (key order does not matter)."""
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


class Handlers(CommandHandlers, ActionHandlers, Protocol):
    """Everything the bot hands interactions to (``InteractionHandler`` in production)."""


class MlcCommandTree(app_commands.CommandTree["MlcBot"]):
    """Answers interactions discord.py itself refuses, instead of leaving them unanswered."""

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError, /
    ) -> None:
        if isinstance(error, app_commands.CommandSignatureMismatch):
            reply = stale_command_reply()
        else:
            reply = internal_error_reply("answering a Discord interaction", error)
        embeds = render_embeds(reply)
        try:
            if interaction.response.is_done():
                await interaction.followup.send(embeds=embeds, ephemeral=True)
            else:
                await interaction.response.send_message(embeds=embeds, ephemeral=True)
        except Exception as exc:  # reporting is best effort: the interaction may be gone
            log.warning("could not report an interaction error: %r", exc)


class MlcBot(discord.Client):
    """A gateway client serving ``/mlc`` from ``catalog``.

    ``guild_ids`` set: commands are synced to those guilds at login (they show
    at once, for setup); otherwise one global sync.
    """

    def __init__(
        self,
        handlers: Handlers,
        catalog: Catalog,
        *,
        guild_ids: Sequence[int] = (),
        sync: bool = True,
        sync_state: SyncState | None = None,
        **options: Any,
    ) -> None:
        # The bot has no voice: skip discord.py's warnings about missing voice libraries.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        options.setdefault("intents", discord.Intents(guilds=True))
        options.setdefault("allowed_mentions", discord.AllowedMentions.none())
        super().__init__(**options)
        self.mlc_handlers = handlers
        self.guild_ids = tuple(guild_ids)
        self.sync_on_login = sync
        self.sync_state = sync_state
        self.tree = MlcCommandTree(self)
        self.tree.add_command(build_root(catalog, handlers))

    def command_payloads(self) -> list[dict[str, Any]]:
        """The body of Discord's bulk-overwrite call that a sync sends."""
        return [command.to_dict(self.tree) for command in self.tree.get_commands()]

    async def setup_hook(self) -> None:
        self.add_dynamic_items(*DYNAMIC_ITEMS)
        if self.sync_on_login:
            await self.sync_commands()

    async def sync_commands(self) -> None:
        """Send the commands to Discord where they changed since the last sync.

        Discord allows few command creations a day: a restart with the same commands sends
        nothing. The payload's hash per scope (global, or a guild) is kept in ``sync_state``.
        """
        if not self.guild_ids:
            await self._sync_if_changed("global", None)
            return
        for guild_id in self.guild_ids:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            await self._sync_if_changed(f"guild:{guild_id}", guild)

    async def _sync_if_changed(self, scope: str, guild: discord.Object | None) -> None:
        commands = self.tree.get_commands(guild=guild)
        digest = payload_digest([command.to_dict(self.tree) for command in commands])
        state = self.sync_state
        if state is not None and await state.synced(scope) == digest:
            log.info("commands unchanged since the last sync (%s): not sent again", scope)
            return
        synced = await self.tree.sync(guild=guild)
        if state is not None:
            await state.remember(scope, digest)
        where = "globally (they may take a while to show)" if guild is None else f"to {scope}"
        log.info("synced %d command(s) %s", len(synced), where)

    async def on_ready(self) -> None:
        log.info("connected to Discord as %s", self.user)


class _NotServing:
    """Handlers for a client that only describes its commands and never serves them."""

    async def run_command(self, *args: object) -> None:
        raise RuntimeError("this client only describes its commands")

    autocomplete = run_action = offer_pick = run_picked = run_command  # type: ignore[assignment]


def command_payloads(catalog: Catalog) -> list[dict[str, Any]]:
    """The application commands a sync of ``catalog`` sends; no connection is made."""
    client = MlcBot(_NotServing(), catalog, sync=False)  # type: ignore[arg-type]
    return client.command_payloads()
