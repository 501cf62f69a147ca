"""Building the application's pieces from settings: the API client, the core, the posters.

Every process (``exec``, the web process, the Discord bot, the scheduler, ``run``, the demo)
builds its pieces here, so they are built one way. Nothing connects until it is used.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import httpx

from commands.alerts.inbox import Inbox
from commands.alerts.service import AlertService
from commands.context import Policy
from commands.core import Core
from commands.digests.service import DigestService
from commands.ports import Poster
from commands.timefmt import zone

from .alerts.messages import PostedAlerts
from .alerts.secrets import EncryptedSecrets, valid_key
from .alerts.tables import AlertOutbox, AlertTables
from .config import ConfigError, Settings
from .mylivechat import MyLiveChatClient
from .secrets import REGISTRY
from .storage import LazySubscriptionStore
from .storage.lazy import LazyDatabase

if TYPE_CHECKING:
    from .shared.redis_news import RedisNews
    from .shared.redis_seen import RedisSeen
    from .shared.seen import DatabaseSeen

__all__ = [
    "alert_secrets",
    "build_alerts",
    "build_api_client",
    "build_core",
    "build_inbox",
    "build_news",
    "build_posters",
    "build_seen",
    "close_posters",
]


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
    database: LazyDatabase | None = None,
    posters: Mapping[str, Poster] | None = None,
    listen: bool = False,
) -> Core:
    """The core on ``settings``: its API client (``api`` when given), the digest
    subscriptions (unless ``digests`` is given) and the alerts, on ``DATABASE_URL`` (or
    ``database``), opened on first use. Alert messages go through ``posters`` (a mapping
    the process may fill once its posters are logged in).

    With ``REDIS_URL`` the core tells the token's other processes when a cached list
    changes (flushed when the core closes); with ``listen`` (the long-running processes;
    call it on their event loop) it also hears theirs, from now until it closes."""
    if database is None:
        database = LazyDatabase(settings.database_url)
    news = build_news(settings)
    core = Core(
        api or build_api_client(settings),
        secrets=REGISTRY,
        policy=build_policy(settings),
        digests=digests or DigestService(LazySubscriptionStore(database)),
        alerts=build_alerts(settings, database, posters if posters is not None else {}),
        news=news,
    )
    core.close_with(database.aclose)
    if news is not None:
        core.close_with(news.aclose)
        if listen:
            news.listen(core.site.heard)
    return core


def build_news(settings: Settings) -> RedisNews | None:
    """With ``REDIS_URL``, the cache news of the token's processes (else None: the TTLs)."""
    if not settings.redis_url or settings.api_token is None:
        return None
    from .shared.redis_news import RedisNews  # imports redis only when it is used

    try:
        return RedisNews.from_url(settings.redis_url, settings.api_token.reveal())
    except ValueError as exc:
        raise ConfigError(f"REDIS_URL is not a URL Redis accepts: {exc}") from None


def build_seen(settings: Settings, database: LazyDatabase) -> RedisSeen | DatabaseSeen:
    """Where every process records the Slack deliveries it ran (the Slack app's
    ``SeenRequests``): Redis with ``REDIS_URL``, else the database (``mlc_bot_seen``)."""
    if settings.redis_url:
        from .shared.redis_seen import RedisSeen

        try:
            return RedisSeen.from_url(settings.redis_url)
        except ValueError as exc:
            raise ConfigError(f"REDIS_URL is not a URL Redis accepts: {exc}") from None
    from .shared.seen import DatabaseSeen

    return DatabaseSeen(database)


def build_alerts(
    settings: Settings, database: LazyDatabase, posters: Mapping[str, Poster]
) -> AlertService:
    """The alert rules and claims; rules can be added once a key and a public URL are set."""
    outbox = AlertOutbox(database)
    return AlertService(
        AlertTables(database),
        outbox,
        PostedAlerts(posters, zone=zone(settings.timezone)),
        secrets=alert_secrets(settings, database),
        public_url=settings.public_url,
    )


def alert_secrets(settings: Settings, database: LazyDatabase) -> EncryptedSecrets | None:
    """The webhook secret's store, when MLC_BOT_SECRET_KEY is set (a ConfigError if invalid)."""
    if settings.secret_key is None:
        return None
    key = settings.secret_key.reveal()
    if not valid_key(key):
        raise ConfigError(
            "MLC_BOT_SECRET_KEY is not a valid key (32 url-safe base64-encoded bytes); "
            "make one with `mlc-bot keygen`."
        )
    return EncryptedSecrets(database, key)


def build_inbox(
    settings: Settings, database: LazyDatabase, *, wake: Callable[[], None]
) -> Inbox | None:
    """The webhook receiver's core, when a key is set (without one no secret can verify)."""
    secrets = alert_secrets(settings, database)
    if secrets is None:
        return None
    return Inbox(secrets, AlertOutbox(database), wake=wake)


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
        import aiohttp
        import discord

        from adapters.discord.poster import DiscordPoster

        try:
            posters["discord"] = await DiscordPoster.login(settings.discord_token.reveal())
        except discord.LoginFailure:
            await close_posters(posters)
            raise ConfigError(
                "Discord did not accept DISCORD_TOKEN; digests cannot be posted to Discord."
            ) from None
        except (discord.HTTPException, OSError, TimeoutError, aiohttp.ClientError) as exc:
            await close_posters(posters)
            raise ConfigError(
                f"Could not reach Discord ({type(exc).__name__}); check the network."
            ) from None
    return posters


async def close_posters(posters: Mapping[str, Poster]) -> None:
    """Close the posters that hold connections (``aclose``); each even if another fails."""
    async with contextlib.AsyncExitStack() as stack:
        for poster in posters.values():
            close = getattr(poster, "aclose", None)
            if close is not None:
                stack.push_async_callback(close)
