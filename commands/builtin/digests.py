"""digest add, list, remove, pause, resume, now: scheduled digests of a channel.

In Slack and Discord a digest belongs to the channel the command is typed in, and the
commands reach the digests of that workspace. ``mlc-bot exec`` runs in no channel: there,
``--channel slack:C0123ABC`` or ``--channel discord:<id>`` names the channel, which is
checked with the platform when its token is set, and the commands reach that channel's
digests. The console of ``mlc-bot demo`` is a channel of its own.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable
from dataclasses import dataclass
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
from commands.errors import CommandError, UsageError, no_database
from commands.formatting import channel_ref
from commands.outcomes import unchanged
from commands.params import id_param
from commands.place import Place
from commands.ports import ChannelCheck, ChannelRef
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
_CHANNEL = Param(
    "channel",
    ParamType.STRING,
    "`mlc-bot exec` only: the channel, as slack:<channel id> or discord:<channel id>",
    metavar="slack:C123|discord:123",
    max_length=40,
    pattern=r"[A-Za-z]+:[A-Za-z0-9]+",
    pattern_help="slack:<channel id> or discord:<channel id>, e.g. slack:C0123ABCD",
    console_only=True,
)
_PLATFORMS = {"slack": "Slack", "discord": "Discord"}
_CHANNEL_IDS = {
    "slack": re.compile(r"[CG][A-Z0-9]{1,20}"),  # public (C) and private (G) channels
    "discord": re.compile(r"[0-9]{1,20}"),  # a snowflake
}
NEEDS_CHANNEL = (
    "`mlc-bot exec` runs in no channel, so say which one with `--channel slack:C0123ABCD` "
    "(the id at the bottom of the channel's details in Slack) or `--channel "
    "discord:<channel id>` (Copy Channel ID, with Developer Mode on). The terminal itself "
    "gets no digests; `mlc-bot demo` posts them into its console."
)

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
        raise no_database("Digests", "digest")
    return ctx.digests


@dataclass(frozen=True, slots=True)
class _Where:
    """Where a digest command applies, and what the platform said about a named channel."""

    place: Place
    check: ChannelCheck | None = None
    """Set for a channel named with ``--channel`` (``mlc-bot exec``)."""

    @property
    def option(self) -> str:
        """What a command about the same channel adds: `` --channel slack:C1`` (exec only)."""
        place = self.place
        return f" --channel {place.platform}:{place.channel_id}" if place.by_channel else ""

    @property
    def notes(self) -> tuple[str, ...]:
        """What the reply says about the check of a named channel."""
        check = self.check
        if check is None:
            return ()
        title = _PLATFORMS[check.channel.platform]
        channel = check.channel.channel_id
        if check.found:
            named = f" ({check.name})" if check.name else ""
            return (f"Checked with {title}: the bot can post in channel {channel}{named}.",)
        notes = [
            f"Not checked with {title} ({check.detail}): the bot could not confirm that channel"
            f" {channel} exists or that it may post there; the scheduler logs it if it cannot."
        ]
        if self.place.workspace_id is None:
            notes.append(
                f"Its {title} workspace is unknown, so `digest list` in {title} does not show "
                f"it; from here, `digest list --channel {check.channel.platform}:{channel}` does."
            )
        return tuple(notes)


def _exec_console(ctx: Context) -> bool:
    """``mlc-bot exec``: the console, in no channel."""
    return ctx.surface.platform == "console" and ctx.surface.channel_id is None


async def _where(ctx: Context, channel: str | None) -> _Where:
    """The channel the command is about: where it was typed, or (exec) ``--channel``."""
    surface = ctx.surface
    if _exec_console(ctx):
        if channel is None:
            raise UsageError(NEEDS_CHANNEL)
        return await _named(ctx, channel)
    if channel is not None:
        raise UsageError(
            "`--channel` is for `mlc-bot exec`; here a digest belongs to the channel the "
            "command is typed in."
        )
    if surface.channel_id is None:
        raise CommandError("Run this in the channel that should get the digest.")
    return _Where(Place(surface.platform, surface.workspace_id, surface.channel_id))


async def _named(ctx: Context, text: str) -> _Where:
    """The channel ``--channel slack:C0123ABCD`` names, as its platform knows it."""
    platform, _, raw = text.partition(":")
    platform = platform.lower()
    if platform not in _PLATFORMS:
        raise UsageError(
            f"--channel names a Slack or Discord channel (slack:<id> or discord:<id>), "
            f"not {platform!r}."
        )
    channel_id = raw.upper() if platform == "slack" else raw
    if not _CHANNEL_IDS[platform].fullmatch(channel_id):
        shape = (
            "C or G and capitals or digits, like C0123ABCD"
            if platform == "slack"
            else "digits, like 1234567890123456789"
        )
        raise UsageError(f"A {_PLATFORMS[platform]} channel id is {shape}, not {raw!r}.")
    channel = ChannelRef(platform, channel_id)
    if ctx.channels is None:
        check = ChannelCheck(channel, found=None, detail="this process cannot ask the platform")
    else:
        check = await ctx.channels.check(channel)
    if check.found is False:
        title = _PLATFORMS[platform]
        raise CommandError(
            f"{title} says the bot cannot post in channel {channel_id} ({check.detail}).",
            hint="Check the id, and that the bot is in the channel (or that it may post there). "
            "Nothing was changed.",
        )
    workspace = check.channel.workspace_id
    if workspace is None:
        digests = _service(ctx)
        workspace = await _storage(digests.recorded_workspace(platform, channel_id))
    return _Where(Place(platform, workspace, channel_id, by_channel=True), check)


def _nowhere(sub_id: int, where: _Where) -> CommandError:
    place = where.place
    scope = f"for {place.platform}:{place.channel_id}" if place.by_channel else "in this workspace"
    return CommandError(f"There is no digest #{sub_id} {scope}.", hint="`digest list` shows them.")


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
From `mlc-bot exec`, which runs in no channel, name it: --channel slack:C0123ABCD or
--channel discord:<channel id> (checked with the platform when its bot token is set).
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
        _CHANNEL,
    ],
    permission=Permission.ADMIN,
    cost=_NO_CALL,
    data=AddedDigest,
)
async def digest_add(
    ctx: Context,
    kind: str,
    at: str = "09:00",
    tz: str | None = None,
    days: str = "weekdays",
    channel: str | None = None,
) -> Reply:
    schedule = _schedule(at, tz or _default_zone(ctx), days)
    service = _service(ctx)
    where = await _where(ctx, channel)
    sub, created = await _storage(
        service.add(where.place, kind=kind, schedule=schedule, created_by=ctx.caller.user_id)
    )
    what = f"the {kind} digest {schedule.describe()}"
    fields = (Field("Digest", f"#{sub.id}"), Field("Next run", _next(sub, ctx)))
    here = _first_up(_channel_words(where))
    if not created:
        return unchanged(
            f"Already scheduled as #{sub.id}",
            f"{here} already gets {what}.",
            fields=fields,
            notes=where.notes,
            data=AddedDigest(digest=_digest_data(sub, ctx), created=False),
        )
    listing = (
        f"`digest list{where.option}` shows this channel's digests."
        if where.place.by_channel
        else "`digest list` shows this workspace's digests."
    )
    preview = (
        f"`digest now {kind}{where.option}` shows one now."
        if where.place.by_channel
        else f"`digest now {kind}` shows one now; add `--public` to post it here."
    )
    return Reply(
        title=f"{kind.capitalize()} digest scheduled",
        text=f"{here} gets {what}.",
        fields=fields,
        kind=Kind.SUCCESS,
        notes=(*where.notes, preview, listing),
        data=AddedDigest(digest=_digest_data(sub, ctx), created=True),
    )


def _first_up(text: str) -> str:
    return text[:1].upper() + text[1:]


def _channel_words(where: _Where) -> str:
    """ "this channel", or the named one: "slack channel C0123ABCD (#support)"."""
    place = where.place
    if not place.by_channel:
        return "this channel"
    name = f" ({where.check.name})" if where.check is not None and where.check.name else ""
    return f"{_PLATFORMS[place.platform]} channel {place.channel_id}{name}"


@command(
    "digest list",
    help="List this workspace's digests, each with its next run in its own time zone.\n"
    "From `mlc-bot exec`, --channel lists the digests of that channel.",
    examples=["digest list"],
    params=[_CHANNEL],
    cost=_NO_CALL,
    data=DigestsData,
)
async def digest_list(ctx: Context, channel: str | None = None) -> Reply:
    service = _service(ctx)
    where = await _where(ctx, channel)
    subs = await _storage(service.within(where.place))
    if not subs:
        if where.place.by_channel:
            text = (
                f"{_first_up(_channel_words(where))} gets no digest. "
                f"`digest add usage{where.option}` starts one."
            )
        else:
            text = (
                "No channel here gets a digest. An admin can type `digest add usage` "
                "in a channel to start one."
            )
        return Reply(title="No digests yet", text=text, data=DigestsData(digests=[]))
    admin = ctx.policy.is_admin(ctx.caller)
    here = None if where.place.by_channel else ctx.surface.channel_id
    suffix = where.option
    rows = []
    for sub in subs:
        channel = _channel(sub) + (" (here)" if sub.channel_id == here else "")
        if sub.paused:
            state = "paused" + (f": {sub.paused_reason}" if sub.paused_reason else "")
            next_run = "—"
            toggle = Action("Resume", f"digest resume {sub.id}{suffix}", style="primary")
        else:
            state = f"last sent {sub.last_sent_period}" if sub.last_sent_period else "active"
            next_run = _next(sub, ctx)
            toggle = Action("Pause", f"digest pause {sub.id}{suffix}")
        remove = Action("Remove", f"digest remove {sub.id}{suffix}", style="danger")
        actions = (toggle, remove)
        cells = (f"#{sub.id}", sub.kind, channel, Schedule.of(sub).describe(), next_run, state)
        rows.append(Row(cells, actions if admin else ()))
    columns = ("id", "digest", "channel", "schedule", "next run", "state")
    return Reply(
        title="Digests",
        table=Table(columns, tuple(rows)),
        data=DigestsData(digests=[_digest_data(sub, ctx) for sub in subs]),
    )


async def _found(ctx: Context, sub_id: int, channel: str | None) -> tuple[Subscription, _Where]:
    where = await _where(ctx, channel)
    sub = await _storage(_service(ctx).get(sub_id, where.place))
    if sub is None:
        raise _nowhere(sub_id, where)
    return sub, where


@command(
    "digest remove",
    help="Stop a digest for good (`digest pause` keeps it for later).",
    examples=["digest remove 3"],
    params=[_ID, _CHANNEL],
    permission=Permission.ADMIN,
    cost=_NO_CALL,
    data=OneDigest,
)
async def digest_remove(ctx: Context, id: int, channel: str | None = None) -> Reply:
    found, where = await _found(ctx, id, channel)
    sub = await _storage(_service(ctx).remove(found.id, where.place))
    if sub is None:  # removed meanwhile
        raise _nowhere(id, where)
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
    params=[_ID, _CHANNEL],
    permission=Permission.ADMIN,
    cost=_NO_CALL,
    data=OneDigest,
)
async def digest_pause(ctx: Context, id: int, channel: str | None = None) -> Reply:
    found, where = await _found(ctx, id, channel)
    again = f"`digest resume {id}{where.option}` starts it again"
    if found.paused:
        why = f" ({found.paused_reason})" if found.paused_reason else ""
        return unchanged(
            "Already paused",
            f"Digest #{id} is already paused{why}.",
            notes=(f"{again}.",),
            data=OneDigest(digest=_digest_data(found, ctx)),
        )
    sub = await _storage(_service(ctx).set_paused(id, where.place, True))
    if sub is None:  # removed meanwhile
        raise _nowhere(id, where)
    return Reply(
        title=f"Digest #{id} paused",
        text=f"The {sub.kind} digest of {_channel(sub)} is paused. "
        f"{again}; runs missed meanwhile are not replayed.",
        kind=Kind.SUCCESS,
        data=OneDigest(digest=_digest_data(sub, ctx)),
    )


@command(
    "digest resume",
    help="Resume a paused digest from its next run (missed runs are not replayed).",
    examples=["digest resume 3"],
    params=[_ID, _CHANNEL],
    permission=Permission.ADMIN,
    cost=_NO_CALL,
    data=OneDigest,
)
async def digest_resume(ctx: Context, id: int, channel: str | None = None) -> Reply:
    sub, where = await _found(ctx, id, channel)
    if not sub.paused:
        return unchanged(
            "Already running",
            f"Digest #{id} is not paused: the {sub.kind} digest runs "
            f"{Schedule.of(sub).describe()}.",
            fields=(Field("Next run", _next(sub, ctx)),),
            data=OneDigest(digest=_digest_data(sub, ctx)),
        )
    resumed = await _storage(_service(ctx).set_paused(id, where.place, False))
    if resumed is None:  # removed meanwhile
        raise _nowhere(id, where)
    return Reply(
        title=f"Digest #{id} resumed",
        text=f"The {resumed.kind} digest of {_channel(resumed)} runs "
        f"{Schedule.of(resumed).describe()}.",
        fields=(Field("Next run", _next(resumed, ctx)),),
        kind=Kind.SUCCESS,
        data=OneDigest(digest=_digest_data(resumed, ctx)),
    )


@command(
    "digest now",
    help="""
Show a usage or feedback digest now, as the channel would get it (private unless public).
It compares against this channel's scheduled digest of that kind when there is one, and
changes nothing: the scheduled digests go on as before.
""",
    examples=["digest now usage", "digest now feedback --public"],
    params=[_KIND, _CHANNEL],
    public=True,
    cost="1 call: GET usage, or GET feedback?limit=200",
    data=DigestNowData,
)
async def digest_now(ctx: Context, kind: str, channel: str | None = None) -> Reply:
    service = _service(ctx)
    # From `mlc-bot exec` a preview needs no channel: without one it compares against none.
    place = None if _exec_console(ctx) and channel is None else (await _where(ctx, channel)).place
    return await _storage(service.preview(ctx.api, kind, place, zone_name=_default_zone(ctx)))
