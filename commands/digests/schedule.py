"""When a digest runs: parsing ``--at``/``--tz``/``--days``, and its runs in its own zone.

Run times come from APScheduler's ``CronTrigger`` in the subscription's zone, so what
the scheduler fires and what catch-up and ``digest list`` compute always agree. On the
spring-forward day a time that does not exist (02:30 in Europe/Berlin) fires once, an
hour later in wall time (03:30 CEST); on the fall-back day a time that happens twice
(01:30 in America/New_York) fires twice, and the period key (the local date and time)
makes the second one a duplicate that is never sent.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Protocol

from ..suggest import close_matches

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger

__all__ = [
    "DAY_NAMES",
    "DueRun",
    "Schedule",
    "ScheduleError",
    "format_run",
    "parse_days",
    "parse_time",
    "parse_timezone",
]

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PRESETS = {
    "daily": DAY_NAMES,
    "weekdays": DAY_NAMES[:5],
    "weekends": DAY_NAMES[5:],
}
_DAY_ALIASES = {
    "monday": "mon",
    "tuesday": "tue",
    "tues": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "thur": "thu",
    "thurs": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
    "everyday": "daily",
    "weekday": "weekdays",
    "weekend": "weekends",
}
_TIME = re.compile(r"^([0-9]{1,2}):([0-9]{2})$")
_LOOSE_TIME = re.compile(r"^([0-9]{1,2})(?:[.:h]([0-9]{2}))?\s*(am|pm)?$", re.I)
_COMPACT_TIME = re.compile(r"^([0-9]{2})([0-9]{2})$")
DAYS_FORMAT = "daily, weekdays, weekends, or days like mon,wed,fri"


class ScheduleError(ValueError):
    """A time, zone or day list that cannot be used; the message says what to type."""


def parse_time(text: str) -> str:
    """``9:00`` or ``09:00`` (24-hour) as ``"09:00"``."""
    cleaned = text.strip()
    match = _TIME.match(cleaned)
    if match and _valid(int(match.group(1)), int(match.group(2))):
        return f"{int(match.group(1)):02d}:{match.group(2)}"
    guess = _guess_time(cleaned)
    hint = f" Did you mean `{guess}`?" if guess else ""
    raise ScheduleError(f"`{text}` is not a time. Use 24-hour HH:MM, e.g. 09:00 or 17:30.{hint}")


def _valid(hour: int, minute: int) -> bool:
    return 0 <= hour <= 23 and 0 <= minute <= 59


def _guess_time(text: str) -> str | None:
    """The HH:MM someone probably meant by ``9.30``, ``0930``, ``9am`` or ``5:30pm``."""
    compact = _COMPACT_TIME.match(text)
    if compact:
        hour, minute = int(compact.group(1)), int(compact.group(2))
        return f"{hour:02d}:{minute:02d}" if _valid(hour, minute) else None
    loose = _LOOSE_TIME.match(text)
    if not loose:
        return None
    hour, minute = int(loose.group(1)), int(loose.group(2) or 0)
    meridiem = (loose.group(3) or "").lower()
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    elif loose.group(2) is None:
        return None  # a bare number is too vague to guess from
    return f"{hour:02d}:{minute:02d}" if _valid(hour, minute) else None


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def parse_timezone(text: str) -> str:
    """An IANA zone name (``Europe/Berlin``), matched without regard to case."""
    cleaned = text.strip().replace(" ", "_")
    zones = _zones()
    if cleaned in zones:
        return cleaned
    by_lower = {z.lower(): z for z in zones}
    if cleaned.lower() in by_lower:
        return by_lower[cleaned.lower()]
    hits = close_matches(cleaned, zones)
    if not hits:
        # "Berlin" or "new york": match the city part of each zone.
        cities: dict[str, str] = {}
        for zone in sorted(zones):
            cities.setdefault(zone.rsplit("/", 1)[-1].lower(), zone)
        hits = [cities[c] for c in close_matches(cleaned.lower(), cities)]
    hint = (" Did you mean " + " or ".join(f"`{h}`" for h in hits) + "?") if hits else ""
    raise ScheduleError(
        f"`{text}` is not a time zone. Use an Area/City name such as Europe/Berlin, "
        f"America/New_York or UTC.{hint}"
    )


def parse_days(text: str) -> str:
    """``daily``, ``weekdays``, ``weekends``, or a day list in week order (``mon,wed``)."""
    words = [w.strip().lower() for w in re.split(r"[,\s]+", text.strip()) if w.strip()]
    if not words:
        raise ScheduleError(f"--days needs {DAYS_FORMAT}.")
    chosen: set[str] = set()
    for word in words:
        word = _DAY_ALIASES.get(word, word)
        if word in _PRESETS:
            chosen.update(_PRESETS[word])
        elif word in DAY_NAMES:
            chosen.add(word)
        elif "-" in word and all(part in DAY_NAMES for part in word.split("-", 1)):
            first, last = (DAY_NAMES.index(p) for p in word.split("-", 1))
            if first > last:
                raise ScheduleError(
                    f"`{word}` runs backwards; write it as a list, e.g. fri,sat,sun."
                )
            chosen.update(DAY_NAMES[first : last + 1])
        else:
            known = [*_PRESETS, *DAY_NAMES, *_DAY_ALIASES]
            hits = [_DAY_ALIASES.get(h, h) for h in close_matches(word, known)]
            hint = (" Did you mean `" + "` or `".join(dict.fromkeys(hits)) + "`?") if hits else ""
            raise ScheduleError(f"`{word}` is not a day. --days takes {DAYS_FORMAT}.{hint}")
    ordered = tuple(d for d in DAY_NAMES if d in chosen)
    for name, preset in _PRESETS.items():
        if ordered == preset:
            return name
    return ",".join(ordered)


def format_run(run: datetime, zone_name: str) -> str:
    """``Mon 2026-03-30 09:00 CEST``: a run in its own zone."""
    return run.astimezone(zoneinfo.ZoneInfo(zone_name)).strftime("%a %Y-%m-%d %H:%M %Z")


class _HasSchedule(Protocol):
    at_time: str
    timezone: str
    days: str


@dataclass(frozen=True, slots=True)
class DueRun:
    """The most recent run at or before "now", and whether it is too old to send."""

    run: datetime
    """The scheduled instant (aware, in the subscription's zone)."""
    period: str
    """The key that makes the run unique: its local date and the subscription's time."""
    interval: timedelta
    """The time since the run before it: a digest older than this is stale."""
    age: timedelta

    @property
    def stale(self) -> bool:
        return self.age >= self.interval


@dataclass(frozen=True, slots=True)
class Schedule:
    """A validated schedule: ``at_time`` "HH:MM", an IANA ``timezone``, a ``days`` spec."""

    at_time: str
    timezone: str
    days: str

    @classmethod
    def of(cls, subscription: _HasSchedule) -> Schedule:
        """The schedule of a stored subscription."""
        return cls(subscription.at_time, subscription.timezone, subscription.days)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def day_names(self) -> tuple[str, ...]:
        return _PRESETS.get(self.days) or tuple(self.days.split(","))

    def describe(self) -> str:
        """``weekdays at 09:00 Europe/Berlin``."""
        return f"{self.days} at {self.at_time} {self.timezone}"

    def trigger(self) -> CronTrigger:
        from apscheduler.triggers.cron import CronTrigger

        hour, minute = self.at_time.split(":")
        return CronTrigger(
            day_of_week=",".join(self.day_names),
            hour=int(hour),
            minute=int(minute),
            timezone=self.zone,
        )

    def period_key(self, run: datetime) -> str:
        """``2026-03-29T09:00``: one key per local day, whatever DST does to the wall clock."""
        return f"{run.astimezone(self.zone).date().isoformat()}T{self.at_time}"

    def next_run(self, now: datetime) -> datetime:
        """The first run after ``now`` (aware, in the zone) that is a new period."""
        trigger = self.trigger()
        now_utc = now.astimezone(UTC)
        start = (now_utc - timedelta(days=1)).astimezone(self.zone)
        run = trigger.get_next_fire_time(None, start)
        done: str | None = None
        while run is not None:
            if run.astimezone(UTC) > now_utc and self.period_key(run) != done:
                return run
            if run.astimezone(UTC) <= now_utc:
                done = self.period_key(run)
            run = trigger.get_next_fire_time(run, run)
        raise AssertionError("a weekly cron schedule always has a next run")

    def runs_between(self, start: datetime, end: datetime) -> list[datetime]:
        """Runs in ``[start, end]``, one per local day (a doubled fall-back hour counts once)."""
        trigger = self.trigger()
        runs: list[datetime] = []
        seen: set[str] = set()
        run = trigger.get_next_fire_time(None, start.astimezone(self.zone))
        while run is not None and run.astimezone(UTC) <= end.astimezone(UTC):
            key = self.period_key(run)
            if key not in seen:
                seen.add(key)
                runs.append(run)
            run = trigger.get_next_fire_time(run, run)
        return runs

    def due_run(self, now: datetime) -> DueRun | None:
        """The latest run at or before ``now``, with the interval that decides staleness."""
        # Two weeks back always holds two runs of a weekly schedule.
        runs = self.runs_between(now - timedelta(days=15), now)
        if not runs:
            return None
        run = runs[-1]
        # Aware datetimes in one zone subtract by wall clock; UTC gives the real gap.
        run_utc = run.astimezone(UTC)
        interval = run_utc - runs[-2].astimezone(UTC) if len(runs) > 1 else timedelta(days=7)
        age = now.astimezone(UTC) - run_utc
        return DueRun(run=run, period=self.period_key(run), interval=interval, age=age)

    def interval_before(self, now: datetime) -> timedelta:
        """The gap between the last two runs: the window a first digest covers."""
        due = self.due_run(now)
        return due.interval if due else timedelta(days=1)
