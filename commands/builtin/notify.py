"""notify, notify set, notify events, notify off: MyLiveChat's own Slack/Discord/Teams posts.

Webhook URLs are secrets: replies show only the allowed prefix or the API's
short ``webhook_url_prefix``, never the URL that was typed.
"""

from __future__ import annotations

import asyncio
import dataclasses

from typing_extensions import TypedDict

from bot.mylivechat import NotifierSettings, OutcomeUnknown, Platform, is_platform
from commands.context import Context
from commands.data import NotifierData, notifier_data
from commands.formatting import joined
from commands.notifier_rules import (
    EVENTS,
    PLATFORMS,
    check_events,
    check_webhook_url,
    clean_url,
    rule_for,
)
from commands.outcomes import unchanged
from commands.params import URL_MAX_LENGTH
from commands.readback import RUN_AGAIN_SAFELY, confirmed, not_applied, settle
from commands.reply import Kind, Reply, Table
from commands.spec import Param, ParamType, Permission, command


def _api_platform(name: str) -> Platform:
    """``name`` (one of the declared choices) as the client's platform type."""
    if not is_platform(name):
        raise ValueError(f"not a notifier platform: {name!r}")
    return name


def _platform(required: bool) -> Param:
    return Param(
        "platform",
        ParamType.CHOICE,
        "the chat platform MyLiveChat posts to",
        positional=True,
        required=required,
        choices=PLATFORMS,
    )


_EVENTS_HELP = "which events to post"


class NotifiersData(TypedDict):
    notifiers: list[NotifierData]
    """One per platform asked about."""


class SavedNotifier(TypedDict):
    notifier: NotifierData
    """The settings as MyLiveChat saved them (or as they already were, when nothing
    changed)."""


@command(
    "notify",
    help="Show where MyLiveChat posts handoff and feedback notifications.",
    examples=["notify", "notify slack"],
    params=[_platform(required=False)],
    list_name="show",
    cost="1 call per platform: GET <platform>_settings (3 calls without a platform)",
    data=NotifiersData,
)
async def notify(ctx: Context, platform: str | None = None) -> Reply:
    platforms = [platform] if platform else list(PLATFORMS)
    found = await asyncio.gather(
        *(ctx.api.get_notifier_settings(_api_platform(p)) for p in platforms)
    )
    rows = [
        [rule_for(p).title, _where(s), _posts(s)] for p, s in zip(platforms, found, strict=True)
    ]
    return Reply(
        title="Chat notifications from MyLiveChat",
        table=Table.of(["platform", "webhook", "events"], rows),
        notes=(
            "Change them with `notify <platform> set <webhook_url> --events handoff,feedback`.",
        ),
        data=NotifiersData(
            notifiers=[notifier_data(p, s) for p, s in zip(platforms, found, strict=True)]
        ),
    )


def _where(settings: NotifierSettings) -> str:
    if not settings.webhook_url_present:
        return "not set"
    return settings.webhook_url_prefix or "set"


def _posts(settings: NotifierSettings) -> str:
    """The events a platform's notifications post: none at all while no URL is set."""
    if settings.webhook_url_present is False:
        kept = f" ({joined(settings.events)} kept for when a URL is set)" if settings.events else ""
        return "off" + kept
    return joined(settings.events)


DEFAULT_EVENTS = list(EVENTS)
"""The events ``notify set`` chooses when the platform has none chosen: all of them."""


@command(
    "notify set",
    help="Point a platform's notifications at a webhook URL (the URL is kept secret).",
    examples=[
        "notify slack set https://hooks.slack.com/services/T000/B000/XXXX --events handoff",
        "notify discord set https://discord.com/api/webhooks/123/abc",
    ],
    params=[
        _platform(required=True),
        Param(
            "webhook_url",
            ParamType.STRING,
            "the platform's incoming-webhook URL",
            positional=True,
            required=True,
            max_length=URL_MAX_LENGTH,
        ),
        Param(
            "events",
            ParamType.CHOICES,
            f"{_EVENTS_HELP} (default: those already chosen, or all when none are)",
            choices=EVENTS,
        ),
    ],
    permission=Permission.ADMIN,
    writes=True,
    cost="1 call: PATCH <platform>_settings (+1 GET <platform>_settings without --events, "
    "to keep the events chosen; none when the URL or events break the rules)",
    data=SavedNotifier,
)
async def notify_set(
    ctx: Context, platform: str, webhook_url: str, events: list[str] | None = None
) -> Reply:
    url = clean_url(webhook_url)
    rule = check_webhook_url(platform, url)
    ctx.secrets.register(url)  # a real webhook URL: logs show *** wherever it would appear
    chosen = check_events(events) if events is not None else None
    defaulted = False
    if chosen is None:
        current = await ctx.api.get_notifier_settings(_api_platform(platform))
        if not current.events:
            chosen, defaulted = DEFAULT_EVENTS, True
    try:
        saved = await ctx.api.update_notifier_settings(
            _api_platform(platform), webhook_url=url, events=chosen
        )
    except OutcomeUnknown as lost:
        return await _settle_settings(ctx, lost, platform, url=url, events=chosen)
    text = f"{rule.title} notifications go to {rule.hint(url)} for: {joined(saved.events)}."
    reply = _saved_reply(rule.title, platform, saved, text)
    if defaulted:
        note = (
            f"No events were chosen, so both are on; `notify {platform} events handoff` "
            "posts handoffs only."
        )
        reply = dataclasses.replace(reply, notes=(*reply.notes, note))
    return reply


@command(
    "notify events",
    help="Choose which events a platform's notifications post.",
    examples=["notify slack events handoff,feedback", "notify teams events handoff"],
    params=[
        _platform(required=True),
        Param(
            "events",
            ParamType.CHOICES,
            _EVENTS_HELP,
            positional=True,
            required=True,
            choices=EVENTS,
        ),
    ],
    permission=Permission.ADMIN,
    writes=True,
    cost="2 calls: GET then PATCH <platform>_settings (only the GET when those events are "
    "already chosen; none when the events break the rules)",
    data=SavedNotifier,
)
async def notify_events(ctx: Context, platform: str, events: list[str]) -> Reply:
    chosen = check_events(events)
    current = await ctx.api.get_notifier_settings(_api_platform(platform))
    if set(current.events) == set(chosen):
        title = rule_for(platform).title
        notes = ()
        if current.webhook_url_present is False:
            notes = (f"No webhook URL is set yet: `notify {platform} set <webhook_url>`.",)
        return unchanged(
            "Nothing to change",
            f"{title} notifications already post: {joined(current.events)}.",
            notes=notes,
            data=SavedNotifier(notifier=notifier_data(platform, current)),
        )
    try:
        saved = await ctx.api.update_notifier_settings(_api_platform(platform), events=chosen)
    except OutcomeUnknown as lost:
        return await _settle_settings(ctx, lost, platform, events=chosen)
    return _events_reply(platform, saved)


@command(
    "notify off",
    help="Stop a platform's notifications by removing its webhook URL.",
    examples=["notify slack off"],
    params=[_platform(required=True)],
    permission=Permission.ADMIN,
    writes=True,
    cost="2 calls: GET then PATCH <platform>_settings (only the GET when they are already off)",
    data=SavedNotifier,
)
async def notify_off(ctx: Context, platform: str) -> Reply:
    current = await ctx.api.get_notifier_settings(_api_platform(platform))
    if current.webhook_url_present is False:
        title = rule_for(platform).title
        return unchanged(
            "Already off",
            f"MyLiveChat does not post to {title}: no webhook URL is set.",
            notes=(f"Turn them on with `notify {platform} set <webhook_url>`.",),
            data=SavedNotifier(notifier=notifier_data(platform, current)),
        )
    try:
        saved = await ctx.api.update_notifier_settings(_api_platform(platform), webhook_url="")
    except OutcomeUnknown as lost:
        return await _settle_settings(ctx, lost, platform, url="")
    return _off_reply(platform, saved, kept=current.events)


def _off_reply(platform: str, saved: NotifierSettings, *, kept: list[str] | None = None) -> Reply:
    """``kept``: the events chosen before (MyLiveChat keeps them for when a URL is set)."""
    events = kept if kept is not None else saved.events
    title = rule_for(platform).title
    again = f"Turn them back on with `notify {platform} set <webhook_url>`"
    if events:
        again += f"; the events chosen ({joined(events)}) are kept for then"
    return Reply(
        title=f"{title} notifications off",
        text=f"MyLiveChat no longer posts to {title}.",
        kind=Kind.SUCCESS,
        notes=(again + ".",),
        data=SavedNotifier(notifier=notifier_data(platform, saved)),
    )


def _events_reply(platform: str, saved: NotifierSettings) -> Reply:
    title = rule_for(platform).title
    text = f"{title} notifications now post: {joined(saved.events)}."
    return _saved_reply(title, platform, saved, text)


async def _settle_settings(
    ctx: Context,
    lost: OutcomeUnknown,
    platform: str,
    *,
    url: str | None = None,
    events: list[str] | None = None,
) -> Reply:
    """Read the settings back after a lost answer: ``url`` "" asked to clear the URL."""

    async def read() -> NotifierSettings:
        return await ctx.api.get_notifier_settings(_api_platform(platform))

    def judge(lost: OutcomeUnknown, shown: NotifierSettings) -> Reply:
        title = rule_for(platform).title
        unlike = _unlike(shown, url, events)
        if unlike:
            return not_applied(
                lost,
                f"{title} notifications not changed",
                f"the settings still have {' and '.join(unlike)}",
                again=RUN_AGAIN_SAFELY,
            )
        if url == "":
            return confirmed(lost, _off_reply(platform, shown))
        if url is None:
            return confirmed(lost, _events_reply(platform, shown))
        hint = rule_for(platform).hint(url)
        text = f"{title} notifications go to {hint} for: {joined(shown.events)}."
        reply = confirmed(lost, _saved_reply(title, platform, shown, text))
        # The API shows only the start of a URL: say how much could be checked.
        checked = "MyLiveChat shows only the start of a webhook URL; the saved one starts as yours."
        return dataclasses.replace(reply, notes=(*reply.notes, checked))

    return await settle(
        lost,
        read,
        judge,
        what="the notification settings were saved",
        check=f"Type `notify {platform}` to see the settings before running the command again.",
    )


def _unlike(shown: NotifierSettings, url: str | None, events: list[str] | None) -> list[str]:
    """What the read-back settings show instead of what was asked (never the URL itself)."""
    unlike = []
    if url == "" and shown.webhook_url_present is not False:
        unlike.append("a webhook URL set")
    elif url:
        prefix = (shown.webhook_url_prefix or "").rstrip(".…")
        if shown.webhook_url_present is False:
            unlike.append("no webhook URL")
        elif not url.startswith(prefix):
            unlike.append(f"another webhook URL ({shown.webhook_url_prefix})")
    if events is not None and set(shown.events) != set(events):
        unlike.append(f"the events {joined(shown.events)}" if shown.events else "no events")
    return unlike


def _saved_reply(title: str, platform: str, saved: NotifierSettings, text: str) -> Reply:
    notes: list[str] = []
    kind = Kind.SUCCESS
    if not saved.events:
        kind = Kind.WARNING
        notes.append(f"No events are chosen, so nothing is posted: `notify {platform} events ...`.")
    if saved.webhook_url_present is False:
        kind = Kind.WARNING
        notes.append(f"No webhook URL is set yet: `notify {platform} set <webhook_url>`.")
    return Reply(
        title=f"{title} notifications saved",
        text=text,
        kind=kind,
        notes=tuple(notes),
        data=SavedNotifier(notifier=notifier_data(platform, saved)),
    )
