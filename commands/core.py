"""The core as a whole: what every surface (Slack, Discord, the console) shares.

The application builds one :class:`Core` per process and hands it to each adapter; an
adapter builds each command's :class:`~commands.context.Context` with :meth:`Core.context`
and runs it through :attr:`Core.dispatcher`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from bot.mylivechat import MyLiveChatClient

from .alerts.service import AlertService
from .cache import SiteCache
from .catalog import Catalog
from .context import Caller, Context, Policy, Surface
from .digests.service import DigestService
from .dispatch import Dispatcher
from .ports import ChannelChecker, SecretRegistry, SiteNews
from .reply import Reply

__all__ = ["Core"]


class Core:
    """The API client, the site's caches, the policy, the dispatcher and the services."""

    def __init__(
        self,
        api: MyLiveChatClient,
        *,
        secrets: SecretRegistry,
        policy: Policy | None = None,
        digests: DigestService | None = None,
        alerts: AlertService | None = None,
        catalog: Catalog | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        news: SiteNews | None = None,
    ) -> None:
        """``news`` tells the token's other processes when a cached list changed here (the
        application hands what it hears from them to ``site.heard``)."""
        self.api = api
        self.secrets = secrets
        self.policy = policy or Policy()
        self.digests = digests
        self.alerts = alerts
        self.site = SiteCache(news=news)
        self.dispatcher = Dispatcher(catalog)
        self.clock = clock
        self.channels: ChannelChecker | None = None
        """Asks a platform about a channel named by id; set where commands may name one."""
        self._closers: list[Callable[[], Awaitable[None]]] = [api.aclose]

    @property
    def catalog(self) -> Catalog:
        return self.dispatcher.catalog

    def context(
        self,
        caller: Caller,
        surface: Surface,
        *,
        received_at: float | None = None,
        reply_deadline: float | None = None,
        notify: Callable[[Reply], Awaitable[None]] | None = None,
    ) -> Context:
        """A command's context: who asks, from where, and (for the rate limit) when it
        arrived, until when its answer is taken, and where an interim notice goes."""
        return Context(
            api=self.api,
            caller=caller,
            surface=surface,
            secrets=self.secrets,
            policy=self.policy,
            site=self.site,
            catalog=self.catalog,
            clock=self.clock,
            digests=self.digests,
            alerts=self.alerts,
            received_at=received_at,
            reply_deadline=reply_deadline,
            notify=notify,
            channels=self.channels,
        )

    def close_with(self, close: Callable[[], Awaitable[None]]) -> None:
        """Also run ``close`` in :meth:`aclose` (e.g. the database behind the digests)."""
        self._closers.append(close)

    async def aclose(self) -> None:
        """Close the API client and whatever was registered; each even if another fails."""
        async with contextlib.AsyncExitStack() as stack:
            for close in self._closers:
                stack.push_async_callback(close)
