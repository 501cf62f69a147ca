"""Building the shared pieces from settings: the API client, the policy, the core."""

from __future__ import annotations

import contextlib
from typing import Any

import httpx

from commands.cache import SiteCache
from commands.context import Policy
from commands.dispatch import Dispatcher

from .config import Settings
from .mylivechat import MyLiveChatClient

__all__ = ["Core", "build_api_client", "build_core", "build_policy", "build_services"]


def build_api_client(settings: Settings, *, token: str | None = None) -> MyLiveChatClient:
    return MyLiveChatClient(
        token or settings.require_api_token(),
        base_url=settings.api_url,
        timeout=httpx.Timeout(settings.api_timeout, connect=min(5.0, settings.api_timeout)),
    )


def build_policy(settings: Settings) -> Policy:
    return Policy(
        admins=settings.admins, members=settings.members, default_timezone=settings.timezone
    )


def build_services(settings: Settings) -> dict[str, Any]:
    """What commands find in ``ctx.services``. Nothing connects until a command uses one."""
    from .scheduler.service import build_digest_service

    return {"digests": build_digest_service(settings)}


class Core:
    """What every adapter process shares: the API client, caches, policy, dispatcher, services."""

    def __init__(self, settings: Settings, api: MyLiveChatClient | None = None) -> None:
        self.settings = settings
        self.api = api or build_api_client(settings)
        self.policy = build_policy(settings)
        self.site = SiteCache()
        self.dispatcher = Dispatcher()
        self.services = build_services(settings)

    async def aclose(self) -> None:
        """Close the API client and every service that holds something (the digest database).

        Each is closed even if another fails; the first failure is raised afterwards.
        """
        async with contextlib.AsyncExitStack() as stack:
            stack.push_async_callback(self.api.aclose)
            for service in self.services.values():
                close = getattr(service, "aclose", None)
                if callable(close):
                    stack.push_async_callback(close)


def build_core(settings: Settings) -> Core:
    return Core(settings)
