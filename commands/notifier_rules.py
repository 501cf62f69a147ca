"""The API contract's rules for chat-platform notifiers, checked before any request.

A URL that breaks a rule costs no API call, and the message names the rule. The rules are
the platforms' URL shapes, stricter than the API's prefixes: a Discord URL without its token
part passes the prefix but could never be posted to.
The URL itself is a secret: messages never repeat it, only the allowed prefix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.mylivechat import EVENTS, PLATFORMS

from .errors import CommandError

__all__ = [
    "EVENTS",
    "PLATFORMS",
    "NotifierRule",
    "check_events",
    "check_webhook_url",
    "clean_url",
    "rule_for",
]

_MAX_URL = 2048


@dataclass(frozen=True, slots=True)
class NotifierRule:
    platform: str
    title: str
    prefixes: tuple[str, ...] = ()
    """Fixed prefixes the URL starts with (Slack, Discord): the API's own rule."""
    shape: re.Pattern[str] | None = None
    """The whole URL as the platform issues it (Slack, Discord): the prefix and the parts
    after it that identify the webhook."""
    shape_help: str = ""
    """What ``shape`` allows, for the message."""
    host_suffixes: tuple[str, ...] = ()
    """Hosts the URL must be on, over https, with a path (Teams)."""
    where: str = ""
    """Where an admin finds such a URL."""

    @property
    def description(self) -> str:
        if self.shape_help:
            return f"looks like {self.shape_help}"
        hosts = " or ".join(f"*{s}" for s in self.host_suffixes)
        return f"must be an https:// URL on a {hosts} host, with the webhook's path after it"

    def matches(self, url: str) -> bool:
        if any(c.isspace() for c in url) or len(url) > _MAX_URL:
            return False
        if self.shape is not None:
            return self.shape.fullmatch(url) is not None
        return _on_hosts(url, self.host_suffixes)

    def hint(self, url: str) -> str:
        """What the accepted URL looks like, without repeating it: ``https://hooks.slack.com/…``."""
        if self.prefixes:
            prefix = next((p for p in self.prefixes if url.startswith(p)), self.prefixes[0])
            return prefix + "…"
        host = (urlsplit(url).hostname or "").lower()
        suffix = next((s for s in self.host_suffixes if host.endswith(s)), self.host_suffixes[0])
        return f"https://…{suffix}/…"


def _on_hosts(url: str, suffixes: tuple[str, ...]) -> bool:
    """An https URL with a path on a host below one of ``suffixes`` (no user, default port)."""
    if not url.lower().startswith("https://"):
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a port that is not a number
        return False
    host = (parts.hostname or "").lower()
    below = any(host.endswith(s) and len(host) > len(s) for s in suffixes)
    return below and parts.username is None and port in (None, 443) and parts.path.strip("/") != ""


# Slack incoming webhooks: /services/<team id>/<bot id>/<secret>, ids in capitals.
_SLACK = re.compile(r"https://hooks\.slack\.com/services/T[A-Z0-9]*/B[A-Z0-9]*/[A-Za-z0-9]+")
# Discord: /api/webhooks/<snowflake id>/<token>, optionally with a query (?thread_id=...).
_DISCORD = re.compile(
    r"https://(?:discord|discordapp)\.com/api/webhooks/[0-9]{1,20}/[A-Za-z0-9_.-]+"
    r"(?:\?[A-Za-z0-9_=&.-]*)?"
)

_RULES: dict[str, NotifierRule] = {
    "slack": NotifierRule(
        "slack",
        "Slack",
        prefixes=("https://hooks.slack.com/",),
        shape=_SLACK,
        shape_help="https://hooks.slack.com/services/T…/B…/… (an Incoming Webhook URL)",
        where="Slack: your app's Incoming Webhooks page",
    ),
    "discord": NotifierRule(
        "discord",
        "Discord",
        prefixes=("https://discord.com/api/webhooks/", "https://discordapp.com/api/webhooks/"),
        shape=_DISCORD,
        shape_help="https://discord.com/api/webhooks/<id>/<token> (or "
        "https://discordapp.com/api/webhooks/<id>/<token>), token included",
        where="Discord: channel settings > Integrations > Webhooks > Copy Webhook URL",
    ),
    "teams": NotifierRule(
        "teams",
        "Microsoft Teams",
        host_suffixes=(".webhook.office.com", ".logic.azure.com"),
        where="Teams: the channel's Workflows (or Incoming Webhook) connector",
    ),
}
if set(_RULES) != set(PLATFORMS):  # one list of platforms: the API client's
    raise RuntimeError(f"notifier rules for {sorted(_RULES)}, but the API has {PLATFORMS}")


def rule_for(platform: str) -> NotifierRule:
    return _RULES[platform]


def clean_url(text: str) -> str:
    """A URL as typed, without the ``<...>`` or ``<url|label>`` wrapping Slack may add."""
    url = text.strip()
    if url.startswith("<") and url.endswith(">"):
        url = url[1:-1].split("|", 1)[0].strip()
    return url


def check_webhook_url(platform: str, url: str) -> NotifierRule:
    """The platform's rule, once ``url`` (cleaned) satisfies it; else :class:`CommandError`."""
    rule = rule_for(platform)
    if not rule.matches(url):
        raise CommandError(
            f"That is not a {rule.title} webhook URL: a {rule.title} URL {rule.description}.",
            hint=f"Copy it from {rule.where}. Nothing was sent to MyLiveChat.",
        )
    return rule


def check_events(events: Iterable[str]) -> list[str]:
    """The events, deduplicated, once each is one the notifiers know."""
    chosen = list(dict.fromkeys(e.strip().lower() for e in events if e.strip()))
    unknown = [e for e in chosen if e not in EVENTS]
    if unknown:
        raise CommandError(
            f"Notifiers know only the events {' and '.join(EVENTS)}, not {', '.join(unknown)}.",
            hint="Nothing was sent to MyLiveChat.",
        )
    return chosen
