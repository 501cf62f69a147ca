"""alerts add handoff|feedback, list, pause, resume, remove, test, rotate, claim, release."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TypeVar

from typing_extensions import TypedDict

from bot.mylivechat import MyLiveChatError, OutcomeUnknown
from commands.alerts.content import describe_rule
from commands.alerts.model import NewRule, Rule
from commands.alerts.service import (
    RECEIVER_PATH,
    AlertService,
    AlertsUnavailable,
    Provisioned,
)
from commands.alerts.store import Claim
from commands.context import Context
from commands.data import Timestamp, iso
from commands.digests.store import StorageUnavailable
from commands.errors import CommandError, UsageError, no_database
from commands.failures import lost_answer, outcome_unknown_reply
from commands.params import id_param
from commands.place import Place
from commands.reply import Action, Field, Kind, Reply, Row, Table
from commands.spec import Handler, Param, ParamType, Permission, command

T = TypeVar("T")


class RuleData(TypedDict):
    id: int
    event: str
    """handoff or feedback."""
    platform: str
    workspace_id: str | None
    channel_id: str
    reason: str | None
    sla_seconds: int | None
    mention: str | None
    max_rating: int | None
    with_comment: bool
    paused: bool
    created_utc: Timestamp


class AddedRule(TypedDict):
    rule: RuleData
    subscription_id: int | None
    """The MyLiveChat webhook subscription that delivers the rules' events."""
    subscription_created: bool
    test_delivered: bool | None
    """Whether the test delivery reached the receiver; null when none was sent."""
    test_receiver_status: int | None


class RulesData(TypedDict):
    rules: list[RuleData]


class OneRule(TypedDict):
    rule: RuleData
    changed: bool
    """False when there was nothing to do (already paused, already resumed)."""


class RemovedRule(TypedDict):
    rule: RuleData
    subscription_events: list[str] | None
    """What the subscription delivers now; empty when it was deleted, null when MyLiveChat
    did not confirm the change."""


class RotatedData(TypedDict):
    subscription_id: int | None


class ClaimData(TypedDict):
    alert_id: int
    claimed: bool
    """True when this click took (or gave back) the claim."""
    claimed_by: str | None
    """The user id holding the claim now; null when nobody holds it."""
    claimed_utc: Timestamp | None


def rule_data(rule: Rule) -> RuleData:
    return {
        "id": rule.id,
        "event": rule.event,
        "platform": rule.platform,
        "workspace_id": rule.workspace_id,
        "channel_id": rule.channel_id,
        "reason": rule.reason,
        "sla_seconds": rule.sla_seconds,
        "mention": rule.mention,
        "max_rating": rule.max_rating,
        "with_comment": rule.with_comment,
        "paused": rule.paused,
        "created_utc": iso(rule.created_utc),
    }


def _claim_data(claim: Claim) -> ClaimData:
    alert = claim.alert
    return {
        "alert_id": alert.id,
        "claimed": claim.won,
        "claimed_by": alert.claimed_by,
        "claimed_utc": iso(alert.claimed_utc),
    }


_NO_CALL = "no API call (the bot's database only)"
_ADD_COST = (
    "the first rule: GET, POST webhook_subscriptions and POST test_webhook; "
    "later ones: GET (+PATCH when the events change)"
)
_RULE_ID = id_param("the rule's number, from `alerts list`")
_ALERT_ID = id_param("the alert's number, as its message shows it")
_DURATION = re.compile(r"([0-9]{1,5})\s*(s|sec|m|min|h)?")
_UNITS = {None: 60, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}
SLA_MAX_SECONDS = 7 * 24 * 3600

CLAIM_NOTE = (
    "A claim is the bot's own record of who took a handoff: MyLiveChat has no way to assign "
    "one, so its own `assigned_to` is shown beside the claim when it has one."
)


def _service(ctx: Context) -> AlertService:
    if ctx.alerts is None:
        raise no_database("Alerts", "alerts")
    return ctx.alerts


def _place(ctx: Context) -> Place:
    surface = ctx.surface
    channel = surface.channel_id or ("console" if surface.platform == "console" else None)
    if channel is None:
        raise CommandError("Run this in the channel that should get the alerts.")
    return Place(surface.platform, surface.workspace_id, channel)


def _rule_command(
    name: str, help: str, *, cost: str = _NO_CALL, data: object = OneRule
) -> Callable[[Handler], Handler]:
    """An admin's command on one rule of this channel's workspace, by ``id``."""
    return _id_command(name, help, _RULE_ID, Permission.ADMIN, example=2, cost=cost, data=data)


def _claim_command(name: str, help: str) -> Callable[[Handler], Handler]:
    """A member's command on one alert's claim, by ``id``."""
    return _id_command(name, help, _ALERT_ID, Permission.MEMBER_WRITE, example=12, data=ClaimData)


def _id_command(
    name: str,
    help: str,
    id: Param,
    permission: Permission,
    *,
    example: int,
    cost: str = _NO_CALL,
    data: object,
) -> Callable[[Handler], Handler]:
    return command(
        name,
        help=help,
        examples=[f"{name} {example}"],
        params=[id],
        permission=permission,
        cost=cost,
        data=data,
    )


async def _stored(call: Awaitable[T]) -> T:
    """The call's result; a missing key, address or database becomes a friendly reply."""
    try:
        return await call
    except (StorageUnavailable, AlertsUnavailable) as exc:
        raise CommandError(str(exc)) from None


def parse_sla(text: str) -> int:
    """``5m``, ``90s``, ``2h`` or a bare number of minutes, as seconds."""
    match = _DURATION.fullmatch(text.strip().lower())
    if not match:
        raise UsageError(f"--sla takes a time like 5m, 90s or 1h, not {text[:20]!r}.")
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if not 30 <= seconds <= SLA_MAX_SECONDS:
        raise UsageError("--sla must be from 30s to 7 days (168h).")
    return seconds


async def _add(ctx: Context, event: str, **rule: object) -> Reply:
    """Add a rule on ``event`` for this channel (provisioning the subscription) and say so."""
    place = _place(ctx)
    new = NewRule(
        platform=place.platform,
        workspace_id=place.workspace_id,
        channel_id=place.channel_id,
        event=event,
        created_by=ctx.caller.user_id,
        **rule,  # type: ignore[arg-type]
    )
    try:
        added, provisioned = await _stored(_service(ctx).add(ctx.api, new))
    except OutcomeUnknown as lost:  # the rule is not kept: nothing half set up is left
        return outcome_unknown_reply(
            lost,
            check=(
                f"No rule was kept. Running `alerts add {event}` again is safe: the bot finds "
                "its subscription by its label, and takes a new secret if it must."
            ),
        )
    return _added(added, provisioned)


def _added(rule: Rule, provisioned: Provisioned) -> Reply:
    fields = [Field("Rule", f"#{rule.id}"), Field("Alerts on", describe_rule(rule), inline=False)]
    notes: list[str] = []
    kind = Kind.SUCCESS
    test = provisioned.test
    if provisioned.created:
        notes.append("The first rule created the MyLiveChat webhook subscription for alerts.")
    if test is not None:
        status = test.receiver_status
        if test.delivered:
            fields.append(Field("Test delivery", f"received (HTTP {status})"))
        else:
            kind = Kind.WARNING
            answered = f"HTTP {status}" if status is not None else "no answer"
            fields.append(Field("Test delivery", f"not received ({answered})"))
            notes.append(
                f"MyLiveChat could not reach the bot's receiver ({RECEIVER_PATH} under "
                "MLC_BOT_PUBLIC_URL): check that address and that this web process serves it."
            )
    notes.append("`alerts test <id>` posts a sample alert; `alerts list` shows the rules.")
    data: AddedRule = {
        "rule": rule_data(rule),
        "subscription_id": provisioned.subscription.id if provisioned.subscription else None,
        "subscription_created": provisioned.created,
        "test_delivered": test.delivered if test is not None else None,
        "test_receiver_status": test.receiver_status if test is not None else None,
    }
    return Reply(
        title=f"{rule.event.capitalize()} alerts on",
        text="This channel gets an alert the moment one happens.",
        fields=tuple(fields),
        notes=tuple(notes),
        kind=kind,
        data=data,
    )


@command(
    "alerts add handoff",
    help="""
Alert this channel the moment a chat is handed to a human, with Claim, Transcript and Tag.
With --sla, a handoff nobody claimed gets one reminder that mentions --mention.
""",
    examples=[
        "alerts add handoff",
        "alerts add handoff --reason billing --sla 5m --mention <!subteam^S0123>",
    ],
    params=[
        Param("reason", ParamType.TEXT, "only handoffs whose reason mentions this", metavar="text"),
        Param("sla", ParamType.STRING, "remind when unclaimed this long, e.g. 5m", metavar="5m"),
        Param(
            "mention",
            ParamType.STRING,
            "who the reminder mentions: a Slack user group or a Discord role",
            metavar="@group|role",
        ),
    ],
    permission=Permission.ADMIN,
    cost=_ADD_COST,
    data=AddedRule,
)
async def alerts_add_handoff(
    ctx: Context, reason: str | None = None, sla: str | None = None, mention: str | None = None
) -> Reply:
    if mention is not None and sla is None:
        raise UsageError("--mention is for the reminder: give --sla too, e.g. --sla 5m.")
    sla_seconds = parse_sla(sla) if sla is not None else None
    return await _add(ctx, "handoff", reason=reason, sla_seconds=sla_seconds, mention=mention)


@command(
    "alerts add feedback",
    help="Alert this channel the moment a visitor rates a chat (low ratings only, if asked).",
    examples=["alerts add feedback --max-rating 2", "alerts add feedback --with-comment"],
    params=[
        Param(
            "max_rating",
            ParamType.INTEGER,
            "only ratings of this many stars or fewer",
            min=1,
            max=5,
            metavar="N",
        ),
        Param("with_comment", ParamType.FLAG, "only ratings that come with a comment"),
    ],
    permission=Permission.ADMIN,
    cost=_ADD_COST,
    data=AddedRule,
)
async def alerts_add_feedback(
    ctx: Context, max_rating: int | None = None, with_comment: bool = False
) -> Reply:
    return await _add(ctx, "feedback", max_rating=max_rating, with_comment=with_comment)


@command(
    "alerts",
    help="List this workspace's alert rules.",
    examples=["alerts", "alerts list"],
    cost=_NO_CALL,
    data=RulesData,
)
async def alerts(ctx: Context) -> Reply:
    rules = await _stored(_service(ctx).list(_place(ctx)))
    if not rules:
        return Reply(
            title="No alert rules",
            text="No channel here gets live alerts. An admin can type `alerts add handoff` "
            "in a channel to start.",
            data=RulesData(rules=[]),
        )
    admin = ctx.policy.is_admin(ctx.caller)
    here = ctx.surface.channel_id
    rows = []
    for rule in rules:
        channel = rule.channel_id + (" (here)" if rule.channel_id == here else "")
        toggle = (
            Action("Resume", f"alerts resume {rule.id}", style="primary")
            if rule.paused
            else Action("Pause", f"alerts pause {rule.id}")
        )
        actions = (toggle, Action("Remove", f"alerts remove {rule.id}", style="danger"))
        cells = (f"#{rule.id}", describe_rule(rule), channel, "paused" if rule.paused else "on")
        rows.append(Row(cells, actions if admin else ()))
    return Reply(
        title="Alert rules",
        table=Table(("id", "alerts on", "channel", "state"), tuple(rows)),
        notes=(CLAIM_NOTE,),
        data=RulesData(rules=[rule_data(r) for r in rules]),
    )


async def _toggle(ctx: Context, rule_id: int, paused: bool) -> Reply:
    found = await _stored(_service(ctx).set_paused(rule_id, _place(ctx), paused))
    if found is None:
        raise CommandError(f"There is no alert rule #{rule_id} here.", hint="`alerts list`.")
    rule, changed = found
    word = "paused" if paused else "resumed"
    data = OneRule(rule=rule_data(rule), changed=changed)
    if not changed:
        text = f"Alert rule #{rule_id} was already {word}."
        return Reply(title=f"Already {word}", text=text, data=data)
    return Reply(
        title=f"Alert rule #{rule_id} {word}",
        text=describe_rule(rule),
        kind=Kind.SUCCESS,
        data=data,
    )


@_rule_command(
    "alerts pause", "Pause an alert rule: its channel gets no alerts until `alerts resume`."
)
async def alerts_pause(ctx: Context, id: int) -> Reply:
    return await _toggle(ctx, id, paused=True)


@_rule_command("alerts resume", "Resume a paused alert rule.")
async def alerts_resume(ctx: Context, id: int) -> Reply:
    return await _toggle(ctx, id, paused=False)


@_rule_command(
    "alerts remove",
    "Remove an alert rule; the last one of an event narrows the webhook subscription.",
    cost="1 GET webhook_subscriptions (+PATCH or DELETE when the events change)",
    data=RemovedRule,
)
async def alerts_remove(ctx: Context, id: int) -> Reply:
    removed = await _stored(_service(ctx).remove(ctx.api, id, _place(ctx)))
    if removed is None:
        raise CommandError(f"There is no alert rule #{id} here.", hint="`alerts list` shows them.")
    rule, error = removed.rule, removed.error
    events: list[str] | None = None
    if error is not None:
        note = _unsettled_subscription(error)
    elif removed.provisioned is None or removed.provisioned.subscription is None:
        events, note = [], "No rule is left, so the alert subscription was deleted from MyLiveChat."
    else:
        events = removed.provisioned.subscription.event_list
        note = f"The subscription now delivers: {', '.join(events)}."
    return Reply(
        title=f"Alert rule #{id} removed",
        text=f"No more {describe_rule(rule)} alerts in channel {rule.channel_id}.",
        notes=(note,),
        kind=Kind.SUCCESS if error is None else Kind.WARNING,
        request_id=error.request_id if error is not None else None,
        data=RemovedRule(rule=rule_data(rule), subscription_events=events),
    )


def _unsettled_subscription(error: MyLiveChatError) -> str:
    """The note of a removal whose subscription change MyLiveChat did not confirm."""
    if isinstance(error, OutcomeUnknown):
        what = f"{lost_answer(error)}, so the bot cannot tell whether the subscription changed"
    else:
        what = f"MyLiveChat did not change the subscription ({error.code}: {error.message})"
    return (
        f"{what}. Either way no channel gets this rule's alerts: events no rule wants are "
        "dropped, and the next `alerts add` or `alerts remove` brings the subscription in line."
    )


@_rule_command(
    "alerts test", "Post a sample alert of a rule into its channel, to see how alerts look."
)
async def alerts_test(ctx: Context, id: int) -> Reply:
    rule = await _stored(_service(ctx).test(id, _place(ctx)))
    if rule is None:
        raise CommandError(f"There is no alert rule #{id} here.", hint="`alerts list` shows them.")
    return Reply(
        title="Sample alert posted",
        text=f"A sample {rule.event} alert went to channel {rule.channel_id}.",
        kind=Kind.SUCCESS,
        data=OneRule(rule=rule_data(rule), changed=True),
    )


@command(
    "alerts rotate",
    help="Issue a new secret for the alert subscription; the old one verifies 10 more minutes.",
    examples=["alerts rotate"],
    permission=Permission.ADMIN,
    writes=True,
    cost="2 calls: GET webhook_subscriptions, POST rotate_webhook_secret",
    data=RotatedData,
)
async def alerts_rotate(ctx: Context) -> Reply:
    try:
        sub = await _stored(_service(ctx).rotate(ctx.api))
    except OutcomeUnknown as lost:
        return outcome_unknown_reply(
            lost,
            check=(
                "Rotate again now (`alerts rotate`): if it was rotated, MyLiveChat signs with "
                "a secret the bot never saw, and its deliveries are refused until then."
            ),
            actions=(Action("Rotate again", "alerts rotate"),),
        )
    return Reply(
        title="Alert secret rotated",
        text=(
            f"Subscription {sub.id} signs with a new secret, kept encrypted by the bot. "
            "Deliveries signed with the previous one are accepted for 10 more minutes."
        ),
        kind=Kind.SUCCESS,
        data=RotatedData(subscription_id=sub.id),
    )


@_claim_command(
    "alerts claim", "Claim an alerted handoff: its message then shows who has it. " + CLAIM_NOTE
)
async def alerts_claim(ctx: Context, id: int) -> Reply:
    caller = ctx.caller
    claim = await _stored(_service(ctx).claim(id, caller.user_id, caller.name, _place(ctx)))
    if claim is None:
        raise CommandError(f"There is no alert #{id} here.")
    alert, data = claim.alert, _claim_data(claim)
    if claim.won:
        return Reply(
            title=f"You claimed alert #{id}",
            text="Its message now shows you have it; `Release` gives it back.",
            kind=Kind.SUCCESS,
            data=data,
        )
    who = alert.claimed_name or alert.claimed_by or "someone"
    if alert.claimed_by == ctx.caller.user_id:
        return Reply(title="Already yours", text=f"You claimed alert #{id} already.", data=data)
    return Reply(
        title="Already claimed", text=f"Alert #{id} is already claimed by {who}.", data=data
    )


@_claim_command("alerts release", "Give back a handoff you claimed, so someone else can take it.")
async def alerts_release(ctx: Context, id: int) -> Reply:
    claim = await _stored(_service(ctx).release(id, ctx.caller.user_id, _place(ctx)))
    if claim is None:
        raise CommandError(f"There is no alert #{id} here.")
    data = _claim_data(claim)
    if not claim.won:
        who = claim.alert.claimed_name or claim.alert.claimed_by
        return Reply(
            title="Not yours to release",
            text=f"Alert #{id} is claimed by {who}; only they can release it.",
            data=data,
        )
    return Reply(
        title=f"Alert #{id} released", text="Anyone can claim it now.", kind=Kind.SUCCESS, data=data
    )
