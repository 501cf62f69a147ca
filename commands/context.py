"""What a handler gets besides its parameters: who calls, from where, and the site."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Literal

from bot.mylivechat import MyLiveChatClient

from .cache import SiteCache
from .timefmt import zone

if TYPE_CHECKING:
    from .alerts.service import AlertService
    from .catalog import Catalog
    from .digests.service import DigestService
    from .ports import ChannelChecker, SecretRegistry
    from .reply import Reply

__all__ = ["Caller", "Context", "Policy", "Role", "Surface"]

Role = Literal["admin", "member", "guest", "not a member", "unconfirmed"]
"""A caller's role in one word, as ``whoami --json`` gives it."""


@dataclass(frozen=True, slots=True)
class Caller:
    """The person running a command, as the adapter identified them."""

    user_id: str
    name: str = ""
    platform_admin: bool = False
    """Slack workspace admin/owner, Discord Manage Server, or the console."""
    guest: bool = False
    known: bool = True
    """False when the platform could not say who this is (a failed ``users.info``, an
    interaction without the member's permissions): such a caller may only read."""


@dataclass(frozen=True, slots=True)
class Surface:
    """Where the command was typed and what that place can show.

    The console of ``mlc-bot demo`` is a channel (``channel_id`` "console": digests are
    posted into it); ``mlc-bot exec`` runs in no channel at all (``channel_id`` None).
    """

    platform: str  # "console" | "slack" | "discord"
    channel_id: str | None = None
    workspace_id: str | None = None  # Slack team id, Discord guild id
    timezone: str | None = None
    """The workspace's time zone when the platform tells us."""


@dataclass(frozen=True, slots=True)
class Policy:
    """Who may do what, from configuration."""

    admins: frozenset[str] = frozenset()
    members: frozenset[str] | None = None
    """Who may write tags and visitors; None means everyone but guests."""
    default_timezone: str = "UTC"

    def is_admin(self, caller: Caller) -> bool:
        return caller.platform_admin or caller.user_id in self.admins

    def is_member(self, caller: Caller) -> bool:
        if self.is_admin(caller):
            return True
        if self.members is None:
            return caller.known and not caller.guest
        return caller.user_id in self.members

    def is_listed(self, caller: Caller) -> bool:
        """Named in MLC_BOT_ADMINS or MLC_BOT_MEMBERS: a role that needs no platform lookup."""
        return caller.user_id in self.admins or caller.user_id in (self.members or ())

    def role(self, caller: Caller) -> str:
        """The caller's role in words, as ``whoami`` shows it."""
        word = self.role_word(caller)
        if word == "unconfirmed":
            return "unconfirmed (the platform did not say; read commands only)"
        return word

    def role_word(self, caller: Caller) -> Role:
        """The caller's role as one word (:meth:`role` says it in a sentence)."""
        if self.is_admin(caller):
            return "admin"
        if not caller.known and not self.is_listed(caller):
            return "unconfirmed"
        if self.is_member(caller):
            return "member"
        return "guest" if caller.guest else "not a member"


@dataclass(slots=True)
class Context:
    """Everything a command handler may use; :meth:`commands.core.Core.context` builds it."""

    api: MyLiveChatClient
    caller: Caller
    surface: Surface
    secrets: SecretRegistry
    """Where a command registers a secret it shows (logs and echoes then hide it)."""
    policy: Policy = field(default_factory=Policy)
    site: SiteCache = field(default_factory=SiteCache)
    catalog: Catalog | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    digests: DigestService | None = None
    """The digest subscriptions, when this process has the bot's database."""
    alerts: AlertService | None = None
    """Alert rules and claims, when this process has the bot's database."""
    received_at: float | None = None
    """``time.monotonic()`` when the platform delivered the command: its place in line."""
    reply_deadline: float | None = None
    """``time.monotonic()`` after which the platform no longer takes the answer."""
    notify: Callable[[Reply], Awaitable[None]] | None = None
    """Shows an interim reply (such as "queued") before the answer, where the platform can."""
    channels: ChannelChecker | None = None
    """Asks Slack or Discord about a channel named by id (``mlc-bot exec --channel``)."""

    def now(self) -> datetime:
        return self.clock()

    def zone(self) -> tzinfo:
        """The time zone to show times in: the workspace's, else the configured default."""
        return zone(self.surface.timezone or self.policy.default_timezone)
