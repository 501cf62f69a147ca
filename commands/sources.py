"""Where a parameter's values come from, for completion (Discord) and pickers (both)."""

from __future__ import annotations

import enum

__all__ = ["Source"]


class Source(enum.StrEnum):
    """Where the values a parameter may take come from, for completion and pickers."""

    TAG = "tag"  # the site's tags
    SESSION = "session"  # the recent handoffs' chat sessions
    WEBHOOK = "webhook"  # the site's webhook subscriptions
