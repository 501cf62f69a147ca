"""Configuration from environment variables (12-factor). See the README's table."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from urllib.parse import urlsplit, urlunsplit

from .mylivechat import DEFAULT_API_URL
from .secrets import Secret

__all__ = ["LOG_FORMATS", "LOG_LEVELS", "ConfigError", "Settings"]


class ConfigError(Exception):
    """A setting is missing or malformed; the message says which and how to fix it."""


def _csv(value: str | None) -> frozenset[str]:
    return frozenset(v.strip() for v in (value or "").split(",") if v.strip())


def _secret(env: Mapping[str, str], name: str) -> Secret | None:
    value = env.get(name, "").strip()
    return Secret(value) if value else None


def _without_password(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for reprs; no SQLAlchemy needed)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# ASCII digits only: "²" passes str.isdigit() and then breaks int().
_DIGITS = re.compile(r"[0-9]{1,20}")
_SNOWFLAKE_MAX = 2**63 - 1  # Discord ids are 64-bit


def _port(env: Mapping[str, str]) -> int:
    raw = env.get("PORT", "").strip()
    if not raw:
        return 3000
    port = int(raw) if _DIGITS.fullmatch(raw) else 0
    if not 1 <= port <= 65535:
        raise ConfigError(f"PORT must be a port number from 1 to 65535, not {raw[:20]!r}")
    return port


def _metrics_port(env: Mapping[str, str]) -> int | None:
    raw = env.get("METRICS_PORT", "").strip()
    if not raw:
        return None
    port = int(raw) if _DIGITS.fullmatch(raw) else 0
    if not 1 <= port <= 65535:
        raise ConfigError(
            f"METRICS_PORT must be a port number from 1 to 65535, not {raw[:20]!r}; "
            "leave it unset to serve /metrics on PORT (web processes) or not at all"
        )
    return port


LOG_FORMATS = ("text", "json")


def _log_format(env: Mapping[str, str]) -> str:
    raw = env.get("LOG_FORMAT", "").strip()
    if raw.lower() in LOG_FORMATS:
        return raw.lower()
    if not raw:
        return "text"
    raise ConfigError(
        f"LOG_FORMAT must be text (one line per record) or json (one JSON object per "
        f"line), not {raw[:20]!r}"
    )


def _guild_ids(env: Mapping[str, str]) -> tuple[int, ...]:
    ids = []
    for raw in sorted(_csv(env.get("DISCORD_GUILD_IDS"))):
        guild = int(raw) if _DIGITS.fullmatch(raw) else 0
        if not 1 <= guild <= _SNOWFLAKE_MAX:
            raise ConfigError(
                "DISCORD_GUILD_IDS must be comma-separated numeric guild ids (with Developer"
                f" Mode on, right-click the server: Copy Server ID), not {raw[:30]!r}"
            )
        ids.append(guild)
    return tuple(ids)


def _log_level(raw: str) -> str:
    """``raw`` as a logging level name in upper case; anything else is a ConfigError."""
    level = raw.strip().upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {raw.strip()!r}")
    return level


_DECIMAL = re.compile(r"[0-9]{1,6}(?:\.[0-9]{1,6})?")


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not _DECIMAL.fullmatch(raw):
        raise ConfigError(f"{name} must be a number of seconds such as 15 or 2.5, not {raw!r}")
    value = float(raw)
    if value <= 0:
        raise ConfigError(f"{name} must be positive, not {raw!r}")
    return value


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

    def __post_init__(self) -> None:
        object.__setattr__(self, "log_level", _log_level(self.log_level))
        object.__setattr__(self, "log_format", _log_format({"LOG_FORMAT": self.log_format}))

    def __repr__(self) -> str:
        # Tokens are Secrets already; the database URL may carry a password in plain text.
        shown = {
            f.name: _without_password(value) if f.name == "database_url" else value
            for f in fields(self)
            if f.repr
            for value in (getattr(self, f.name),)
        }
        return "Settings(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        members = _csv(env.get("MLC_BOT_MEMBERS"))
        guilds = _guild_ids(env)
        log_level = env.get("LOG_LEVEL", "").strip()
        port = _port(env)
        metrics_port = _metrics_port(env)
        log_format = _log_format(env)
        return cls(
            api_url=env.get("MLC_API_URL", "").strip() or DEFAULT_API_URL,
            api_token=_secret(env, "MLC_API_TOKEN"),
            api_timeout=_number(env, "MLC_API_TIMEOUT", 15.0),
            admins=_csv(env.get("MLC_BOT_ADMINS")),
            members=members or None,
            timezone=env.get("MLC_BOT_TZ", "").strip() or "UTC",
            database_url=env.get("DATABASE_URL", "").strip() or "sqlite:///mlc-bot.db",
            log_level=log_level or "INFO",
            log_level_given=bool(log_level),
            log_format=log_format,
            slack_bot_token=_secret(env, "SLACK_BOT_TOKEN"),
            slack_signing_secret=_secret(env, "SLACK_SIGNING_SECRET"),
            slack_app_token=_secret(env, "SLACK_APP_TOKEN"),
            slack_api_url=env.get("SLACK_API_URL", "").strip() or None,
            slack_app_id=env.get("SLACK_APP_ID", "").strip() or None,
            public_url=env.get("MLC_BOT_PUBLIC_URL", "").strip().rstrip("/") or None,
            secret_key=_secret(env, "MLC_BOT_SECRET_KEY"),
            port=port,
            metrics_port=metrics_port,
            discord_token=_secret(env, "DISCORD_TOKEN"),
            discord_guild_ids=guilds,
        )

    def require_api_token(self) -> str:
        if self.api_token is None:
            raise ConfigError(
                "MLC_API_TOKEN is not set. Issue a token at MyLiveChat's "
                "/dashboard/config_api_tokens.ascx, or try `mlc-bot demo` (no token needed)."
            )
        return self.api_token.reveal()
