"""Where a command was typed, as stored rows (digests, alert rules) refer to it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["Place", "Placed"]


class Placed(Protocol):
    """A stored row that belongs to a channel (a digest subscription, an alert rule)."""

    @property
    def platform(self) -> str: ...
    @property
    def workspace_id(self) -> str | None: ...
    @property
    def channel_id(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Place:
    """A channel of a workspace (``workspace_id`` None: the console), or the channel that
    ``mlc-bot exec --channel`` names."""

    platform: str
    workspace_id: str | None
    channel_id: str
    by_channel: bool = False
    """The channel alone scopes the command (``mlc-bot exec``, where the workspace may be
    unknown); otherwise its workspace does, as in Slack and Discord."""

    def holds(self, row: Placed) -> bool:
        """Whether ``row`` is within this place's reach."""
        if self.by_channel:
            return (row.platform, row.channel_id) == (self.platform, self.channel_id)
        return (row.platform, row.workspace_id) == (self.platform, self.workspace_id)
