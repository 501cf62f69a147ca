"""usage, feedback, starters."""

from __future__ import annotations

from dataclasses import dataclass

from typing_extensions import TypedDict

from commands.context import Context
from commands.data import (
    Distribution,
    FeedbackData,
    UsageData,
    distribution,
    feedback_data,
    ratio,
    usage_data,
)
from commands.formatting import clip, count, na, number, yes_no
from commands.metrics import feedback_stats, usage_figures
from commands.numbers import percent
from commands.params import limit_param
from commands.reply import Field, Kind, Progress, Reply, Table
from commands.spec import Param, ParamType, command
from commands.timefmt import ago, days, short_datetime

LIMIT_DEFAULT = 50
COMMENTS_DEFAULT = 10
COMMENTS_MAX = 50


class FeedbackReplyData(TypedDict):
    ratings_read: int
    """How many of the newest ratings were looked at (at most --limit)."""
    all_ratings: bool
    """Whether those are all the site has."""
    max_rating: int | None
    """The --max-rating asked for."""
    count: int
    """Ratings with a score (1-5) among them, up to max_rating."""
    average: float | None
    """Their average (2 decimals); null when there are none."""
    distribution: Distribution
    """How many of those ratings gave each number of stars, keys "1" to "5"."""
    comments: list[FeedbackData]
    """The newest commented ratings, at most --comments."""
    comments_not_shown: int


class StarterData(TypedDict):
    id: int | None
    text: str | None
    enabled: bool | None
    sort_order: int | None


class StartersData(TypedDict):
    starters: list[StarterData]
    """In the order visitors see them."""
    shown: int
    """How many are shown to visitors."""


@command(
    "usage",
    help="AI replies this billing cycle against the plan, and where the current pace leads.",
    examples=["usage", "usage --public"],
    public=True,
    cost="1 call: GET usage",
    data=UsageData,
)
async def usage(ctx: Context) -> Reply:
    figures = usage_figures(await ctx.api.get_usage(), ctx.now())
    tz = ctx.zone()
    share = f" ({percent(figures.percent)})" if figures.percent is not None else ""
    text = f"{number(figures.used)} of {number(figures.included)} included replies used{share}."
    projected = number(figures.projected)
    if figures.projected_percent is not None:
        projected += f" ({percent(figures.projected_percent)} of the plan)"
    fields = (
        Field("Plan", na(figures.plan)),
        Field(
            "Cycle",
            f"{short_datetime(figures.cycle_start, tz)} to {short_datetime(figures.cycle_end, tz)}",
            inline=False,
        ),
        Field("Days left", days(figures.days_left)),
        Field("Projected at cycle end", projected),
        Field("Replies all time", number(figures.total)),
    )
    kind = Kind.INFO
    notes: tuple[str, ...] = ()
    if figures.over_plan:
        kind = Kind.WARNING
        over = (figures.projected or 0) - (figures.included or 0)
        text += (
            f"\nAt this pace the cycle ends near {projected}: about {number(over)} replies "
            "over the plan."
        )
        notes = ("Consider a larger plan before the cycle ends, or watch `usage` daily.",)
    progress = None
    if figures.used is not None and figures.included:
        progress = Progress(figures.used, figures.included, label="This cycle")
    return Reply(
        title=f"AI usage: {figures.plan} plan" if figures.plan else "AI usage",
        text=text,
        progress=progress,
        fields=fields,
        kind=kind,
        notes=notes,
        data=usage_data(figures),
    )


@command(
    "feedback",
    help="Visitor ratings: the average, how the 1-5 ratings spread, and recent comments.",
    examples=["feedback", "feedback --max-rating 2 --limit 200", "feedback --comments 30"],
    params=[
        limit_param("how many recent ratings to look at", LIMIT_DEFAULT),
        Param(
            "max_rating",
            ParamType.INTEGER,
            "only ratings up to this many stars (2 shows the unhappy ones)",
            min=1,
            max=5,
            metavar="N",
        ),
        Param(
            "comments",
            ParamType.INTEGER,
            "how many of the newest comments to list",
            default=COMMENTS_DEFAULT,
            min=1,
            max=COMMENTS_MAX,
            metavar="N",
        ),
    ],
    public=True,
    cost="1 call: GET feedback",
    data=FeedbackReplyData,
)
async def feedback(
    ctx: Context,
    limit: int = LIMIT_DEFAULT,
    max_rating: int | None = None,
    comments: int = COMMENTS_DEFAULT,
) -> Reply:
    rows = await ctx.api.list_feedback(limit=limit)
    window = _Window(len(rows), every=len(rows) < limit)  # fewer than asked: all there are
    stars = "1 star" if max_rating == 1 else f"{max_rating} stars or fewer"
    if max_rating is not None:
        rows = [r for r in rows if r.rating is not None and r.rating <= max_rating]
    stats = feedback_stats(rows)
    commented = [r for r in rows if r.comment and r.comment.strip() and r.rating is not None]
    data = FeedbackReplyData(
        ratings_read=window.size,
        all_ratings=window.every,
        max_rating=max_rating,
        count=stats.count,
        average=ratio(stats.average),
        distribution=distribution(stats),
        comments=[feedback_data(r) for r in commented[:comments]],
        comments_not_shown=max(len(commented) - comments, 0),
    )
    if stats.count == 0:
        if window.size == 0:
            text = "No visitor has rated a chat yet."
        elif max_rating is not None:
            text = f"No rating among {window.bare} is {stars}."
        else:
            text = f"None of {window.ratings} has a score."
        return Reply(title="No feedback", text=text, data=data)
    average = f"{stats.average:.1f}" if stats.average is not None else "n/a"
    if max_rating is not None:
        text = (
            f"Average {average} from {count(stats.count, 'rating')} of {stars},"
            f" among {window.bare}."
        )
    elif stats.count < len(rows):
        unscored = len(rows) - stats.count
        text = (
            f"Average {average} from {stats.count:,} of {window.ratings};"
            f" {unscored:,} had no score."
        )
    else:
        text = f"Average {average} from {window.ratings}."
    spread = stats.distribution
    fields = tuple(
        Field(f"{star} ★", f"{_bar(spread[star], stats.count)} {spread[star]}")
        for star in range(5, 0, -1)
    )
    now = ctx.now()
    table = Table.of(
        ["rating", "comment", "session", "when"],
        [
            [f"{r.rating}/5", clip(r.comment, 120), na(r.session_id), ago(r.created_utc, now)]
            for r in commented[:comments]
        ],
    )
    notes: list[str] = []
    hidden = len(commented) - comments
    if hidden > 0:
        older = count(hidden, "older comment")
        if comments < COMMENTS_MAX:
            more = min(len(commented), COMMENTS_MAX)
            shows = f"all {more}" if more == len(commented) else f"the newest {more}"
            again = _feedback_text(limit, max_rating, more)
            notes.append(f"{older} not shown: `{again}` lists {shows}.")
        else:
            notes.append(f"{older} not shown (at most {COMMENTS_MAX} are listed).")
    if max_rating is None:
        notes.append("`feedback --max-rating 2` shows only the unhappy ones.")
    return Reply(
        title=f"Visitor feedback: {average} / 5",
        text=text,
        fields=fields,
        table=table if commented else None,
        notes=tuple(notes),
        data=data,
    )


@dataclass(frozen=True, slots=True)
class _Window:
    """The ratings ``feedback`` looked at: the newest ``size``, or ``every`` one there is."""

    size: int
    every: bool

    @property
    def ratings(self) -> str:
        """ "the last 50 ratings", "all 60 ratings", "the only rating"."""
        if self.size == 1:
            return "the only rating" if self.every else "the last rating"
        return f"all {self.size:,} ratings" if self.every else f"the last {self.size:,} ratings"

    @property
    def bare(self) -> str:
        """ "the last 50", "all 60", "the only one"."""
        if self.size == 1:
            return "the only one" if self.every else "the last one"
        return f"all {self.size:,}" if self.every else f"the last {self.size:,}"


def _feedback_text(limit: int, max_rating: int | None, comments: int) -> str:
    """The ``feedback`` command text for these values (defaults left out)."""
    words = ["feedback"]
    if max_rating is not None:
        words.append(f"--max-rating {max_rating}")
    if limit != LIMIT_DEFAULT:
        words.append(f"--limit {limit}")
    if comments != COMMENTS_DEFAULT:
        words.append(f"--comments {comments}")
    return " ".join(words)


def _bar(amount: int, total: int, width: int = 12) -> str:
    return Progress(amount, total).bar(width)


@command(
    "starters",
    help="The conversation starters visitors see above the chat input.",
    examples=["starters"],
    cost="1 call: GET conversation_starters",
    data=StartersData,
)
async def starters(ctx: Context) -> Reply:
    rows = await ctx.api.list_conversation_starters()
    if not rows:
        return Reply(
            title="No conversation starters",
            text="This site shows no starter chips.",
            data=StartersData(starters=[], shown=0),
        )
    ordered = sorted(rows, key=lambda s: (s.sort_order is None, s.sort_order or 0))
    table = Table.of(
        ["order", "text", "shown"],
        [[na(s.sort_order), clip(s.text, 80), yes_no(s.enabled)] for s in ordered],
    )
    shown = sum(1 for s in rows if s.enabled is not False)
    return Reply(
        title="Conversation starters",
        text=f"{shown} of {count(len(rows), 'starter')} shown to visitors.",
        table=table,
        data=StartersData(
            starters=[
                StarterData(id=s.id, text=s.text, enabled=s.enabled, sort_order=s.sort_order)
                for s in ordered
            ],
            shown=shown,
        ),
    )
