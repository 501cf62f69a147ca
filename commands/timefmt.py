"""Human times: "12 min ago", "in 3 days", short dates, clock times in a time zone."""

from __future__ import annotations

import math
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["ago", "clock_time", "days", "seconds", "short_datetime", "zone"]


def ago(when: datetime | None, now: datetime) -> str:
    """``when`` relative to ``now``: "just now", "12 min ago", "3 h ago", "2 days ago"."""
    if when is None:
        return "n/a"
    seconds = (now - when).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 45:
        return "just now"
    if seconds < 3600:
        amount = f"{round(seconds / 60)} min"
    elif seconds < 86400:
        amount = f"{round(seconds / 3600)} h"
    else:
        days = round(seconds / 86400)
        amount = f"{days} day" + ("s" if days != 1 else "")
    return f"in {amount}" if future else f"{amount} ago"


def short_datetime(when: datetime | None, tz: tzinfo | None = None) -> str:
    """``2026-04-25 10:00 UTC`` (in ``tz`` when given), or "n/a"."""
    if when is None:
        return "n/a"
    if tz is not None:
        when = when.astimezone(tz)
    return when.strftime("%Y-%m-%d %H:%M %Z").strip()


def clock_time(when: datetime | None, tz: tzinfo | None = None) -> str:
    """``14:05`` in ``tz`` (UTC by default), or "--:--"."""
    if when is None:
        return "--:--"
    return when.astimezone(tz or UTC).strftime("%H:%M")


def days(amount: float | None) -> str:
    """A number of days for people: "17 days", "1 day", "less than a day"."""
    if amount is None:
        return "n/a"
    if amount < 1:
        return "less than a day"
    whole = round(amount)
    return f"{whole} day" + ("s" if whole != 1 else "")


def seconds(amount: float) -> str:
    """A wait for people: ``40 s``, ``3 min``."""
    whole = max(math.ceil(amount), 1)
    return f"{whole} s" if whole < 120 else f"{math.ceil(whole / 60)} min"


def zone(name: str | None) -> tzinfo:
    """The named IANA time zone, or UTC when the name is empty or unknown."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC
