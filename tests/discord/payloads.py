"""Interaction payloads as Discord's gateway delivers them (``INTERACTION_CREATE``)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import discord

GUILD_ID = 700000000000000001
CHANNEL_ID = 700000000000000002
APPLICATION_ID = 900000000000000001
ADMIN_ID = 600000000000000001
MEMBER_ID = 600000000000000002

ADMIN_PERMISSIONS = discord.Permissions(
    manage_guild=True, send_messages=True, use_application_commands=True
)
MEMBER_PERMISSIONS = discord.Permissions(send_messages=True, use_application_commands=True)

_ids = itertools.count(500000000000000001)
_OPTION_TYPES = {bool: 5, int: 4, str: 3}


def _member(user_id: int, permissions: discord.Permissions) -> dict[str, Any]:
    return {
        "user": {
            "id": str(user_id),
            "username": f"user{user_id % 1000}",
            "discriminator": "0",
            "global_name": None,
            "avatar": None,
        },
        "roles": [],
        "joined_at": datetime(2025, 1, 1, tzinfo=UTC).isoformat(),
        "deaf": False,
        "mute": False,
        "flags": 0,
        "permissions": str(permissions.value),
    }


def _base(kind: int, user_id: int, permissions: discord.Permissions) -> dict[str, Any]:
    interaction_id = next(_ids)
    return {
        "id": str(interaction_id),
        "application_id": str(APPLICATION_ID),
        "type": kind,
        "token": f"token-{interaction_id}",
        "version": 1,
        "guild_id": str(GUILD_ID),
        "channel_id": str(CHANNEL_ID),
        "channel": {
            "id": str(CHANNEL_ID),
            "type": 0,
            "guild_id": str(GUILD_ID),
            "name": "support",
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
        },
        "member": _member(user_id, permissions),
        "app_permissions": str(discord.Permissions.all().value),
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {"0": str(GUILD_ID)},
        "context": 0,
        "attachment_size_limit": 8 * 1024 * 1024,
    }


def slash(
    words: str,
    options: dict[str, Any] | None = None,
    *,
    user_id: int = MEMBER_ID,
    permissions: discord.Permissions = MEMBER_PERMISSIONS,
    focused: str | None = None,
) -> dict[str, Any]:
    """``/mlc <words>`` with typed ``options``; with ``focused``, an autocomplete request."""
    leaves = [
        {"name": name, "type": _OPTION_TYPES[type(value)], "value": value}
        | ({"focused": True} if name == focused else {})
        for name, value in (options or {}).items()
    ]
    names = words.split()
    nested: list[dict[str, Any]] = leaves
    for depth, name in enumerate(reversed(names)):
        nested = [{"name": name, "type": 1 if depth == 0 else 2, "options": nested}]
    payload = _base(4 if focused else 2, user_id, permissions)
    payload["data"] = {"id": "1", "name": "mlc", "type": 1, "options": nested}
    return payload


def component(
    message: dict[str, Any],
    custom_id: str,
    *,
    values: list[str] | None = None,
    user_id: int = MEMBER_ID,
    permissions: discord.Permissions = MEMBER_PERMISSIONS,
) -> dict[str, Any]:
    """A click on a button (or a choice in a menu when ``values``) of ``message``."""
    payload = _base(3, user_id, permissions)
    payload["message"] = message
    payload["data"] = {"custom_id": custom_id, "component_type": 3 if values else 2}
    if values is not None:
        payload["data"]["values"] = values
    return payload


def custom_ids(message: dict[str, Any]) -> list[str]:
    """Every component custom_id of a message body, in order."""
    return [
        child["custom_id"]
        for row in message.get("components") or []
        for child in row.get("components") or []
        if "custom_id" in child
    ]


def sent_message(body: dict[str, Any], message_id: int | None = None) -> dict[str, Any]:
    """A message as Discord returns it, made of a body the bot sent."""
    return {
        "id": str(message_id or next(_ids)),
        "channel_id": str(CHANNEL_ID),
        "type": 0,
        "content": body.get("content") or "",
        "author": {
            "id": str(APPLICATION_ID),
            "username": "mlc-bot",
            "discriminator": "0",
            "avatar": None,
            "bot": True,
        },
        "embeds": body.get("embeds") or [],
        "components": body.get("components") or [],
        "attachments": [],
        "mentions": [],
        "mention_roles": [],
        "pinned": False,
        "tts": False,
        "flags": int(body.get("flags") or 0),
        "timestamp": datetime.now(UTC).isoformat(),
        "edited_timestamp": None,
    }
