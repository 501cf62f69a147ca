"""What a digest says: usage and feedback as neutral replies, built with one API call each.

The figures come from :mod:`commands.metrics`, as in the ``usage`` and ``feedback``
commands. A snapshot of each posted digest is stored with its subscription so the next
one can say what changed since.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, NotRequired
from zoneinfo import ZoneInfo

from typing_extensions import TypedDict

from bot.mylivechat import Feedback, MyLiveChatClient, MyLiveChatError, Usage

from ..cache import CachedValue
from ..data import (
    Distribution,
    FeedbackData,
    Timestamp,
    UsageData,
    distribution,
    feedback_data,
    iso,
    ratio,
    usage_data,
)
from ..failures import api_error_reply
from ..metrics import FeedbackStats, feedback_stats, usage_figures
from ..numbers import percent
from ..reply import Field, Kind, Progress, Reply, Row, Table
from ..timefmt import days

__all__ = ["KINDS", "Digest", "DigestData", "DigestNowData", "build_digest", "failure_notice"]

KINDS = ("usage", "feedback")
FEEDBACK_LIMIT = 200  # the API's maximum page; one call
SHARED_FOR = 30.0
"""Seconds digests that run together share one read of the same figures."""


class DigestData:
    """What digests read from MyLiveChat, shared by the digests that run together.

    Many digests often fall on one minute (09:00 on weekdays); one ``GET usage`` and one
    ``GET feedback`` then serve them all instead of one call each against the token's
    rate limit. A failed read is not kept: the next digest tries again.
    """

    def __init__(
        self,
        api: MyLiveChatClient,
        *,
        shared_for: float = SHARED_FOR,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api = api
        self._usage: CachedValue[Usage] = CachedValue(shared_for, clock)
        self._feedback: CachedValue[list[Feedback]] = CachedValue(shared_for, clock)

    async def usage(self) -> Usage:
        return await self._usage.get(self.api.get_usage)

    async def feedback(self) -> list[Feedback]:
        async def fetch() -> list[Feedback]:
            return await self.api.list_feedback(limit=FEEDBACK_LIMIT)

        return await self._feedback.get(fetch)


LOWEST_SHOWN = 5


class UsageDigestData(TypedDict):
    usage: UsageData
    replies_since_previous: int | None
    """Cycle replies since the previous digest; null for a first digest or a new cycle."""
    new_cycle: bool
    """Whether a billing cycle began since the previous digest."""


class FeedbackDigestData(TypedDict):
    since_utc: Timestamp
    """The period covered: since the previous digest (a first one: one interval back)."""
    until_utc: Timestamp
    count: int
    average: float | None
    """2 decimals; null without ratings."""
    distribution: Distribution
    """How many ratings gave each number of stars, keys "1" to "5"."""
    count_before: int
    """Ratings in the period of the same length before."""
    average_before: float | None
    lowest: list[FeedbackData]
    """The lowest-rated commented ratings, lowest first, at most five."""
    partial: bool
    """Whether only the newest 200 ratings could be read, so counts may be low."""


class DigestNowData(TypedDict):
    kind: Literal["usage", "feedback"]
    usage: NotRequired[UsageDigestData]
    """Only for a usage digest."""
    feedback: NotRequired[FeedbackDigestData]
    """Only for a feedback digest."""


@dataclass(frozen=True, slots=True)
class Digest:
    reply: Reply
    snapshot: dict[str, Any]
    """Stored when the digest is posted; the next digest compares against it."""


async def build_digest(
    kind: str,
    source: MyLiveChatClient | DigestData,
    *,
    now: datetime,
    zone: ZoneInfo,
    previous: Mapping[str, Any] | None,
    window: timedelta,
) -> Digest:
    """Build one digest. ``previous`` is the last posted digest's snapshot (or None);
    ``window`` is how far back a first feedback digest looks. ``source`` is a client (a
    fresh read) or a :class:`DigestData` shared with other digests. Raises MyLiveChatError."""
    data = source if isinstance(source, DigestData) else DigestData(source, shared_for=0.0)
    if kind == "usage":
        return await usage_digest(data, now=now, previous=previous)
    if kind == "feedback":
        return await feedback_digest(data, now=now, zone=zone, previous=previous, window=window)
    raise ValueError(f"unknown digest kind {kind!r}")


def _instant(value: object) -> datetime | None:
    """A timestamp this module stored in a snapshot (ISO 8601 with offset)."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _number(value: int | None) -> str:
    return f"{value:,}" if value is not None else "n/a"


async def usage_digest(
    data: DigestData, *, now: datetime, previous: Mapping[str, Any] | None
) -> Digest:
    """1 call: GET usage (shared by the digests that run together)."""
    figures = usage_figures(await data.usage(), now)
    used, included = figures.used, figures.included
    share = f" ({percent(figures.percent)})" if figures.percent is not None else ""
    fields = [
        Field("Cycle replies", f"{_number(used)} of {_number(included)} included{share}"),
        Field("Since the previous digest", _change(figures.used, figures.cycle_start, previous)),
        Field("Days left in the cycle", days(figures.days_left)),
    ]
    if figures.projected is not None:
        projected = _number(figures.projected)
        if figures.projected_percent is not None:
            projected += f" ({percent(figures.projected_percent)} of the plan)"
        fields.append(Field("Projected at cycle end", projected))
    # The first line is what Slack shows in notifications.
    text = f"{_number(used)} AI replies so far this cycle{share}." if used is not None else ""
    kind = Kind.INFO
    if figures.over_plan and figures.projected is not None and included:
        kind = Kind.WARNING
        text = (
            f"At this pace the cycle ends near {figures.projected:,} AI replies, "
            f"{figures.projected - included:,} more than the {included:,} the plan includes."
        )
    plan = f" ({figures.plan} plan)" if figures.plan else ""
    progress = Progress(used or 0, included, label="Cycle replies") if included else None
    since, new_cycle = _replies_since(figures.used, figures.cycle_start, previous)
    data = DigestNowData(
        kind="usage",
        usage=UsageDigestData(
            usage=usage_data(figures), replies_since_previous=since, new_cycle=new_cycle
        ),
    )
    reply = Reply(
        title=f"Usage digest{plan}",
        text=text,
        progress=progress,
        fields=tuple(fields),
        kind=kind,
        private=False,
        data=data,
    )
    snapshot = {
        "kind": "usage",
        "at_utc": now.isoformat(),
        "cycle_replies": used,
        "cycle_start_utc": figures.cycle_start.isoformat() if figures.cycle_start else None,
    }
    return Digest(reply, snapshot)


def _replies_since(
    used: int | None, cycle_start: datetime | None, previous: Mapping[str, Any] | None
) -> tuple[int | None, bool]:
    """(cycle replies since the previous digest, whether a new cycle began since)."""
    if used is None or not previous or previous.get("cycle_replies") is None:
        return None, False
    before_start = _instant(previous.get("cycle_start_utc"))
    if cycle_start is not None and before_start is not None and cycle_start > before_start:
        return None, True
    return used - int(previous["cycle_replies"]), False


def _change(
    used: int | None, cycle_start: datetime | None, previous: Mapping[str, Any] | None
) -> str:
    if used is None:
        return "n/a"
    since, new_cycle = _replies_since(used, cycle_start, previous)
    if new_cycle:
        return f"a new cycle began; {used:,} replies in it so far"
    if since is None:
        return "n/a (first digest)"
    return f"{since:+,} replies"


async def feedback_digest(
    data: DigestData,
    *,
    now: datetime,
    zone: ZoneInfo,
    previous: Mapping[str, Any] | None,
    window: timedelta,
) -> Digest:
    """1 call: GET feedback?limit=200 (shared by the digests that run together), split
    locally into this period and the one before."""
    since = _instant((previous or {}).get("at_utc")) or now - window
    length = now - since
    rows = await data.feedback()
    current = [r for r in rows if _within(r, since, now)]
    before = [r for r in rows if _within(r, since - length, since)]
    stats, earlier = feedback_stats(current), feedback_stats(before)
    span = f"{_local(since, zone)} to {_local(now, zone)}"
    notes = [f"Ratings from {span}."]
    partial = len(rows) >= FEEDBACK_LIMIT and _oldest(rows) > since - length
    if partial:
        notes.append(f"Only the newest {FEEDBACK_LIMIT} ratings were read; counts may be low.")
    data = DigestNowData(
        kind="feedback",
        feedback=FeedbackDigestData(
            since_utc=iso(since),
            until_utc=iso(now),
            count=stats.count,
            average=ratio(stats.average),
            distribution=distribution(stats),
            count_before=earlier.count,
            average_before=ratio(earlier.average),
            lowest=[feedback_data(r) for r in stats.lowest[:LOWEST_SHOWN]],
            partial=partial,
        ),
    )
    snapshot = {
        "kind": "feedback",
        "at_utc": now.isoformat(),
        "count": stats.count,
        "average": stats.average,
    }
    if stats.count == 0:
        reply = Reply(
            title="Feedback digest",
            text="No visitor rated a chat since the previous digest.",
            notes=tuple(notes),
            private=False,
            data=data,
        )
        return Digest(reply, snapshot)
    fields = (
        Field("Ratings", f"{stats.count} ({_count_change(stats, earlier)})"),
        Field("Average", f"{stats.average:.2f} / 5 ({_average_change(stats, earlier)})"),
        Field("By rating", _distribution(stats), inline=False),
    )
    lowest = stats.lowest[:LOWEST_SHOWN]
    table = (
        Table(
            ("rating", "session", "lowest-rated comments"),
            tuple(Row((f"{r.rating}★", r.session_id or "n/a", r.comment or "")) for r in lowest),
        )
        if lowest
        else None
    )
    plural = "s" if stats.count != 1 else ""
    text = f"{stats.count} rating{plural} since the previous digest, averaging {stats.average:.2f}."
    if not lowest:
        text += " None of them came with a comment."
    low = stats.average is not None and stats.average < 3
    reply = Reply(
        title="Feedback digest",
        text=text,
        fields=fields,
        table=table,
        notes=tuple(notes),
        kind=Kind.WARNING if low else Kind.INFO,
        private=False,
        data=data,
    )
    return Digest(reply, snapshot)


def _within(row: Feedback, start: datetime, end: datetime) -> bool:
    return row.created_utc is not None and start < row.created_utc <= end


def _oldest(rows: list[Feedback]) -> datetime:
    stamps = [r.created_utc for r in rows if r.created_utc is not None]
    return min(stamps) if stamps else datetime.max.replace(tzinfo=ZoneInfo("UTC"))


def _local(when: datetime, zone: ZoneInfo) -> str:
    return when.astimezone(zone).strftime("%a %Y-%m-%d %H:%M %Z")


def _count_change(stats: FeedbackStats, earlier: FeedbackStats) -> str:
    return f"{stats.count - earlier.count:+d} on the period before"


def _average_change(stats: FeedbackStats, earlier: FeedbackStats) -> str:
    if stats.average is None or earlier.average is None:
        return "no ratings the period before"
    return f"{stats.average - earlier.average:+.2f} on the period before"


def _distribution(stats: FeedbackStats) -> str:
    peak = max(stats.distribution.values()) or 1
    lines = []
    for star in range(5, 0, -1):
        count = stats.distribution[star]
        bar = Progress(count, peak).bar(width=10)
        lines.append(f"{star}★ {bar} {count}")
    return "\n".join(lines)


def failure_notice(kind: str, exc: MyLiveChatError, next_run: str) -> Reply:
    """The short notice posted instead of a digest when MyLiveChat fails."""
    explained = api_error_reply(exc)
    what = explained.text.splitlines()[0]
    return Reply(
        title=f"The {kind} digest could not be prepared",
        text=f"{what} (error `{exc.code}`). It will be tried again at the next run, {next_run}.",
        kind=Kind.ERROR,
        request_id=exc.request_id,
        error_code=exc.code,
        private=False,
    )
