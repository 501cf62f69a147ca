"""webhooks, webhooks add/edit/delete/rotate/test: signed outbound webhook subscriptions.

A subscription's secret is shown once, privately, when it is created or
rotated; everywhere else only its first characters (``secret_prefix``).
Receiver URLs are shown as their host and port only. A receiver URL is https://, except
on this machine (localhost, 127.0.0.1, ::1), where http:// serves local testing.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from typing_extensions import TypedDict

from bot.mylivechat import APITimeout, BadRequest, OutcomeUnknown, WebhookSubscription
from commands.context import Context
from commands.data import WebhookData, webhook_data
from commands.errors import UsageError
from commands.failures import lost_answer, outcome_unknown_reply
from commands.formatting import joined, na, subscription_row, url_hint
from commands.notifier_rules import EVENTS, check_events, clean_url
from commands.outcomes import unchanged
from commands.params import URL_MAX_LENGTH, id_param
from commands.readback import RUN_AGAIN, RUN_AGAIN_SAFELY, confirmed, not_applied, settle
from commands.reply import Action, Failure, Field, Kind, Reply, Row, Table
from commands.spec import Param, ParamType, Permission, Source, command
from commands.timefmt import ago

VERIFY_HOWTO = (
    "Each delivery is signed: `X-MLC-Signature: sha256=<hex HMAC-SHA256 of the raw request body, "
    "keyed with this secret>`, with the send time in `X-MLC-Timestamp`. Compute the HMAC over "
    "the raw bytes, compare in constant time (e.g. Python's hmac.compare_digest), "
    "and reject old timestamps."
)

_ID = id_param("the subscription's id, as `webhooks` lists it", complete=Source.WEBHOOK)
_EVENTS_HELP = "the events to deliver"
_LABEL_MAX_LENGTH = 100  # the API's bound
_URL_RULE = "https:// (http:// only for localhost, 127.0.0.1 or ::1, while testing)"


class WebhooksData(TypedDict):
    webhooks: list[WebhookData]


class CreatedWebhook(TypedDict):
    webhook: WebhookData
    secret: str | None
    """The full signing secret, shown this once (null if MyLiveChat sent none)."""


class EditedWebhook(TypedDict):
    webhook: WebhookData
    changed: bool
    """False when it already had the values asked for (nothing was sent)."""


class DeletedWebhook(TypedDict):
    id: int


class RotatedWebhook(TypedDict):
    id: int
    secret: str | None
    """The new signing secret, shown this once; the old one no longer verifies."""


class WebhookTest(TypedDict):
    id: int
    delivered: bool | None
    """Whether the receiver answered 2xx (the reply fails otherwise: exit status 1)."""
    receiver_status: int | None
    """The HTTP status the receiver answered; null when it could not be reached in time."""
    signature_header: str | None


@command(
    "webhooks",
    help="List the site's signed webhook subscriptions.",
    examples=["webhooks", "webhooks --event feedback"],
    params=[
        Param("event", ParamType.CHOICE, "only subscriptions to this event", choices=EVENTS),
    ],
    cost="1 call: GET webhook_subscriptions",
    data=WebhooksData,
)
async def webhooks(ctx: Context, event: str | None = None) -> Reply:
    subs = await ctx.api.list_webhook_subscriptions(event=event)
    if not subs:
        scope = f" for {event}" if event else ""
        return Reply(
            title="No webhook subscriptions",
            text=f"This site sends no signed webhooks{scope}.",
            notes=("Add one with `webhooks add <url> --events handoff,feedback`.",),
            data=WebhooksData(webhooks=[]),
        )
    rows = tuple(
        Row(tuple(subscription_row(s)), (Action("Test", f"webhooks test {s.id}"),)) for s in subs
    )
    return Reply(
        title=f"Webhook subscriptions ({len(subs)})",
        table=Table(("id", "label", "receiver", "events", "state", "secret"), rows),
        notes=("Secrets are never shown again; `webhooks rotate <id>` issues a new one.",),
        data=WebhooksData(webhooks=[webhook_data(s) for s in subs]),
    )


@command(
    "webhooks add",
    help="Subscribe a URL to signed handoff and/or feedback events; shows its secret once.",
    examples=["webhooks add https://hooks.zapier.com/hooks/catch/1/abc --events handoff,feedback"],
    params=[
        Param(
            "url",
            ParamType.STRING,
            f"the receiver's URL: {_URL_RULE}",
            positional=True,
            required=True,
            max_length=URL_MAX_LENGTH,
        ),
        Param("events", ParamType.CHOICES, _EVENTS_HELP, required=True, choices=EVENTS),
        Param(
            "label",
            ParamType.TEXT,
            "a name for it (default: the receiver's host)",
            max_length=_LABEL_MAX_LENGTH,
        ),
    ],
    permission=Permission.ADMIN,
    writes=True,
    cost="1 call: POST webhook_subscriptions",
    data=CreatedWebhook,
)
async def webhooks_add(
    ctx: Context, url: str, events: list[str], label: str | None = None
) -> Reply:
    url = _receiver_url(url)
    chosen = check_events(events)
    label = label or _host(url)
    started = ctx.now()
    try:
        sub = await ctx.api.create_webhook_subscription(url=url, events=chosen, label=label)
    except OutcomeUnknown as lost:
        ctx.site.drop_webhooks()
        return await settle(
            lost,
            ctx.api.list_webhook_subscriptions,
            lambda lost, subs: _judge_add(ctx, lost, subs, url, label, chosen, started),
            what="the subscription was created",
            check="Type `webhooks` to see whether it is there before adding it again: "
            "adding it twice makes two subscriptions.",
        )
    ctx.site.drop_webhooks()
    return _secret_reply(
        ctx,
        f"Webhook {sub.id} created",
        sub.secret,
        _sub_fields(sub),
        test_id=sub.id,
        data=CreatedWebhook(webhook=webhook_data(sub), secret=sub.secret),
    )


@command(
    "webhooks edit",
    help="Change a subscription's label, URL or events, or pause and resume it.",
    examples=["webhooks edit 3 --events feedback", "webhooks edit 3 --enabled no"],
    params=[
        _ID,
        Param("label", ParamType.TEXT, "a new label", max_length=_LABEL_MAX_LENGTH),
        Param(
            "url", ParamType.STRING, f"a new receiver URL: {_URL_RULE}", max_length=URL_MAX_LENGTH
        ),
        Param("events", ParamType.CHOICES, _EVENTS_HELP, choices=EVENTS),
        Param(
            "enabled", ParamType.CHOICE, "no pauses deliveries, yes resumes", choices=("yes", "no")
        ),
    ],
    permission=Permission.ADMIN,
    writes=True,
    cost="1 call: PATCH webhook_subscriptions (+1 GET webhook_subscriptions when the list is "
    "not cached; no PATCH when it already has those values)",
    data=EditedWebhook,
)
async def webhooks_edit(
    ctx: Context,
    id: int,
    label: str | None = None,
    url: str | None = None,
    events: list[str] | None = None,
    enabled: str | None = None,
) -> Reply:
    if label is None and url is None and events is None and enabled is None:
        raise UsageError("Say what to change: --label, --url, --events or --enabled yes|no.")
    url = _receiver_url(url) if url is not None else None
    chosen = check_events(events) if events is not None else None
    wanted_enabled = None if enabled is None else enabled == "yes"
    wanted = _Wanted(label=label, url=url, events=chosen, enabled=wanted_enabled)
    same = await _already(ctx, id, wanted)
    if same is not None:
        return _unchanged_edit(same, id, wanted)
    try:
        sub = await ctx.api.update_webhook_subscription(
            id, label=label, url=url, events=chosen, enabled=wanted_enabled
        )
    except OutcomeUnknown as lost:
        ctx.site.drop_webhooks()
        return await settle(
            lost,
            ctx.api.list_webhook_subscriptions,
            lambda lost, subs: _judge_edit(lost, subs, id, wanted),
            what=f"subscription {id} was changed",
            check=f"Type `webhooks` to see subscription {id} as it is now.",
        )
    ctx.site.drop_webhooks()
    return _edited_reply(sub, id)


@command(
    "webhooks delete",
    help="Delete a subscription: its receiver gets no more events.",
    examples=["webhooks delete 3"],
    params=[_ID],
    permission=Permission.ADMIN,
    writes=True,
    cost="1 call: DELETE webhook_subscriptions",
    data=DeletedWebhook,
)
async def webhooks_delete(ctx: Context, id: int) -> Reply:
    try:
        await ctx.api.delete_webhook_subscription(id)
    except OutcomeUnknown as lost:
        ctx.site.drop_webhooks()
        return await settle(
            lost,
            ctx.api.list_webhook_subscriptions,
            lambda lost, subs: _judge_delete(lost, subs, id),
            what=f"subscription {id} was deleted",
            check=f"Type `webhooks` to see whether subscription {id} is still there.",
        )
    ctx.site.drop_webhooks()
    return _deleted_reply(id)


@command(
    "webhooks rotate",
    help="Issue a new secret for a subscription; the old one stops verifying at once.",
    examples=["webhooks rotate 3"],
    params=[_ID],
    permission=Permission.ADMIN,
    writes=True,
    cost="1 call: POST rotate_webhook_secret",
    data=RotatedWebhook,
)
async def webhooks_rotate(ctx: Context, id: int) -> Reply:
    try:
        rotated = await ctx.api.rotate_webhook_secret(id)
    except OutcomeUnknown as lost:
        # No read can settle it: only the first characters of a secret are ever read back.
        ctx.site.drop_webhooks()
        return outcome_unknown_reply(
            lost,
            title=f"Webhook {id}: outcome unknown",
            what=f"subscription {id} got a new secret. If it did, the new secret was never "
            "shown and the previous one may already be void",
            check=f"Rotate again (`webhooks rotate {id}`) to get a secret you can see, then "
            "update the receiver with it.",
            actions=(Action("Rotate again", f"webhooks rotate {id}"),),
        )
    ctx.site.drop_webhooks()
    return _secret_reply(
        ctx,
        f"Webhook {rotated.id or id}: new secret",
        rotated.secret,
        (Field("Id", na(rotated.id or id)),),
        test_id=rotated.id or id,
        warning="The old secret stopped verifying just now: update the receiver before the "
        "next event.",
        data=RotatedWebhook(id=rotated.id or id, secret=rotated.secret),
    )


@command(
    "webhooks test",
    help="Send a signed test event to a subscription and show how its receiver answered.\n"
    "A test that is not delivered is a failed reply: `mlc-bot exec` exits 1.",
    examples=["webhooks test 3"],
    params=[_ID],
    permission=Permission.ADMIN,
    writes=True,
    cost="1 call: POST test_webhook (+1 GET webhook_subscriptions when the list is not cached)",
    data=WebhookTest,
)
async def webhooks_test(ctx: Context, id: int) -> Reply:
    known = next((s for s in await ctx.site.webhooks(ctx.api) if s.id == id), None)
    paused = known is not None and known.enabled is False
    try:
        result = await ctx.api.test_webhook(id)
    except BadRequest as exc:
        if not paused:
            raise
        return Reply(
            title=f"Webhook {id} is paused",
            text=f"MyLiveChat did not send the test ({exc.message}). {_resume_hint(id)}",
            kind=Kind.ERROR,
            failure=Failure.INPUT,
            request_id=exc.request_id,
            error_code=exc.code,
        )
    except OutcomeUnknown as lost:
        check = (
            "Check the receiver for an event named `test`. A test changes nothing, so "
            f"`webhooks test {id}` may send another."
        )
        if isinstance(lost.cause, APITimeout):
            check += " MyLiveChat waits for the receiver before it answers: a slow receiver "
            check += "can make it late."
        return outcome_unknown_reply(
            lost,
            title=f"Webhook {id}: outcome unknown",
            what="the test event was sent, or how the receiver answered",
            check=check,
        )
    status = result.receiver_status
    fields = (
        Field("Delivered", "yes" if result.delivered else "no"),
        Field("Receiver answered", f"HTTP {status}" if status is not None else "no answer"),
        Field("Signature header", na(result.signature_header)),
    )
    data = WebhookTest(
        id=result.id or id,
        delivered=result.delivered,
        receiver_status=status,
        signature_header=result.signature_header,
    )
    notes = (_resume_hint(id),) if paused else ()
    if result.delivered and (status is None or 200 <= status < 300):
        if paused:
            return Reply(
                title=f"Webhook {id}: test delivered, but the subscription is paused",
                fields=fields,
                kind=Kind.WARNING,
                notes=notes,
                data=data,
            )
        return Reply(
            title=f"Webhook {id}: test delivered", fields=fields, kind=Kind.SUCCESS, data=data
        )
    if status is None:
        # MyLiveChat reports no status both when it could not connect and when it gave up
        # waiting for an answer: say both.
        advice = (
            "The receiver could not be reached or did not answer in time (MyLiveChat cannot "
            "tell which): check its URL, that it is online, and that it answers promptly."
        )
    elif status in (401, 403):
        advice = "The receiver refused the signature: check that it uses the current secret."
    else:
        advice = f"The receiver answered HTTP {status}; only a 2xx answer counts as delivered."
    # A failed reply, so `mlc-bot exec "webhooks test 3"` exits 1 and a script can tell.
    return Reply(
        title=f"Webhook {id}: test not delivered"
        + (" (the subscription is paused)" if paused else ""),
        text=advice,
        fields=fields,
        notes=notes,
        kind=Kind.ERROR,
        failure=Failure.INPUT,
        error_code="not_delivered",
        data=data,
    )


def _resume_hint(id: int) -> str:
    return (
        f"Webhook {id} is paused: it gets no real events until `webhooks edit {id} --enabled yes`."
    )


async def _already(ctx: Context, id: int, wanted: _Wanted) -> WebhookSubscription | None:
    """The subscription, when it already has every value asked for (read fresh to be sure)."""
    for fresh in (False, True):
        if fresh:
            ctx.site.drop_webhooks()
        sub = next((s for s in await ctx.site.webhooks(ctx.api) if s.id == id), None)
        if sub is None or wanted.unlike(sub):
            return None
    return sub


def _unchanged_edit(sub: WebhookSubscription, id: int, wanted: _Wanted) -> Reply:
    asked = wanted.asked()
    if asked == ["state"]:
        state = "paused" if sub.enabled is False else "on"
        title, text = f"Already {state}", f"Webhook {id} is already {state}."
    else:
        title = "Nothing to change"
        text = f"Webhook {id} already has the {joined(asked)} asked for."
    data = EditedWebhook(webhook=webhook_data(sub), changed=False)
    return unchanged(title, text, table=_one_row(sub), data=data)


# How far the bot's clock and MyLiveChat's may disagree when judging "created just now".
_CLOCK_SKEW = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class _Wanted:
    """The fields a `webhooks edit` asked for (None: not asked)."""

    label: str | None
    url: str | None
    events: list[str] | None
    enabled: bool | None

    def asked(self) -> list[str]:
        """The names of the fields asked for."""
        values = [
            ("label", self.label),
            ("receiver URL", self.url),
            ("events", self.events),
            ("state", self.enabled),
        ]
        return [name for name, value in values if value is not None]

    def unlike(self, sub: WebhookSubscription) -> list[str]:
        """The names of the asked-for fields that ``sub`` does not show."""
        differ = [
            ("label", self.label is not None and sub.label != self.label),
            ("receiver URL", self.url is not None and sub.url != self.url),
            ("events", self.events is not None and set(sub.event_list) != set(self.events)),
            ("state", self.enabled is not None and sub.enabled is not self.enabled),
        ]
        return [name for name, different in differ if different]


def _judge_add(
    ctx: Context,
    lost: OutcomeUnknown,
    subs: list[WebhookSubscription],
    url: str,
    label: str,
    events: list[str],
    started: datetime,
) -> Reply:
    same = [
        s for s in subs if s.url == url and s.label == label and set(s.event_list) == set(events)
    ]
    # Ours was stamped after the command started; an identical older one is someone else's.
    new = [s for s in same if s.created_utc is None or s.created_utc >= started - _CLOCK_SKEW]
    if new:
        sub = max(new, key=lambda s: s.id or 0)
        return Reply(
            title=f"Webhook {na(sub.id)} created; its secret was not shown",
            text=f"MyLiveChat created it (id {na(sub.id)}) but its answer was lost, so the "
            f"secret was never shown: `webhooks rotate {na(sub.id)}` issues a new one.",
            fields=(*_sub_fields(sub), Field("Created", ago(sub.created_utc, ctx.now()))),
            notes=(
                f"{lost_answer(lost)}; the bot found the subscription by reading the list back.",
                "Do not add it again: that would make a second subscription.",
            ),
            actions=(Action("Rotate its secret", f"webhooks rotate {sub.id}"),),
            kind=Kind.WARNING,
            failure=Failure.UNKNOWN,
            request_id=lost.request_id,
            error_code=lost.code,
            data=CreatedWebhook(webhook=webhook_data(sub), secret=None),
        )
    again = RUN_AGAIN
    if lost.may_still_apply:
        again = (
            "MyLiveChat may still finish a request it did not answer: type `webhooks` in a "
            "minute, and add it again only if it is still missing."
        )
    if same:
        ids = ", ".join(na(s.id) for s in same)
        again += f" An identical subscription already exists (id {ids}): you may not need one."
    return not_applied(lost, "Webhook not created", "it was not created", again=again)


def _judge_edit(
    lost: OutcomeUnknown, subs: list[WebhookSubscription], id: int, wanted: _Wanted
) -> Reply:
    sub = next((s for s in subs if s.id == id), None)
    if sub is None:
        return not_applied(
            lost,
            f"Webhook {id} not changed",
            f"there is no subscription {id} on this site",
            again="Type `webhooks` to see the subscriptions.",
        )
    unlike = wanted.unlike(sub)
    if not unlike:
        return confirmed(lost, _edited_reply(sub, id))
    return not_applied(
        lost,
        f"Webhook {id} not changed",
        f"its {joined(unlike)} as before",
        again=RUN_AGAIN_SAFELY,
        table=_one_row(sub),
    )


def _judge_delete(lost: OutcomeUnknown, subs: list[WebhookSubscription], id: int) -> Reply:
    if all(s.id != id for s in subs):
        return confirmed(lost, _deleted_reply(id))
    return not_applied(lost, f"Webhook {id} not deleted", "it is still there")


def _sub_fields(sub: WebhookSubscription) -> tuple[Field, ...]:
    return (
        Field("Id", na(sub.id)),
        Field("Label", na(sub.label)),
        Field("Receiver", url_hint(sub.url)),
        Field("Events", joined(sub.event_list)),
    )


def _edited_reply(sub: WebhookSubscription, id: int) -> Reply:
    return Reply(
        title=f"Webhook {sub.id or id} updated",
        table=_one_row(sub),
        kind=Kind.SUCCESS,
        data=EditedWebhook(webhook=webhook_data(sub), changed=True),
    )


def _deleted_reply(id: int) -> Reply:
    return Reply(
        title=f"Webhook {id} deleted",
        text="Its receiver gets no more events from MyLiveChat.",
        kind=Kind.SUCCESS,
        data=DeletedWebhook(id=id),
    )


def _receiver_url(text: str) -> str:
    """The receiver URL, once it is https:// (or http:// on this machine, for testing)."""
    url = clean_url(text)
    if any(c.isspace() for c in url) or not url.lower().startswith(("https://", "http://")):
        raise UsageError(f"The receiver URL must start with {_URL_RULE}.")
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise UsageError("The receiver URL's port must be a number from 1 to 65535.") from None
    if not parts.hostname:
        raise UsageError("The receiver URL needs a host, like https://hooks.example.com/mlc.")
    if parts.scheme.lower() == "http" and not _is_loopback(parts.hostname):
        raise UsageError(
            "The receiver URL must start with https://: over http:// anyone on the way can "
            "read each delivery. http:// is taken only for a receiver on this machine "
            "(localhost, 127.0.0.1 or ::1), for testing."
        )
    return url


def _is_loopback(host: str) -> bool:
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host(url: str) -> str:
    return urlsplit(url).hostname or "webhook"


def _one_row(sub: WebhookSubscription) -> Table:
    return Table.of(
        ["id", "label", "receiver", "events", "state", "secret"], [subscription_row(sub)]
    )


def _secret_reply(
    ctx: Context,
    title: str,
    secret: str | None,
    fields: tuple[Field, ...],
    *,
    test_id: int | None,
    data: CreatedWebhook | RotatedWebhook,
    warning: str | None = None,
) -> Reply:
    """The one reply that carries a secret (also as ``data.secret``): sensitive, so it is
    always private."""
    ctx.secrets.register(secret)  # from now on, logs show *** wherever it would appear
    shown = secret or "(MyLiveChat sent no secret; rotate it to get one)"
    text = f"Secret: `{shown}`\nStore it now: it is not shown again."
    if warning:
        text += f"\n{warning}"
    actions = (Action("Send a test event", f"webhooks test {test_id}"),) if test_id else ()
    return Reply(
        title=title,
        text=text,
        fields=fields,
        notes=(VERIFY_HOWTO,),
        actions=actions,
        kind=Kind.WARNING if warning else Kind.SUCCESS,
        private=True,
        sensitive=True,
        data=data,
    )
