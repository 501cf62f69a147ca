"""Whether the bot can post in a Discord channel named by id, and in which server.

``mlc-bot exec "digest add usage --channel discord:123..."`` asks before it saves: one
``GET /channels/{id}`` with the bot token, over REST (no gateway connection).
"""

from __future__ import annotations

import discord
from discord.http import HTTPClient

from commands.ports import ChannelCheck, ChannelRef

__all__ = ["check_discord_channel"]

# Channel types a digest can be posted in: text, announcement, and threads.
_POSTABLE = frozenset({0, 5, 10, 11, 12})


async def check_discord_channel(http: HTTPClient, channel_id: str) -> ChannelCheck:
    """What Discord says about ``channel_id``; never raises for Discord's answer."""
    channel = ChannelRef("discord", channel_id)
    try:
        data = await http.get_channel(int(channel_id))
    except discord.NotFound:
        return ChannelCheck(channel, found=False, detail="Unknown Channel")
    except discord.Forbidden:
        return ChannelCheck(channel, found=False, detail="the bot cannot see it (Missing Access)")
    except discord.HTTPException as exc:
        return ChannelCheck(channel, found=None, detail=f"Discord answered HTTP {exc.status}")
    guild = data.get("guild_id")
    placed = ChannelRef("discord", channel_id, str(guild) if guild else None)
    if guild is None or data.get("type") not in _POSTABLE:
        return ChannelCheck(placed, found=False, detail="not a text channel of a server")
    name = data.get("name")
    return ChannelCheck(placed, found=True, name=f"#{name}" if name else None)
