"""Schedules: friendly parsing, runs in each zone, and the DST change days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from commands.digests.schedule import (
    Schedule,
    ScheduleError,
    format_run,
    parse_days,
    parse_time,
    parse_timezone,
)

from .conftest import local


@pytest.mark.parametrize(
    ("typed", "stored"), [("9:00", "09:00"), ("09:05", "09:05"), ("23:59", "23:59")]
)
def test_times_are_24_hour_hh_mm(typed: str, stored: str) -> None:
    assert parse_time(typed) == stored


@pytest.mark.parametrize(
    ("typed", "hint"),
    [("9.30", "09:30"), ("0930", "09:30"), ("9am", "09:00"), ("5:30pm", "17:30"), ("24:00", None)],
)
def test_a_bad_time_shows_the_format_and_a_close_match(typed: str, hint: str | None) -> None:
    with pytest.raises(ScheduleError) as raised:
        parse_time(typed)
    message = str(raised.value)
    assert "HH:MM" in message and "09:00" in message
    if hint:
        assert f"Did you mean `{hint}`?" in message
    else:
        assert "Did you mean" not in message


def test_zones_match_regardless_of_case() -> None:
    assert parse_timezone("Europe/Berlin") == "Europe/Berlin"
    assert parse_timezone("america/new_york") == "America/New_York"
    assert parse_timezone("utc") == "UTC"


@pytest.mark.parametrize(
    ("typed", "suggested"),
    [
        ("Europe/Berln", "Europe/Berlin"),
        ("Berlin", "Europe/Berlin"),
        ("new york", "America/New_York"),
    ],
)
def test_a_misspelt_zone_gets_a_close_match(typed: str, suggested: str) -> None:
    with pytest.raises(ScheduleError) as raised:
        parse_timezone(typed)
    message = str(raised.value)
    assert "Area/City" in message
    assert f"`{suggested}`" in message.split("Did you mean", 1)[1]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("daily", "daily"),
        ("weekdays", "weekdays"),
        ("weekends", "weekends"),
        ("mon,wed,fri", "mon,wed,fri"),
        ("Friday, monday", "mon,fri"),
        ("mon-fri", "weekdays"),
        ("mon,tue,wed,thu,fri,sat,sun", "daily"),
    ],
)
def test_day_lists_are_normalised(typed: str, stored: str) -> None:
    assert parse_days(typed) == stored


def test_a_bad_day_shows_the_format_and_a_close_match() -> None:
    with pytest.raises(ScheduleError) as raised:
        parse_days("mon,wdnesday")
    message = str(raised.value)
    assert "daily, weekdays, weekends" in message and "`wed`" in message


def test_next_run_is_in_the_subscriptions_own_zone() -> None:
    weekdays = Schedule("09:00", "America/New_York", "weekdays")
    friday_noon = local("2026-04-24 12:00", "America/New_York")
    run = weekdays.next_run(friday_noon)
    assert run == local("2026-04-27 09:00", "America/New_York")  # Monday
    assert format_run(run, "America/New_York") == "Mon 2026-04-27 09:00 EDT"


def test_a_run_exactly_now_is_not_the_next_one() -> None:
    daily = Schedule("09:00", "UTC", "daily")
    assert daily.next_run(datetime(2026, 4, 22, 9, 0, tzinfo=UTC)) == datetime(
        2026, 4, 23, 9, 0, tzinfo=UTC
    )


def test_spring_forward_keeps_nine_oclock_and_the_hour_is_short() -> None:
    daily = Schedule("09:00", "Europe/Berlin", "daily")
    runs = daily.runs_between(
        local("2026-03-28 00:00", "Europe/Berlin"), local("2026-03-30 23:00", "Europe/Berlin")
    )
    assert [r.astimezone(UTC).hour for r in runs] == [8, 7, 7]  # CET, then CEST
    assert all(r.astimezone(daily.zone).hour == 9 for r in runs)
    due = daily.due_run(local("2026-03-29 09:30", "Europe/Berlin"))
    assert due is not None and due.period == "2026-03-29T09:00"
    assert due.interval == timedelta(hours=23) and not due.stale


def test_a_time_skipped_by_spring_forward_runs_once_an_hour_later() -> None:
    """02:30 does not exist in Berlin on 2026-03-29: the run is at 03:30 CEST, once."""
    early = Schedule("02:30", "Europe/Berlin", "daily")
    runs = early.runs_between(
        local("2026-03-28 00:00", "Europe/Berlin"), local("2026-03-30 12:00", "Europe/Berlin")
    )
    assert [early.period_key(r) for r in runs] == [
        "2026-03-28T02:30",
        "2026-03-29T02:30",
        "2026-03-30T02:30",
    ]
    change_day = runs[1].astimezone(UTC)
    assert change_day == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST on the wall
    assert change_day.astimezone(early.zone).strftime("%H:%M %Z") == "03:30 CEST"


def test_a_time_doubled_by_fall_back_is_one_period() -> None:
    """01:30 happens twice in New York on 2026-11-01; both fires share one period key."""
    night = Schedule("01:30", "America/New_York", "daily")
    trigger = night.trigger()
    first = trigger.get_next_fire_time(None, local("2026-11-01 00:00", "America/New_York"))
    second = trigger.get_next_fire_time(first, first)
    assert second - first == timedelta(0)  # same wall time ...
    assert second.astimezone(UTC) - first.astimezone(UTC) == timedelta(hours=1)  # ... an hour on
    assert night.period_key(first) == night.period_key(second) == "2026-11-01T01:30"
    runs = night.runs_between(
        local("2026-10-31 00:00", "America/New_York"), local("2026-11-02 12:00", "America/New_York")
    )
    assert len(runs) == 3
    after_first = first.astimezone(UTC) + timedelta(minutes=5)
    assert night.next_run(after_first) == local("2026-11-02 01:30", "America/New_York")


def test_staleness_is_measured_against_the_gap_to_the_previous_run() -> None:
    weekdays = Schedule("09:00", "UTC", "weekdays")
    monday_run = weekdays.due_run(datetime(2026, 4, 27, 9, 30, tzinfo=UTC))
    assert monday_run is not None and monday_run.interval == timedelta(days=3)  # since Friday
    friday_late = weekdays.due_run(datetime(2026, 4, 25, 10, 0, tzinfo=UTC))  # Saturday
    assert friday_late is not None and friday_late.period == "2026-04-24T09:00"
    assert friday_late.interval == timedelta(days=1) and friday_late.stale
