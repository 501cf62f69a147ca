"""Building the application's pieces from settings: the API client, the core, the posters.

Every process (``exec``, the web process, the Discord bot, the scheduler, ``run``, the demo)
builds its pieces here, so they are built one way. Nothing connects until it is used.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

import httpx

from commands.context import Policy
from commands.core import Core
from commands.digests.service import DigestService
from commands.ports import Poster

from .config import ConfigError, Settings
from .mylivechat import MyLiveChatClient
from .secrets import REGISTRY
from .storage import LazySubscriptionStore

__all__ = ["build_api_client", "build_core", "build_posters", "close_posters"]


def build_api_client(settings: Settings, *, token: str | None = None) -> MyLiveChatClient:
    """The API client; with ``REDIS_URL``, its rate-limit budget is shared there with every
    other process of the token (the client closes the connection)."""
    token = token or settings.require_api_token()
    shared = None
    if settings.redis_url:
        from .redis_budget import RedisSharedWindow  # imports redis only when it is used

        try:
            # An answer that never comes holds its place until the timeout and a margin.
            in_flight = max(30.0, 2 * settings.api_timeout)
            shared = RedisSharedWindow.from_url(settings.redis_url, token, in_flight=in_flight)
        except ValueError as exc:
            raise ConfigError(f"REDIS_URL is not a URL Redis accepts: {exc}") from None
    return MyLiveChatClient(
        token,
        base_url=settings.api_url,
        timeout=httpx.Timeout(settings.api_timeout, connect=min(5.0, settings.api_timeout)),
        shared_window=shared,
    )


def build_policy(settings: Settings) -> Policy:
    return Policy(
        admins=settings.admins, members=settings.members, default_timezone=settings.timezone
    )


def build_core(
    settings: Settings,
    *,
    api: MyLiveChatClient | None = None,
    digests: DigestService | None = None,
) -> Core:
    """The core on ``settings``: its API client (``api`` when given) and, unless ``digests``
    is given, the digest subscriptions on ``DATABASE_URL`` (opened on first use)."""
    core = Core(
        api or build_api_client(settings),
        secrets=REGISTRY,
        policy=build_policy(settings),
        digests=digests,
    )
    if digests is None:
        store = LazySubscriptionStore(settings.database_url)
        core.digests = DigestService(store)
        core.close_with(store.aclose)
    return core


async def build_posters(settings: Settings) -> dict[str, Poster]:
    """A poster for each platform whose bot token is set (Discord's logs in over REST)."""
    posters: dict[str, Poster] = {}
    if settings.slack_bot_token:
        from adapters.slack.client import web_client
        from adapters.slack.poster import SlackPoster

        client = web_client(
            settings.slack_api_url, token=settings.slack_bot_token.reveal(), posts=True
        )
        posters["slack"] = SlackPoster(client)
    if settings.discord_token:
        import discord

        from adapters.discord.poster import DiscordPoster

        try:
            posters["discord"] = await DiscordPoster.login(settings.discord_token.reveal())
        except discord.LoginFailure:
            await close_posters(posters)
            raise ConfigError(
                "Discord did not accept DISCORD_TOKEN; digests cannot be posted to Discord."
            ) from None
    return posters


async def close_posters(posters: Mapping[str, Poster]) -> None:
    """Close the posters that hold connections (``aclose``); each even if another fails."""
    async with contextlib.AsyncExitStack() as stack:
        for poster in posters.values():
            close = getattr(poster, "aclose", None)
            if close is not None:
                stack.push_async_callback(close)
