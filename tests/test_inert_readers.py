"""The readers of ``tests.inert`` see live markup where it is: the inert tests can fail."""

from __future__ import annotations

from tests.inert import discord_constructs, slack_constructs


def test_the_slack_reader_finds_links_mentions_formatting_fences_and_broken_entities() -> None:
    raw = "*ZAP* _ZAP_ ~ZAP~ `ZAP` <https://e.x|ZAP> <!here> @channel &a…\n> ZAP\n```\nZAP"
    kinds = {kind for kind, _ in slack_constructs(raw)}
    expected = {"bold", "italic", "strike", "code", "link", "mention", "broadcast", "quote"}
    assert kinds >= expected | {"fence", "broken entity"}
    assert slack_constructs("∗ZAP∗ ˋZAPˋ &lt;!here&gt; @\u200bhere") == []


def test_the_discord_reader_finds_links_mentions_and_formatting() -> None:
    raw = (
        "**ZAP** __ZAP__ ~~ZAP~~ ||ZAP|| *ZAP* `ZAP` [ZAP](https://e.x) <@1> <#2> @everyone\n"
        "# ZAP\n> ZAP\n1. ZAP\n-# ZAP"
    )
    kinds = {kind for kind, _ in discord_constructs(raw)}
    assert kinds >= {
        "bold",
        "underline",
        "strike",
        "spoiler",
        "italic",
        "code",
        "link",
        "mention",
        "broadcast",
        "heading",
        "quote",
        "list",
        "subtext",
    }
    escaped = r"\*\*ZAP\*\* \[ZAP\](https\://e.x) \<@1> @" + "\u200beveryone\n\\# ZAP\n1\\. ZAP"
    assert discord_constructs(escaped) == []
