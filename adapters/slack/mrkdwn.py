"""Text between Slack and the core: escaping for mrkdwn, and command text out of messages."""

from __future__ import annotations

import re

__all__ = ["command_text", "escape"]

_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|[^>]*)?>")
_LEADING_MENTION = re.compile(r"^\s*<@[A-Z0-9]+(?:\|[^>]*)?>[\s:,]*")


def escape(text: str) -> str:
    """``text`` safe inside mrkdwn: Slack reads ``&``, ``<`` and ``>`` as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def command_text(text: str, *, mention: str | None = None) -> str:
    """What the user typed, as the core's parser expects it.

    Slack escapes ``&<>`` and wraps URLs in a message as ``<https://...|label>``; a mention
    starts with ``<@BOT>``. ``mention`` is the bot's user id, dropped from the front.
    """
    if mention:
        text = re.sub(rf"^\s*<@{re.escape(mention)}(?:\|[^>]*)?>[\s:,]*", "", text)
    else:
        text = _LEADING_MENTION.sub("", text)
    text = _LINK.sub(r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()
