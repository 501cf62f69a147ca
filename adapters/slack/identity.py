"""Who is asking, and from where: Slack payloads to the core's ``Caller`` and ``Surface``.

Workspace admins and owners count as platform admins and guests as guests, as
``users.info`` says; answers are cached for a few minutes per user so a burst of
commands costs one lookup.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from commands.cache import CachedValue
from commands.context import Caller, Surface

from .errors import slack_error

__all__ = ["Directory", "SlackUser"]

log = logging.getLogger("mlc_bot.slack")


@dataclass(frozen=True, slots=True)
class SlackUser:
    """The parts of a Slack user the bot cares about."""

    id: str
    name: str = ""
    admin: bool = False
    """Workspace admin, owner or primary owner."""
    guest: bool = False
    """Multi- or single-channel guest."""
    tz: str | None = None
    known: bool = True
    """False when ``users.info`` could not be asked; then nothing is assumed."""

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> SlackUser:
        profile = data.get("profile") or {}
        return cls(
            id=str(data.get("id", "")),
            name=str(profile.get("display_name") or data.get("real_name") or data.get("name", "")),
            admin=any(bool(data.get(k)) for k in ("is_admin", "is_owner", "is_primary_owner")),
            guest=bool(data.get("is_restricted") or data.get("is_ultra_restricted")),
            tz=data.get("tz") or None,
        )

    def caller(self) -> Caller:
        return Caller(
            user_id=self.id,
            name=self.name,
            platform_admin=self.admin,
            guest=self.guest,
            known=self.known,
        )

    def surface(self, *, channel_id: str | None, team_id: str | None) -> Surface:
        return Surface(
            platform="slack",
            channel_id=channel_id,
            workspace_id=team_id,
            timezone=self.tz,
        )


class Directory:
    """``users.info`` answers, cached per user for ``ttl`` seconds (single flight)."""

    def __init__(
        self,
        *,
        ttl: float = 300.0,
        max_users: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._max_users = max_users
        self._clock = clock
        self._users: dict[str, CachedValue[SlackUser]] = {}

    async def lookup(self, client: AsyncWebClient, user_id: str) -> SlackUser:
        """Who ``user_id`` is; when the lookup fails, an unknown user (who may only read)."""
        entry = self._users.get(user_id)
        if entry is None:
            if len(self._users) >= self._max_users:
                self._forget_stale()
            entry = self._users[user_id] = CachedValue(self._ttl, self._clock)

        async def fetch() -> SlackUser:
            response = await client.users_info(user=user_id)
            return SlackUser.from_api(response["user"])

        try:
            return await entry.get(fetch)
        except SlackApiError as exc:
            log.warning("users.info for %s failed: %s", user_id, slack_error(exc))
        except (SlackClientError, aiohttp.ClientError, OSError) as exc:
            log.warning("users.info for %s failed: %s", user_id, type(exc).__name__)
        return SlackUser(id=user_id, known=False)

    def _forget_stale(self) -> None:
        for user_id in [u for u, entry in self._users.items() if not entry.fresh]:
            del self._users[user_id]
        if len(self._users) >= self._max_users:
            self._users.clear()
