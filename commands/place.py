"""Where a command was typed, as stored rows (digests, alert rules) refer to it."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Place"]


@dataclass(frozen=True, slots=True)
class Place:
    """A channel of a workspace (``workspace_id`` None: the console)."""

    platform: str
    workspace_id: str | None
    channel_id: str
