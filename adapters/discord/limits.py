"""Discord's size and naming rules, and helpers that keep text within them.

Discord rejects a whole command sync or message when one value breaks a rule,
so everything the adapter sends goes through these helpers first.
"""

from __future__ import annotations

import re

__all__ = [
    "ACTION_ROWS",
    "BUTTONS_PER_ROW",
    "BUTTON_LABEL",
    "CHOICES_PER_OPTION",
    "CHOICE_VALUE",
    "CUSTOM_ID",
    "DESCRIPTION",
    "ELLIPSIS",
    "EMBEDS_PER_MESSAGE",
    "EMBED_DESCRIPTION",
    "EMBED_TOTAL",
    "FIELDS_PER_EMBED",
    "FIELD_NAME",
    "FIELD_VALUE",
    "FOOTER",
    "NAME",
    "OPTIONS_PER_LEVEL",
    "SELECT_OPTIONS",
    "SELECT_OPTION_TEXT",
    "STRING_OPTION",
    "TITLE",
    "check_name",
    "fit",
    "fit_description",
    "is_valid_name",
]

# Application commands
NAME = re.compile(r"^[-_\w]{1,32}$")
DESCRIPTION = 100
OPTIONS_PER_LEVEL = 25
CHOICES_PER_OPTION = 25
CHOICE_VALUE = 100
STRING_OPTION = 6000
"""The longest value a string option takes."""

# Embeds (per embed, except the message-wide total and count)
TITLE = 256
EMBED_DESCRIPTION = 4096
FIELDS_PER_EMBED = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
EMBED_TOTAL = 6000
EMBEDS_PER_MESSAGE = 10

# Message components
BUTTON_LABEL = 80
CUSTOM_ID = 100
SELECT_OPTIONS = 25
SELECT_OPTION_TEXT = 100
ACTION_ROWS = 5
BUTTONS_PER_ROW = 5

ELLIPSIS = "…"


def fit(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in an ellipsis when cut.

    Cuts at the last space of the kept part when that keeps most of it, so a
    word is not split in the middle.
    """
    if len(text) <= limit:
        return text
    kept = text[: limit - 1]
    space = kept.rfind(" ")
    if space >= limit * 2 // 3:
        kept = kept[:space]
    return kept.rstrip(" ,;:-") + ELLIPSIS


def fit_description(text: str) -> str:
    """An application command or option description: one line, 1..100 characters."""
    line = " ".join(text.split())
    return fit(line, DESCRIPTION) if line else ELLIPSIS


def is_valid_name(name: str) -> bool:
    """Whether Discord accepts ``name`` for a command, group or option."""
    return bool(NAME.match(name)) and name.lower() == name


def check_name(name: str, where: str) -> str:
    """``name``, or a ValueError that says which declaration breaks Discord's rule."""
    if not is_valid_name(name):
        raise ValueError(
            f"{where}: {name!r} is not a valid Discord name "
            "(1-32 lowercase letters, digits, '-' or '_')"
        )
    return name
