"""Figures derived from API data, shared by commands and digests."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from bot.mylivechat import Feedback, Usage

__all__ = ["FeedbackStats", "UsageFigures", "feedback_stats", "usage_figures"]


@dataclass(frozen=True, slots=True)
class UsageFigures:
    """AI replies in the billing cycle against the plan, and where the pace leads."""

    used: int | None
    included: int | None
    plan: str | None
    total: int | None
    cycle_start: datetime | None
    cycle_end: datetime | None
    days_left: float | None
    projected: int | None
    """Cycle replies at cycle end if the pace so far holds."""

    @property
    def percent(self) -> float | None:
        if self.used is None or not self.included:
            return None
        return 100.0 * self.used / self.included

    @property
    def projected_percent(self) -> float | None:
        if self.projected is None or not self.included:
            return None
        return 100.0 * self.projected / self.included

    @property
    def over_plan(self) -> bool:
        """True when the projection exceeds the included replies."""
        return bool(self.projected is not None and self.included and self.projected > self.included)


def usage_figures(usage: Usage, now: datetime) -> UsageFigures:
    start, end, used = usage.cycle_start_utc, usage.cycle_end_utc, usage.cycle_replies
    days_left = projected = None
    if start is not None and end is not None and end > start:
        days_left = max((end - now).total_seconds(), 0.0) / 86400
        elapsed = (min(now, end) - start).total_seconds()
        length = (end - start).total_seconds()
        if used is not None and elapsed > 0:
            projected = round(used * length / elapsed)
    return UsageFigures(
        used=used,
        included=usage.included_replies,
        plan=usage.plan_code,
        total=usage.total_replies,
        cycle_start=start,
        cycle_end=end,
        days_left=days_left,
        projected=projected,
    )


@dataclass(frozen=True, slots=True)
class FeedbackStats:
    count: int
    average: float | None
    distribution: dict[int, int] = field(default_factory=dict)
    """Ratings 1 to 5 and how many of each (every key present)."""
    lowest: tuple[Feedback, ...] = ()
    """Rows with a comment, lowest rating first, then newest first."""


def feedback_stats(rows: Iterable[Feedback]) -> FeedbackStats:
    rated = [r for r in rows if r.rating is not None and 1 <= r.rating <= 5]
    distribution = {star: 0 for star in range(1, 6)}
    for row in rated:
        distribution[row.rating] += 1  # type: ignore[index]
    average = sum(r.rating for r in rated) / len(rated) if rated else None  # type: ignore[misc]
    commented = [r for r in rated if r.comment and r.comment.strip()]
    commented.sort(key=lambda r: (r.rating, -(r.created_utc.timestamp() if r.created_utc else 0)))
    return FeedbackStats(
        count=len(rated), average=average, distribution=distribution, lowest=tuple(commented)
    )
