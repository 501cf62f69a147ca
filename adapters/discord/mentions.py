"""The people a reply may ping on Discord: only those the reply names, as roles or users."""

from __future__ import annotations

import re

import discord

from commands.reply import Reply

__all__ = ["mentions_of"]

_ROLE = re.compile(r"<@&([0-9]{1,20})>|@?&?([0-9]{1,20})")
_USER = re.compile(r"<@!?([0-9]{1,20})>")


def mentions_of(reply: Reply) -> tuple[str, discord.AllowedMentions]:
    """The message content that pings ``reply.mentions``, and the mentions Discord may send.

    A role is named by its id or ``<@&id>``, a user by ``<@id>``; ``@here`` and
    ``@everyone`` as such. Anything else (``@support``) is shown as text and pings no one.
    """
    roles: list[discord.Object] = []
    users: list[discord.Object] = []
    everyone = False
    parts: list[str] = []
    for target in reply.mentions:
        text = target.strip()
        if text in ("@here", "@everyone", "here", "everyone"):
            everyone = True
            parts.append("@" + text.lstrip("@"))
        elif user := _USER.fullmatch(text):
            users.append(discord.Object(int(user.group(1))))
            parts.append(f"<@{user.group(1)}>")
        elif role := _ROLE.fullmatch(text):
            role_id = role.group(1) or role.group(2)
            roles.append(discord.Object(int(role_id)))
            parts.append(f"<@&{role_id}>")
        else:
            parts.append(discord.utils.escape_mentions(discord.utils.escape_markdown(text)))
    if not parts:
        return "", discord.AllowedMentions.none()
    # False rather than an empty list: Discord is then told to ping no one of that kind
    # (``{"parse": []}``), and a reply does not ping the author of what it answers.
    allowed = discord.AllowedMentions(
        everyone=everyone, users=users or False, roles=roles or False, replied_user=False
    )
    return " ".join(parts), allowed
