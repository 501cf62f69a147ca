"""The app manifest users paste into Slack matches what the adapter serves."""

from __future__ import annotations

import re
from pathlib import Path

from adapters.slack.server import EVENTS_PATH
from commands.reference import slack_usage_hint

MANIFEST = (Path(__file__).parents[2] / "slack" / "manifest.yml").read_text()


def _values(key: str) -> list[str]:
    return re.findall(rf"^\s*-?\s*{key}:\s*(\S.*?)\s*$", MANIFEST, re.M)


def test_every_request_url_is_the_events_endpoint() -> None:
    urls = _values("url") + _values("request_url")
    assert len(urls) == 3
    assert all(url.endswith(EVENTS_PATH) for url in urls)


def test_slash_command_mlc_with_a_usage_hint_and_unescaped_text() -> None:
    assert _values("command") == ["/mlc"]
    (hint,) = _values("usage_hint")
    assert hint == f'"{slack_usage_hint()}"', (
        "regenerate: python -m commands.reference --usage-hint"
    )
    assert len(hint) <= 1000  # Slack's limit
    assert _values("should_escape") == ["false"]


def test_bot_scopes_and_events_are_the_ones_the_adapter_uses() -> None:
    block = MANIFEST.split("bot:\n", 1)[1].split("settings:", 1)[0]
    scopes = re.findall(r"^\s*-\s*([a-z_:.]+)", block, re.M)
    assert scopes == [
        "commands",
        "chat:write",
        "chat:write.public",
        "users:read",
        "app_mentions:read",
        "channels:history",
        "groups:history",
        "channels:read",
        "groups:read",
    ]
    events = MANIFEST.split("bot_events:\n", 1)[1].split("interactivity:", 1)[0]
    assert re.findall(r"-\s*(\S+)", events) == ["app_mention"]
    assert _values("is_enabled") == ["true"]
    assert _values("socket_mode_enabled") == ["false"]
    assert "connections:write" in MANIFEST and "SLACK_APP_TOKEN" in MANIFEST
