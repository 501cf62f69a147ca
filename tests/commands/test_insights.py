"""usage, feedback, starters against the sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.mylivechat import MyLiveChatClient
from bot.sandbox import SandboxServer
from commands.reply import Failure, Kind

from .conftest import Run


@pytest.fixture
async def site_b(sandbox: SandboxServer) -> AsyncIterator[MyLiveChatClient]:
    async with MyLiveChatClient(sandbox.tokens.site_b_write, base_url=sandbox.url) as client:
        yield client


def _field(reply, name: str) -> str:  # type: ignore[no-untyped-def]
    return next(f.value for f in reply.fields if f.name == name)


async def test_usage_over_plan_warns_with_projection(run: Run, sandbox: SandboxServer) -> None:
    reply = await run("usage")

    assert reply.ok and reply.kind is Kind.WARNING
    assert reply.title == "AI usage: business plan"
    assert reply.progress is not None and reply.progress.total == 350_000
    assert 0.4 < reply.progress.ratio < 0.7
    assert "of 350,000 included replies used" in reply.text
    assert "replies over the plan" in reply.text
    assert "% of the plan)" in _field(reply, "Projected at cycle end")
    assert _field(reply, "Days left").endswith("days")
    assert _field(reply, "Cycle").endswith("UTC")
    assert sandbox.count(resource="usage") == 1


async def test_usage_under_plan_is_calm(run: Run, site_b: MyLiveChatClient) -> None:
    reply = await run("usage --public", client=site_b)

    assert reply.ok and reply.kind is Kind.INFO
    assert reply.title == "AI usage: pro plan"
    assert "over the plan" not in reply.text
    assert reply.private is False


async def test_usage_takes_no_arguments(run: Run) -> None:
    reply = await run("usage now")

    assert reply.failure is Failure.USAGE and "`usage` did not expect `now`" in reply.text


async def test_feedback_shows_average_distribution_and_recent_comments(
    run: Run, sandbox: SandboxServer
) -> None:
    rows = sorted(
        (f for f in sandbox.state.feedback if f.site_id == sandbox.site_a_id),
        key=lambda f: (f.created_utc, f.id),
        reverse=True,
    )[:50]
    average = sum(f.rating for f in rows) / len(rows)

    reply = await run("feedback")

    assert reply.ok and reply.title == f"Visitor feedback: {average:.1f} / 5"
    assert "from 50 ratings" in reply.text
    counts = {f.name: int(f.value.split()[-1]) for f in reply.fields}
    assert counts == {f"{s} ★": sum(1 for f in rows if f.rating == s) for s in range(1, 6)}
    assert reply.table is not None and 0 < len(reply.table.rows) <= 10
    newest_comment = next(f for f in rows if f.comment)
    assert reply.table.rows[0].cells[1] == newest_comment.comment


async def test_feedback_max_rating_keeps_only_unhappy_ones(run: Run) -> None:
    reply = await run("feedback --max-rating 2 --limit 200")

    assert reply.ok and reply.table is not None
    assert {row.cells[0] for row in reply.table.rows} <= {"1/5", "2/5"}
    assert all(int(f.value.split()[-1]) == 0 for f in reply.fields if f.name[0] in "345")
    assert "stars or fewer" in reply.text


async def test_feedback_rating_bound_is_a_usage_error(run: Run, sandbox: SandboxServer) -> None:
    reply = await run("feedback --max-rating 7")

    assert reply.failure is Failure.USAGE
    assert "--max-rating must be from 1 to 5, not 7" in reply.text
    assert len(sandbox.requests) == 0


async def test_feedback_misspelt_option_gets_did_you_mean(run: Run) -> None:
    reply = await run("feedback --max-ratings 2")

    assert reply.failure is Failure.USAGE
    assert "has no option `--max-ratings`. Did you mean `--max-rating`?" in reply.text


async def test_starters_lists_chips_in_order_with_state(run: Run) -> None:
    reply = await run("starters")

    assert reply.ok and reply.table is not None
    assert [r.cells[0] for r in reply.table.rows] == ["10", "20", "30", "40", "50"]
    assert reply.table.rows[-1].cells[2] == "no"
    assert reply.text == "4 of 5 starters shown to visitors."
