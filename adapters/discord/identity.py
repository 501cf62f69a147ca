"""Who is calling and from where, as the core sees it, from a Discord interaction."""

from __future__ import annotations

import discord

from commands.context import Caller, Surface

__all__ = ["caller_of", "surface_of"]


def caller_of(interaction: discord.Interaction) -> Caller:
    """The interaction's user; Manage Server (or Administrator) in the guild makes an admin.

    ``interaction.permissions`` are the member's resolved permissions as Discord
    sent them with this interaction, so they are current, and empty outside a guild.
    """
    user = interaction.user
    permissions = interaction.permissions
    in_guild = interaction.guild_id is not None
    return Caller(
        user_id=str(user.id),
        name=user.display_name,
        platform_admin=in_guild and (permissions.manage_guild or permissions.administrator),
    )


def surface_of(interaction: discord.Interaction) -> Surface:
    return Surface(
        platform="discord",
        channel_id=str(interaction.channel_id) if interaction.channel_id else None,
        workspace_id=str(interaction.guild_id) if interaction.guild_id else None,
        buttons=True,
    )
