"""Human times: "12 min ago", "in 3 days", short dates."""

from __future__ import annotations

from datetime import datetime

__all__ = ["ago", "short_datetime"]


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


def short_datetime(when: datetime | None) -> str:
    """``2026-04-25 10:00 UTC``, or "n/a"."""
    return when.strftime("%Y-%m-%d %H:%M %Z").strip() if when else "n/a"
