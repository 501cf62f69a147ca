"""digest add, list, remove, pause, resume, now: scheduled digests of a channel."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, TypeVar

from typing_extensions import TypedDict

from commands.context import Context
from commands.data import Format, Timestamp, iso
from commands.digests.content import KINDS, DigestNowData
from commands.digests.schedule import (
    Schedule,
    ScheduleError,
    format_run,
    parse_days,
    parse_time,
    parse_timezone,
)
from commands.digests.service import DigestService
from commands.digests.store import StorageUnavailable, Subscription
from commands.errors import CommandError, UsageError
from commands.formatting import channel_ref
from commands.params import id_param
from commands.place import Place
from commands.reply import Action, Field, Kind, Reply, Row, Table
from commands.spec import Param, ParamType, Permission, command

T = TypeVar("T")

_KIND = Param(
    "kind",
    ParamType.CHOICE,
    "which digest: usage (AI replies against the plan) or feedback (visitor ratings)",
    positional=True,
    required=True,
    choices=KINDS,
)
_ID = id_param("the digest's number, from `digest list`")
_NO_CALL = "no API call (the bot's database only)"

HourMinute = Annotated[str, Format("HH:MM, 24-hour", r"^[0-2][0-9]:[0-5][0-9]$")]


class ScheduledDigestData(TypedDict):
    id: int
    kind: str
    """usage or feedback."""
    platform: str
    """slack, discord or console."""
    workspace_id: str | None
    channel_id: str
    at: HourMinute
    """The local time of day it is posted."""
    timezone: str
    """An IANA zone such as Europe/Berlin."""
    days: str
    """daily, weekdays, weekends, or days like mon,wed,fri."""
    paused: bool
    paused_reason: str | None
    last_sent_period: str | None
    """The local date and time of the last run posted, e.g. 2026-04-22T09:00."""
    created_by: str
    """The user id of the admin who added it."""
    created_utc: Timestamp
    next_run_utc: Timestamp | None
    """Null while paused (and once removed)."""


def _digest_data(sub: Subscription, ctx: Context, *, scheduled: bool = True) -> ScheduledDigestData:
    """``sub`` for scripts; ``scheduled`` False for one that was just removed."""
    next_run = Schedule.of(sub).next_run(ctx.now()) if scheduled and not sub.paused else None
    return {
        "id": sub.id,
        "kind": sub.kind,
        "platform": sub.platform,
        "workspace_id": sub.workspace_id,
        "channel_id": sub.channel_id,
        "at": sub.at_time,
        "timezone": sub.timezone,
        "days": sub.days,
        "paused": sub.paused,
        "paused_reason": sub.paused_reason,
        "last_sent_period": sub.last_sent_period,
        "created_by": sub.created_by,
        "created_utc": iso(sub.created_utc),
        "next_run_utc": iso(next_run),
    }


class AddedDigest(TypedDict):
    digest: ScheduledDigestData
    created: bool
    """False when this channel already had the same digest: that one is returned."""


class DigestsData(TypedDict):
    digests: list[ScheduledDigestData]
    """This workspace's digests."""


class OneDigest(TypedDict):
    digest: ScheduledDigestData


def _service(ctx: Context) -> DigestService:
    if ctx.digests is None:
        raise CommandError(
            "Digests need the bot's database, and this process was started without it.",
            hint="Run `digest` commands in Slack, Discord or `mlc-bot demo`.",
        )
    return ctx.digests


def _place(ctx: Context) -> Place:
    surface = ctx.surface
    channel = surface.channel_id or ("console" if surface.platform == "console" else None)
    if channel is None:
        raise CommandError("Run this in the channel that should get the digest.")
    return Place(surface.platform, surface.workspace_id, channel)


async def _storage(call: Awaitable[T]) -> T:
    """The database call's result; an unreachable database becomes a friendly reply."""
    try:
        return await call
    except StorageUnavailable as exc:
        raise CommandError(str(exc)) from None


def _default_zone(ctx: Context) -> str:
    """The workspace's zone, else MLC_BOT_TZ's."""
    name = ctx.surface.timezone or ctx.policy.default_timezone
    try:
        return parse_timezone(name)
    except ScheduleError:
        raise CommandError(
            f"The default time zone {name!r} is not one the bot knows.",
            hint="Pass --tz Area/City, or ask an admin to fix MLC_BOT_TZ.",
        ) from None


def _schedule(at: str, tz: str, days: str) -> Schedule:
    try:
        return Schedule(parse_time(at), parse_timezone(tz), parse_days(days))
    except ScheduleError as exc:
        raise UsageError(str(exc)) from None


def _channel(sub: Subscription) -> str:
    """The digest's channel as a mention (the console's one place is no channel)."""
    return sub.channel_id if sub.platform == "console" else channel_ref(sub.channel_id)


def _next(sub: Subscription, ctx: Context) -> str:
    schedule = Schedule.of(sub)
    run = schedule.next_run(ctx.now())
    return format_run(run, schedule.timezone)


@command(
    "digest add",
    help="""
Post a usage or feedback digest in this channel on a schedule.
The usage digest shows the cycle's AI replies against the plan and where the pace leads;
the feedback digest shows the ratings since the previous digest and the lowest-rated
comments. Defaults: 09:00 on weekdays, in the workspace's time zone (or MLC_BOT_TZ).
""",
    examples=[
        "digest add usage",
        "digest add feedback --at 17:30 --tz Europe/Berlin --days mon,wed,fri",
    ],
    params=[
        _KIND,
        Param(
            "at",
            ParamType.STRING,
            "time of day, 24-hour HH:MM",
            default="09:00",
            metavar="HH:MM",
            max_length=16,
            pattern=r"[0-9A-Za-z:. ]+",  # ASCII digits: "٠٩:٠٠" is not taken for 09:00
            pattern_help="a 24-hour time like 09:00 or 17:30",
        ),
        Param(
            "tz",
            ParamType.STRING,
            "time zone (default: the workspace's, or MLC_BOT_TZ)",
            metavar="Area/City",
            max_length=64,
        ),
        Param(
            "days",
            ParamType.STRING,
            "daily, weekdays, weekends, or days like mon,wed,fri",
            default="weekdays",
            metavar="daily|weekdays|weekends|mon,wed,...",
            max_length=100,
        ),
    ],
    permission=Permission.ADMIN,
    cost=_NO_CALL,
    data=AddedDigest,
)
async def digest_add(
    ctx: Context, kind: str, at: str = "09:00", tz: str | None = None, days: str = "weekdays"
) -> Reply:
    schedule = _schedule(at, tz or _default_zone(ctx), days)
    service, place = _service(ctx), _place(ctx)
    sub, created = await _storage(
        service.add(place, kind=kind, schedule=schedule, created_by=ctx.caller.user_id)
    )
    what = f"the {kind} digest {schedule.describe()}"
    fields = (Field("Digest", f"#{sub.id}"), Field("Next run", _next(sub, ctx)))
    if not created:
        return Reply(
            title=f"Already scheduled as #{sub.id}",
            text=f"This channel already gets {what}.",
            fields=fields,
            data=AddedDigest(digest=_digest_data(sub, ctx), created=False),
        )
    return Reply(
        title=f"{kind.capitalize()} digest scheduled",
        text=f"This channel gets {what}.",
        fields=fields,
        kind=Kind.SUCCESS,
        notes=(
            f"`digest now {kind}` shows one now; add `--public` to post it here.",
            "`digest list` shows this workspace's digests.",
        ),
        data=AddedDigest(digest=_digest_data(sub, ctx), created=True),
    )


@command(
    "digest list",
    help="List this workspace's digests, each with its next run in its own time zone.",
    examples=["digest list"],
    cost=_NO_CALL,
    data=DigestsData,
)
async def digest_list(ctx: Context) -> Reply:
    service, surface = _service(ctx), ctx.surface
    subs = await _storage(service.list(surface.platform, surface.workspace_id))
    if not subs:
        return Reply(
            title="No digests yet",
            text="No channel here gets a digest. An admin can type `digest add usage` "
            "in a channel to start one.",
            data=DigestsData(digests=[]),
        )
    admin = ctx.policy.is_admin(ctx.caller)
    here = surface.channel_id
    rows = []
    for sub in subs:
        channel = _channel(sub) + (" (here)" if sub.channel_id == here else "")
        if sub.paused:
            state = "paused" + (f": {sub.paused_reason}" if sub.paused_reason else "")
            next_run = "—"
            toggle = Action("Resume", f"digest resume {sub.id}", style="primary")
        else:
            state = f"last sent {sub.last_sent_period}" if sub.last_sent_period else "active"
            next_run = _next(sub, ctx)
            toggle = Action("Pause", f"digest pause {sub.id}")
        actions = (toggle, Action("Remove", f"digest remove {sub.id}", style="danger"))
        cells = (f"#{sub.id}", sub.kind, channel, Schedule.of(sub).describe(), next_run, state)
        rows.append(Row(cells, actions if admin else ()))
    columns = ("id", "digest", "channel", "schedule", "next run", "state")
    return Reply(
        title="Digests",
        table=Table(columns, tuple(rows)),
        data=DigestsData(digests=[_digest_data(sub, ctx) for sub in subs]),
    )


async def _toggle(ctx: Context, sub_id: int, paused: bool) -> Subscription:
    sub = await _storage(_service(ctx).set_paused(sub_id, _place(ctx), paused))
    if sub is None:
        raise CommandError(
            f"There is no digest #{sub_id} in this workspace.", hint="`digest list` shows them."
        )
    return sub


@command(
    "digest remove",
    help="Stop a digest for good (`digest pause` keeps it for later).",
    examples=["digest remove 3"],
    params=[_ID],
    permission=Permission.ADMIN,
    cost=_NO_CALL,
    data=OneDigest,
)
async def digest_remove(ctx: Context, id: int) -> Reply:
    sub = await _storage(_service(ctx).remove(id, _place(ctx)))
    if sub is None:
        raise CommandError(
            f"There is no digest #{id} in this workspace.", hint="`digest list` shows them."
        )
    return Reply(
        title=f"Digest #{id} removed",
        text=f"The {sub.kind} digest of {_channel(sub)} "
        f"({Schedule.of(sub).describe()}) will not be posted again.",
        kind=Kind.SUCCESS,
        data=OneDigest(digest=_digest_data(sub, ctx, scheduled=False)),
    )


@command(
    "digest pause",
    help="Pause a digest; `digest resume` starts it again without replaying missed runs.",
    examples=["digest pause 3"],
    params=[_ID],
    permission=Permission.ADMIN,
    cost=_NO_CALL,
    data=OneDigest,
)
async def digest_pause(ctx: Context, id: int) -> Reply:
    sub = await _toggle(ctx, id, paused=True)
    return Reply(
        title=f"Digest #{id} paused",
        text=f"The {sub.kind} digest of {_channel(sub)} is paused. "
        f"`digest resume {id}` starts it again; runs missed meanwhile are not replayed.",
        kind=Kind.SUCCESS,
        data=OneDigest(digest=_digest_data(sub, ctx)),
    )


@command(
    "digest resume",
    help="Resume a paused digest from its next run (missed runs are not replayed).",
    examples=["digest resume 3"],
    params=[_ID],
    permission=Permission.ADMIN,
    cost=_NO_CALL,
    data=OneDigest,
)
async def digest_resume(ctx: Context, id: int) -> Reply:
    sub = await _toggle(ctx, id, paused=False)
    return Reply(
        title=f"Digest #{id} resumed",
        text=f"The {sub.kind} digest of {_channel(sub)} runs {Schedule.of(sub).describe()}.",
        fields=(Field("Next run", _next(sub, ctx)),),
        kind=Kind.SUCCESS,
        data=OneDigest(digest=_digest_data(sub, ctx)),
    )


@command(
    "digest now",
    help="""
Show a usage or feedback digest now, as the channel would get it (private unless public).
It compares against this channel's scheduled digest of that kind when there is one, and
changes nothing: the scheduled digests go on as before.
""",
    examples=["digest now usage", "digest now feedback --public"],
    params=[_KIND],
    public=True,
    cost="1 call: GET usage, or GET feedback?limit=200",
    data=DigestNowData,
)
async def digest_now(ctx: Context, kind: str) -> Reply:
    service, place = _service(ctx), _place(ctx)
    return await _storage(service.preview(ctx.api, kind, place, zone_name=_default_zone(ctx)))
