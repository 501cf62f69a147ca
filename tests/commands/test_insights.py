"""usage, feedback, starters against the sandbox."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.slack.blocks import render_blocks
from bot.mylivechat import MyLiveChatClient
from bot.sandbox import SandboxServer
from commands.digests.content import build_digest
from commands.render import render_text
from commands.reply import Failure, Kind, Reply

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
    assert reply.text == f"Average {average:.1f} from the last 50 ratings."
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


def _site_a_feedback(sandbox: SandboxServer) -> list:  # type: ignore[type-arg]
    rows = [f for f in sandbox.state.feedback if f.site_id == sandbox.site_a_id]
    return sorted(rows, key=lambda f: (f.created_utc, f.id), reverse=True)


async def test_feedback_says_what_it_averaged_in_one_plain_sentence(
    run: Run, sandbox: SandboxServer
) -> None:
    last_50 = _site_a_feedback(sandbox)[:50]
    unhappy = [f.rating for f in last_50 if f.rating <= 2]

    reply = await run("feedback --max-rating 2")

    average = sum(unhappy) / len(unhappy)
    assert reply.text == (
        f"Average {average:.1f} from {len(unhappy)} ratings of 2 stars or fewer, among the last 50."
    )


async def test_feedback_over_every_rating_there_is_says_all(
    run: Run, sandbox: SandboxServer
) -> None:
    every = _site_a_feedback(sandbox)
    assert 50 < len(every) < 200

    reply = await run("feedback --limit 200")
    unhappy = await run("feedback --limit 200 --max-rating 1")

    assert reply.text.endswith(f"from all {len(every)} ratings.")
    assert unhappy.text.endswith(f"of 1 star, among all {len(every)}.")


async def test_feedback_says_how_to_list_the_comments_it_left_out(
    run: Run, sandbox: SandboxServer
) -> None:
    commented = [f for f in _site_a_feedback(sandbox)[:50] if f.comment]
    assert len(commented) > 10

    reply = await run("feedback")
    suggested = f"feedback --comments {len(commented)}"
    everything = await run(suggested)

    assert f"{len(commented) - 10} older comments not shown: `{suggested}` lists all" in " ".join(
        reply.notes
    )
    assert everything.table is not None and len(everything.table.rows) == len(commented)
    assert not any("not shown" in note for note in everything.notes)


async def test_feedback_suggestion_keeps_the_options_typed(run: Run) -> None:
    reply = await run("feedback --limit 200 --comments 3")

    note = next(n for n in reply.notes if "not shown" in n)
    assert "`feedback --limit 200 --comments " in note


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


class _HalfAndABit:
    """A usage rollup of exactly 50.5% of the plan: 505 of 1,000 replies."""

    def to_api(self, now: datetime) -> dict[str, Any]:
        start = now - timedelta(days=10)
        return {
            "total_replies": 9_000,
            "cycle_replies": 505,
            "plan_code": "pro",
            "included_replies": 1_000,
            "cycle_start_utc": start.isoformat(),
            "cycle_end_utc": (start + timedelta(days=30)).isoformat(),
        }


def _percentages(text: str) -> set[str]:
    return set(re.findall(r"[0-9.,]+%", text))


def _slack_text(reply: Reply) -> str:
    return str(render_blocks(reply))


async def test_one_figure_reads_the_same_on_the_bar_and_in_the_text(
    run: Run, sandbox: SandboxServer, api: MyLiveChatClient
) -> None:
    sandbox.state.usage[sandbox.site_a_id] = _HalfAndABit()  # type: ignore[assignment]

    usage = await run("usage")
    digest = await build_digest(
        "usage", api, now=datetime.now(UTC), zone=UTC, previous=None, window=timedelta(days=1)
    )

    for reply in (usage, digest.reply):
        shown = render_text(reply)
        # The share (51%) and the projection (152% of the plan): nothing else, each once.
        assert _percentages(shown) == {"51%", "152%"}, shown
        assert "50.5%" not in shown and "50%" not in shown
        assert {"51%", "152%"} <= _percentages(_slack_text(reply))
        assert "50.5%" not in _slack_text(reply) and "50%" not in _slack_text(reply)
    assert "505 of 1,000 included replies used (51%)." in usage.text
    assert _field(digest.reply, "Days left in the cycle") == _field(usage, "Days left")
