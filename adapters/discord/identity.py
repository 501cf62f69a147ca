"""Who is calling and from where, as the core sees it, from a Discord interaction."""

from __future__ import annotations

import discord

from commands.context import Caller, Surface

__all__ = ["caller_of", "surface_of"]


def caller_of(interaction: discord.Interaction) -> Caller:
    """The interaction's user; Manage Server (or Administrator) in the guild makes an admin.

    The member's resolved permissions come with each interaction, so they are current.
    When they are missing (no member object, or one without ``permissions``, or no guild at
    all) the role cannot be confirmed: the caller is unknown and may only read.
    """
    user = interaction.user
    # A discord.User (no guild) has no resolved permissions; a Member may lack them.
    permissions: discord.Permissions | None = (
        getattr(user, "resolved_permissions", None) if interaction.guild_id is not None else None
    )
    return Caller(
        user_id=str(user.id),
        name=user.display_name,
        platform_admin=permissions is not None
        and (permissions.manage_guild or permissions.administrator),
        known=permissions is not None,
    )


def surface_of(interaction: discord.Interaction) -> Surface:
    return Surface(
        platform="discord",
        channel_id=str(interaction.channel_id) if interaction.channel_id else None,
        workspace_id=str(interaction.guild_id) if interaction.guild_id else None,
    )
