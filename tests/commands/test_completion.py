"""Completion sources for adapters: cached where possible, never raising on API failures."""

from __future__ import annotations

import pytest

from bot.mylivechat import MyLiveChatClient
from bot.sandbox import SandboxServer
from commands.cache import SiteCache
from commands.catalog import default_catalog
from commands.completion import complete
from commands.spec import Source

from .conftest import Run


def test_every_declared_completion_source_is_served() -> None:
    declared = {p.complete for c in default_catalog() for p in c.params if p.complete}
    assert declared <= set(Source)
    assert {"tag", "session", "webhook"} <= declared


async def test_unknown_source_is_a_programming_error(make_context) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="'colour' is not a valid Source"):
        await complete("colour", make_context())


async def test_tags_complete_enabled_names_prefix_first_then_contains(
    make_context, sandbox: SandboxServer
) -> None:  # type: ignore[no-untyped-def]
    site = SiteCache()

    everything = await complete("tag", make_context(site=site))
    some = await complete("tag", make_context(site=site), "RE")

    assert [c.value for c in everything] == [
        "vip",
        "billing",
        "bug",
        "refund",
        "churn-risk",
        "onboarding",
        "feature-request",
    ]
    assert everything[0].label == "vip · Priority customer"
    assert [c.value for c in some] == ["refund", "feature-request"]
    assert sandbox.count(resource="tags") == 1  # the second call used the cache


async def test_tag_completion_shares_the_cache_with_tag_commands(
    run: Run, make_context, site: SiteCache, sandbox: SandboxServer, session_id: str
) -> None:  # type: ignore[no-untyped-def]
    await complete("tag", make_context(site=site), "v")
    sandbox.clear_requests()

    reply = await run(f"tag {session_id} vip")

    assert reply.ok and len(sandbox.requests) == 2  # whoami (first write) + apply_tag


async def test_sessions_complete_by_id_or_visitor_name(
    make_context, sandbox: SandboxServer
) -> None:  # type: ignore[no-untyped-def]
    newest = next(h for h in sandbox.state.handoffs if h.site_id == sandbox.site_a_id)
    first_name = (newest.visitor_name or "x").split()[0]
    site = SiteCache()

    by_id = await complete("session", make_context(site=site), newest.session_id[:6], limit=50)
    by_name = await complete("session", make_context(site=site), first_name.lower())

    assert by_id[0].value == newest.session_id
    assert newest.session_id in [c.value for c in by_name]
    assert all(len(c.label) <= 100 for c in by_id)
    assert sandbox.count(resource="handoffs") == 1


async def test_webhooks_complete_and_forget_after_a_change(
    run: Run, make_context, site: SiteCache, sandbox: SandboxServer
) -> None:  # type: ignore[no-untyped-def]
    assert await complete("webhook", make_context(site=site)) == []
    await run("webhooks add https://example.com/hook --events handoff --label CRM")

    choices = await complete("webhook", make_context(site=site), "cr")

    assert len(choices) == 1 and choices[0].label.endswith("· CRM · handoff")
    assert sandbox.count(method="GET", resource="webhook_subscriptions") == 2


async def test_api_failure_offers_nothing_instead_of_raising(
    make_context, sandbox: SandboxServer
) -> None:  # type: ignore[no-untyped-def]
    sandbox.inject_fault("502", count=5)

    async with MyLiveChatClient(
        sandbox.tokens.site_a_write, base_url=sandbox.url, backoff=0.01
    ) as client:
        choices = await complete("tag", make_context(client=client))

    assert choices == []
