"""Configuration from environment variables (12-factor). See the README's table.

:meth:`Settings.from_env` reads every variable and reports, in one :class:`ConfigError`,
every malformed value and every variable the process needs but lacks (``require``, one
:data:`REQUIREMENTS` entry per ``mlc-bot`` subcommand), so one run tells the whole story.
"""

from __future__ import annotations

import os
import re
import zoneinfo
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

from .mylivechat import DEFAULT_API_URL
from .secrets import Secret, register_secret
from .storage.urls import database_url_password, database_url_problem

__all__ = [
    "LOG_FORMATS",
    "LOG_LEVELS",
    "REQUIREMENTS",
    "ConfigError",
    "Problem",
    "Required",
    "Settings",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the configuration: a sentence that says what to do about it."""

    message: str
    variable: str | None = None
    """The environment variable at fault, when there is one."""


class ConfigError(Exception):
    """Settings are missing or malformed, or the process cannot start with them.

    Each of :attr:`problems` says which setting, what it is for and how to fix it; ``str()``
    is one line per problem.
    """

    def __init__(self, *problems: str | Problem) -> None:
        self.problems = tuple(p if isinstance(p, Problem) else Problem(p) for p in problems)
        super().__init__("\n".join(p.message for p in self.problems))


# --- what each required variable is for ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Required:
    """One of ``names`` must be set, unless ``unless`` is."""

    names: tuple[str, ...]
    unless: str | None = None

    def missing(self, is_set: Callable[[str], bool]) -> bool:
        if self.unless is not None and is_set(self.unless):
            return False
        return not any(is_set(name) for name in self.names)

    def problem(self) -> Problem:
        if len(self.names) == 1:
            (name,) = self.names
            return Problem(f"{name} is not set: {_PURPOSES[name]}", name)
        listed = " nor ".join(self.names)
        return Problem(f"neither {listed} is set: {_PURPOSES[self.names]}", self.names[0])


_PURPOSES: dict[str | tuple[str, ...], str] = {
    "MLC_API_TOKEN": (
        "the MyLiveChat site token every command uses (mlc_...). Issue one at MyLiveChat's"
        " /dashboard/config_api_tokens.ascx, or try `mlc-bot demo` (no token needed)."
    ),
    "SLACK_BOT_TOKEN": (
        "the Slack bot's token (xoxb-...), to answer and post in Slack. Copy the Bot User"
        " OAuth Token from your Slack app's OAuth & Permissions page."
    ),
    "SLACK_SIGNING_SECRET": (
        "it proves that requests to /slack/events come from Slack. Copy it from your Slack"
        " app's Basic Information page, or set SLACK_APP_TOKEN (xapp-...) to use Socket Mode"
        " instead."
    ),
    "DISCORD_TOKEN": (
        "the Discord bot's token, to connect to Discord. Copy it from the Discord developer"
        " portal (your application > Bot > Reset Token)."
    ),
    ("SLACK_BOT_TOKEN", "DISCORD_TOKEN"): (
        "digests are posted with the Slack and/or Discord bot token. Set SLACK_BOT_TOKEN"
        " (xoxb-...), DISCORD_TOKEN, or both."
    ),
}

_MLC = Required(("MLC_API_TOKEN",))

REQUIREMENTS: Mapping[str, tuple[Required, ...]] = {
    "exec": (_MLC,),
    "demo": (),
    "sandbox": (),
    "slack": (
        _MLC,
        Required(("SLACK_BOT_TOKEN",)),
        Required(("SLACK_SIGNING_SECRET",), unless="SLACK_APP_TOKEN"),
    ),
    "discord": (_MLC, Required(("DISCORD_TOKEN",))),
    "scheduler": (_MLC, Required(("SLACK_BOT_TOKEN", "DISCORD_TOKEN"))),
    # What web and run serve depends on what is set; each part says what it lacks.
    "web": (_MLC,),
    "run": (_MLC,),
    "keygen": (),
}
"""What each ``mlc-bot`` subcommand needs set, checked all at once before it starts."""

# The Settings field behind each variable a requirement can name.
_FIELD_OF = {
    "MLC_API_TOKEN": "api_token",
    "SLACK_BOT_TOKEN": "slack_bot_token",
    "SLACK_SIGNING_SECRET": "slack_signing_secret",
    "SLACK_APP_TOKEN": "slack_app_token",
    "DISCORD_TOKEN": "discord_token",
}


# --- parsing one value ---------------------------------------------------------------------


class _Malformed(ValueError):
    """A value that cannot be used; the message says what it should be."""


def _csv(value: str | None) -> frozenset[str]:
    return frozenset(v.strip() for v in (value or "").split(",") if v.strip())


def _without_password(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for reprs; no SQLAlchemy needed)."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "<unparseable URL>"
    if password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


_REDIS_SCHEMES = ("redis", "rediss", "unix")


def _redis_url(raw: str) -> str:
    """REDIS_URL, its password registered as a secret."""
    try:
        parts = urlsplit(raw)
        password, shown = parts.password, repr(_without_password(raw)[:60])
    except ValueError:  # e.g. an unclosed "[" in the host: show none of it, it may hold a password
        parts, password, shown = None, None, "a value that is not a URL"
    if parts is None or parts.scheme not in _REDIS_SCHEMES or not (parts.hostname or parts.path):
        raise _Malformed(
            "REDIS_URL must be a redis://, rediss:// or unix:// URL such as"
            f" redis://localhost:6379/0, not {shown}"
        )
    register_secret(password)
    return raw


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# ASCII digits only: "²" passes str.isdigit() and then breaks int().
_DIGITS = re.compile(r"[0-9]{1,20}")
_SNOWFLAKE_MAX = 2**63 - 1  # Discord ids are 64-bit
_DECIMAL = re.compile(r"[0-9]{1,6}(?:\.[0-9]{1,6})?")
_SLACK_APP_ID = re.compile(r"A[A-Z0-9]{1,30}")


def _port(raw: str) -> int:
    port = int(raw) if _DIGITS.fullmatch(raw) else 0
    if not 1 <= port <= 65535:
        raise _Malformed(f"PORT must be a port number from 1 to 65535, not {raw[:20]!r}")
    return port


def _metrics_port(raw: str) -> int:
    port = int(raw) if _DIGITS.fullmatch(raw) else 0
    if not 1 <= port <= 65535:
        raise _Malformed(
            f"METRICS_PORT must be a port number from 1 to 65535, not {raw[:20]!r}; "
            "leave it unset to serve /metrics on PORT (web processes) or not at all"
        )
    return port


LOG_FORMATS = ("text", "json")


def _log_format(raw: str) -> str:
    if raw.strip().lower() in LOG_FORMATS:
        return raw.strip().lower()
    raise _Malformed(
        f"LOG_FORMAT must be text (one line per record) or json (one JSON object per "
        f"line), not {raw.strip()[:20]!r}"
    )


def _guild_ids(raw: str) -> tuple[int, ...]:
    ids = []
    for item in sorted(_csv(raw)):
        guild = int(item) if _DIGITS.fullmatch(item) else 0
        if not 1 <= guild <= _SNOWFLAKE_MAX:
            raise _Malformed(
                "DISCORD_GUILD_IDS must be comma-separated numeric guild ids (with Developer"
                f" Mode on, right-click the server: Copy Server ID), not {item[:30]!r}"
            )
        ids.append(guild)
    return tuple(ids)


def _log_level(raw: str) -> str:
    """``raw`` as a logging level name in upper case; anything else is malformed."""
    level = raw.strip().upper()
    if level not in LOG_LEVELS:
        raise _Malformed(
            f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {raw.strip()[:30]!r}"
        )
    return level


def _seconds(name: str) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        if not _DECIMAL.fullmatch(raw):
            raise _Malformed(f"{name} must be a number of seconds such as 15 or 2.5, not {raw!r}")
        value = float(raw)
        if value <= 0:
            raise _Malformed(f"{name} must be positive, not {raw!r}")
        return value

    return parse


def _http_url(name: str, example: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        try:
            parts = urlsplit(raw)
            ok = parts.scheme in ("http", "https") and bool(parts.hostname)
            _ = parts.port  # raises on a port that is not a number
        except ValueError:
            ok = False
        if not ok:
            # A URL can carry credentials (user:password@): then only its scheme is shown.
            shown = raw.partition("://")[0] + "://..." if "@" in raw else raw
            raise _Malformed(
                f"{name} must be an http:// or https:// URL such as {example}, not {shown[:40]!r}"
            )
        return raw

    return parse


def _public_url(raw: str) -> str:
    """Where MyLiveChat reaches this bot, without a trailing slash."""
    return _http_url("MLC_BOT_PUBLIC_URL", "https://bot.example.com")(raw).rstrip("/")


def _timezone(raw: str) -> str:
    try:
        zoneinfo.ZoneInfo(raw)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise _Malformed(
            f"MLC_BOT_TZ must be a time zone name such as Europe/Berlin or UTC, not {raw[:40]!r}"
        ) from None
    return raw


def _slack_app_id(raw: str) -> str:
    if not _SLACK_APP_ID.fullmatch(raw):
        raise _Malformed(
            "SLACK_APP_ID must be your Slack app's id (A followed by capitals and digits, from"
            f" the app's Basic Information page), not {raw[:20]!r}"
        )
    return raw


def _database_url(raw: str) -> str:
    problem = database_url_problem(raw)
    if problem is not None:
        raise _Malformed(problem)
    register_secret(database_url_password(raw))
    return raw


class _Reader:
    """Reads variables from ``env``, collecting every malformed one instead of stopping."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[Problem] = []

    def text(self, name: str) -> str:
        return self.env.get(name, "").strip()

    def secret(self, name: str) -> Secret | None:
        value = self.text(name)
        return Secret(value) if value else None

    def parsed(self, name: str, parse: Callable[[str], T], default: T) -> T:
        raw = self.text(name)
        if not raw:
            return default
        try:
            return parse(raw)
        except _Malformed as exc:
            self.problems.append(Problem(str(exc), name))
            return default


# Any URL may carry a password in plain text (user:password@host).
_URLS = ("api_url", "database_url", "slack_api_url", "public_url", "redis_url")


@dataclass(frozen=True)
class Settings:
    api_url: str = DEFAULT_API_URL
    api_token: Secret | None = None
    api_timeout: float = 15.0
    admins: frozenset[str] = frozenset()
    members: frozenset[str] | None = None
    timezone: str = "UTC"
    database_url: str = "sqlite:///mlc-bot.db"
    log_level: str = "INFO"
    log_level_given: bool = False
    """Whether LOG_LEVEL was set: `mlc-bot exec` is quieter (WARNING) unless it was."""
    log_format: str = "text"
    """``text`` or ``json`` (one object per line, with the running command's request id)."""
    slack_bot_token: Secret | None = None
    slack_signing_secret: Secret | None = None
    slack_app_token: Secret | None = None
    slack_api_url: str | None = None
    slack_app_id: str | None = None
    """When set, requests for any other Slack app are refused."""
    public_url: str | None = None
    """Where MyLiveChat reaches this bot (``https://...``): the alert receiver's base."""
    secret_key: Secret | None = None
    """Encrypts the webhook secret at rest (a Fernet key from ``mlc-bot keygen``)."""
    port: int = 3000
    metrics_port: int | None = None
    """Where ``/metrics`` is served instead of on ``port``; the only place for the
    processes that serve no HTTP (Discord, the scheduler)."""
    discord_token: Secret | None = None
    discord_guild_ids: tuple[int, ...] = ()
    redis_url: str | None = None
    """When set, every process of the token shares one rate-limit budget there."""

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "log_level", _log_level(self.log_level))
            object.__setattr__(self, "log_format", _log_format(self.log_format))
        except _Malformed as exc:
            raise ConfigError(Problem(str(exc))) from None

    def __repr__(self) -> str:
        # Tokens are Secrets already; a URL may carry a password in plain text.
        shown = {
            f.name: _without_password(value) if f.name in _URLS and value else value
            for f in fields(self)
            if f.repr
            for value in (getattr(self, f.name),)
        }
        return "Settings(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, require: Iterable[Required] = ()
    ) -> Settings:
        """The settings in ``env`` (``os.environ`` by default).

        Raises one :class:`ConfigError` listing every malformed value and every
        requirement in ``require`` (e.g. ``REQUIREMENTS["slack"]``) that is not met.
        """
        read = _Reader(os.environ if env is None else env)
        log_level = read.parsed("LOG_LEVEL", _log_level, "")
        members = _csv(read.text("MLC_BOT_MEMBERS"))
        settings = cls(
            api_url=read.parsed(
                "MLC_API_URL", _http_url("MLC_API_URL", DEFAULT_API_URL), DEFAULT_API_URL
            ),
            api_token=read.secret("MLC_API_TOKEN"),
            api_timeout=read.parsed("MLC_API_TIMEOUT", _seconds("MLC_API_TIMEOUT"), 15.0),
            admins=_csv(read.text("MLC_BOT_ADMINS")),
            members=members or None,
            timezone=read.parsed("MLC_BOT_TZ", _timezone, "UTC"),
            database_url=read.parsed("DATABASE_URL", _database_url, "sqlite:///mlc-bot.db"),
            log_level=log_level or "INFO",
            log_level_given=bool(log_level),
            slack_bot_token=read.secret("SLACK_BOT_TOKEN"),
            slack_signing_secret=read.secret("SLACK_SIGNING_SECRET"),
            slack_app_token=read.secret("SLACK_APP_TOKEN"),
            slack_api_url=read.parsed(
                "SLACK_API_URL", _http_url("SLACK_API_URL", "https://slack.com/api/"), None
            ),
            slack_app_id=read.parsed("SLACK_APP_ID", _slack_app_id, None),
            public_url=read.parsed("MLC_BOT_PUBLIC_URL", _public_url, None),
            secret_key=read.secret("MLC_BOT_SECRET_KEY"),
            port=read.parsed("PORT", _port, 3000),
            metrics_port=read.parsed("METRICS_PORT", _metrics_port, None),
            log_format=read.parsed("LOG_FORMAT", _log_format, "text"),
            discord_token=read.secret("DISCORD_TOKEN"),
            discord_guild_ids=read.parsed("DISCORD_GUILD_IDS", _guild_ids, ()),
            redis_url=read.parsed("REDIS_URL", _redis_url, None),
        )
        problems = [*read.problems, *settings._missing(require)]
        if problems:
            raise ConfigError(*problems)
        return settings

    def is_set(self, variable: str) -> bool:
        """Whether ``variable`` (one a :class:`Required` can name) has a value."""
        return bool(getattr(self, _FIELD_OF[variable]))

    def _missing(self, requirements: Iterable[Required]) -> list[Problem]:
        return [r.problem() for r in requirements if r.missing(self.is_set)]

    def require(self, *requirements: Required | str) -> None:
        """Raise one :class:`ConfigError` naming every requirement that is not met (a name
        stands for ``Required((name,))``)."""
        wanted: Sequence[Required] = [
            Required((r,)) if isinstance(r, str) else r for r in requirements
        ]
        problems = self._missing(wanted)
        if problems:
            raise ConfigError(*problems)

    def require_api_token(self) -> str:
        self.require("MLC_API_TOKEN")
        assert self.api_token is not None
        return self.api_token.reveal()
