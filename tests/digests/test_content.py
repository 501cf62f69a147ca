"""Digest content against the sandbox's seeded data, one API call each."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.mylivechat import MyLiveChatClient, ServerError
from bot.sandbox import SandboxServer
from commands.digests.content import DigestData, build_digest, failure_notice
from commands.metrics import feedback_stats, usage_figures
from commands.numbers import percent
from commands.reply import Kind, Reply
from commands.timefmt import days

from .conftest import SANDBOX_NOW

BERLIN = ZoneInfo("Europe/Berlin")


def field(reply: Reply, name: str) -> str:
    return next(f.value for f in reply.fields if f.name == name)


async def test_usage_digest_matches_the_api_and_warns_when_the_pace_exceeds_the_plan(
    site: SandboxServer, site_api: MyLiveChatClient
) -> None:
    digest = await build_digest(
        "usage", site_api, now=SANDBOX_NOW, zone=BERLIN, previous=None, window=timedelta(days=1)
    )
    assert site.count(resource="usage") == 1 and len(site.requests) == 1
    figures = usage_figures(await site_api.get_usage(), SANDBOX_NOW)
    reply = digest.reply
    used = digest.snapshot["cycle_replies"]
    assert abs(used - figures.used) <= 2  # the sandbox's replies accrue every few seconds
    assert field(reply, "Cycle replies").startswith(f"{used:,} of 350,000 included (")
    assert reply.progress is not None and reply.progress.total == 350_000
    assert field(reply, "Since the previous digest") == "n/a (first digest)"
    assert field(reply, "Days left in the cycle") == days(figures.days_left)
    assert figures.projected is not None and figures.projected > 350_000
    assert field(reply, "Projected at cycle end").startswith(f"{figures.projected:,} (")
    assert reply.kind is Kind.WARNING and "more than the 350,000 the plan includes" in reply.text
    assert not reply.private


async def test_usage_digest_reports_the_change_since_the_previous_one(
    site: SandboxServer, site_api: MyLiveChatClient
) -> None:
    first = await build_digest(
        "usage", site_api, now=SANDBOX_NOW, zone=BERLIN, previous=None, window=timedelta(days=1)
    )
    site.advance_time(86400)
    second = await build_digest(
        "usage",
        site_api,
        now=SANDBOX_NOW + timedelta(days=1),
        zone=BERLIN,
        previous=first.snapshot,
        window=timedelta(days=1),
    )
    delta = second.snapshot["cycle_replies"] - first.snapshot["cycle_replies"]
    assert delta > 14_000  # 0.17 replies a second for a day
    assert field(second.reply, "Since the previous digest") == f"{delta:+,} replies"

    older_cycle = dict(first.snapshot, cycle_start_utc="2026-03-01T00:00:00+00:00")
    third = await build_digest(
        "usage", site_api, now=SANDBOX_NOW, zone=BERLIN, previous=older_cycle, window=timedelta(1)
    )
    assert field(third.reply, "Since the previous digest").startswith("a new cycle began")


async def test_a_site_within_its_plan_gets_no_warning(site: SandboxServer) -> None:
    async with MyLiveChatClient(site.tokens.site_b_read, base_url=site.url) as api:
        digest = await build_digest(
            "usage", api, now=SANDBOX_NOW, zone=BERLIN, previous=None, window=timedelta(days=1)
        )
    assert digest.reply.kind is Kind.INFO
    used = digest.snapshot["cycle_replies"]
    share = percent(100.0 * used / 50_000)
    assert digest.reply.text == f"{used:,} AI replies so far this cycle ({share})."
    assert "(pro plan)" in digest.reply.title


async def test_feedback_digest_counts_the_period_and_the_one_before_from_one_call(
    site: SandboxServer, site_api: MyLiveChatClient
) -> None:
    window = timedelta(days=7)
    digest = await build_digest(
        "feedback", site_api, now=SANDBOX_NOW, zone=BERLIN, previous=None, window=window
    )
    [call] = site.requests
    assert (call.method, call.resource, call.query.get("limit")) == ("GET", "feedback", "200")

    rows = await site_api.list_feedback(limit=200)
    start = SANDBOX_NOW - window
    current = [r for r in rows if start < r.created_utc <= SANDBOX_NOW]
    before = [r for r in rows if start - window < r.created_utc <= start]
    stats, earlier = feedback_stats(current), feedback_stats(before)
    assert stats.count > 5 and earlier.count > 0
    reply = digest.reply
    change = stats.count - earlier.count
    assert field(reply, "Ratings") == f"{stats.count} ({change:+d} on the period before)"
    assert field(reply, "Average").startswith(f"{stats.average:.2f} / 5 (")
    assert f"{stats.average - earlier.average:+.2f} on the period before" in field(reply, "Average")
    by_rating = field(reply, "By rating").splitlines()
    assert [line.split()[0] for line in by_rating] == ["5★", "4★", "3★", "2★", "1★"]
    assert [int(line.split()[-1]) for line in by_rating] == [
        stats.distribution[s] for s in range(5, 0, -1)
    ]
    assert reply.table is not None
    lowest = stats.lowest[:5]
    assert [row.cells for row in reply.table.rows] == [
        (f"{r.rating}★", r.session_id, r.comment) for r in lowest
    ]
    assert "Ratings from Wed 2026-04-15 12:00 CEST to Wed 2026-04-22 12:00 CEST." in reply.notes
    assert digest.snapshot["count"] == stats.count


async def test_feedback_digest_says_so_plainly_when_nobody_rated(
    site_api: MyLiveChatClient,
) -> None:
    previous = {"kind": "feedback", "at_utc": (SANDBOX_NOW - timedelta(minutes=1)).isoformat()}
    digest = await build_digest(
        "feedback", site_api, now=SANDBOX_NOW, zone=BERLIN, previous=previous, window=timedelta(1)
    )
    assert digest.reply.text == "No visitor rated a chat since the previous digest."
    assert digest.reply.table is None and not digest.reply.fields
    assert digest.snapshot["count"] == 0


def test_the_failure_notice_is_short_and_carries_code_and_request_id() -> None:
    error = ServerError("boom", code="internal_error", status=500, request_id="req_42")
    notice = failure_notice("usage", error, "Thu 2026-04-23 09:00 CEST")
    assert notice.request_id == "req_42" and notice.error_code == "internal_error"
    assert notice.title == "The usage digest could not be prepared"
    assert "`internal_error`" in notice.text
    assert "next run, Thu 2026-04-23 09:00 CEST" in notice.text
    assert notice.kind is Kind.ERROR


async def test_digests_that_run_together_share_one_read_of_each_kind(
    site: SandboxServer, site_api: MyLiveChatClient
) -> None:
    shared = DigestData(site_api)
    for kind in ("usage", "usage", "feedback", "feedback", "usage"):
        await build_digest(
            kind, shared, now=SANDBOX_NOW, zone=BERLIN, previous=None, window=timedelta(days=1)
        )
    assert site.count(resource="usage") == 1
    assert site.count(resource="feedback") == 1


async def test_a_failed_shared_read_is_not_kept(
    site: SandboxServer, site_api: MyLiveChatClient
) -> None:
    shared = DigestData(site_api)
    site_api.max_retries = 0
    site.inject_fault("500", count=1)
    with pytest.raises(ServerError):
        await build_digest(
            "usage", shared, now=SANDBOX_NOW, zone=BERLIN, previous=None, window=timedelta(days=1)
        )
    digest = await build_digest(
        "usage", shared, now=SANDBOX_NOW, zone=BERLIN, previous=None, window=timedelta(days=1)
    )
    assert digest.snapshot["cycle_replies"] is not None
    assert site.count(resource="usage") == 2
