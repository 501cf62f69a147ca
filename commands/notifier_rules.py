"""The API contract's rules for chat-platform notifiers, checked before any request.

A URL that breaks a rule costs no API call, and the message names the rule.
The URL itself is a secret: messages never repeat it, only the allowed prefix.
"""

from __future__ import annotations

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
    """Fixed prefixes the URL must start with (Slack, Discord)."""
    host_suffixes: tuple[str, ...] = ()
    """Hosts the URL must be on, over https (Teams)."""
    where: str = ""
    """Where an admin finds such a URL."""

    @property
    def description(self) -> str:
        if self.prefixes:
            return "must start with " + " or ".join(self.prefixes)
        hosts = " or ".join(f"*{s}" for s in self.host_suffixes)
        return f"must be an https:// URL on a {hosts} host"

    def matches(self, url: str) -> bool:
        if any(c.isspace() for c in url) or len(url) > _MAX_URL:
            return False
        if self.prefixes:
            # The path after the prefix identifies the webhook, so it must be there.
            return any(url.startswith(p) and len(url) > len(p) for p in self.prefixes)
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        return url.lower().startswith("https://") and host.endswith(self.host_suffixes)

    def hint(self, url: str) -> str:
        """What the accepted URL looks like, without repeating it: ``https://hooks.slack.com/…``."""
        if self.prefixes:
            prefix = next((p for p in self.prefixes if url.startswith(p)), self.prefixes[0])
            return prefix + "…"
        host = (urlsplit(url).hostname or "").lower()
        suffix = next((s for s in self.host_suffixes if host.endswith(s)), self.host_suffixes[0])
        return f"https://…{suffix}/…"


_RULES: dict[str, NotifierRule] = {
    "slack": NotifierRule(
        "slack",
        "Slack",
        prefixes=("https://hooks.slack.com/",),
        where="Slack: your app's Incoming Webhooks page",
    ),
    "discord": NotifierRule(
        "discord",
        "Discord",
        prefixes=("https://discord.com/api/webhooks/", "https://discordapp.com/api/webhooks/"),
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
