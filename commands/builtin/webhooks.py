"""webhooks, webhooks add/edit/delete/rotate/test: signed outbound webhook subscriptions.

A subscription's secret is shown once, privately, when it is created or
rotated; everywhere else only its first characters (``secret_prefix``).
Receiver URLs are shown as their host only.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from bot.mylivechat import WebhookSubscription
from bot.secrets import register_secret
from commands.context import Context
from commands.errors import UsageError
from commands.formatting import joined, na, subscription_row, url_hint
from commands.notifier_rules import EVENTS, check_events, clean_url
from commands.params import URL_MAX_LENGTH, id_param
from commands.reply import Action, Failure, Field, Kind, Reply, Row, Table
from commands.spec import Param, ParamType, Permission, command

VERIFY_HOWTO = (
    "Each delivery is signed: `X-MLC-Signature: sha256=<hex HMAC-SHA256 of the raw request body, "
    "keyed with this secret>`, with the send time in `X-MLC-Timestamp`. Compute the HMAC over "
    "the raw bytes, compare in constant time (e.g. Python's hmac.compare_digest), "
    "and reject old timestamps."
)

_ID = id_param("the subscription's id, as `webhooks` lists it", complete="webhook")
_EVENTS_HELP = "events to deliver, comma-separated: handoff, feedback"
_LABEL_MAX_LENGTH = 100  # the API's bound


@command(
    "webhooks",
    help="List the site's signed webhook subscriptions.",
    examples=["webhooks", "webhooks --event feedback"],
    params=[
        Param("event", ParamType.CHOICE, "only subscriptions to this event", choices=EVENTS),
    ],
    cost="1 call: GET webhook_subscriptions",
)
async def webhooks(ctx: Context, event: str | None = None) -> Reply:
    subs = await ctx.api.list_webhook_subscriptions(event=event)
    if not subs:
        scope = f" for {event}" if event else ""
        return Reply(
            title="No webhook subscriptions",
            text=f"This site sends no signed webhooks{scope}.",
            notes=("Add one with `webhooks add <url> --events handoff,feedback`.",),
        )
    rows = tuple(
        Row(tuple(subscription_row(s)), (Action("Test", f"webhooks test {s.id}"),)) for s in subs
    )
    return Reply(
        title=f"Webhook subscriptions ({len(subs)})",
        table=Table(("id", "label", "receiver", "events", "state", "secret"), rows),
        notes=("Secrets are never shown again; `webhooks rotate <id>` issues a new one.",),
    )


@command(
    "webhooks add",
    help="Subscribe a URL to signed handoff and/or feedback events; shows its secret once.",
    examples=["webhooks add https://hooks.zapier.com/hooks/catch/1/abc --events handoff,feedback"],
    params=[
        Param(
            "url",
            ParamType.STRING,
            "the receiver's https:// URL",
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
)
async def webhooks_add(
    ctx: Context, url: str, events: list[str], label: str | None = None
) -> Reply:
    url = _receiver_url(url)
    chosen = check_events(events)
    sub = await ctx.api.create_webhook_subscription(
        url=url, events=chosen, label=label or _host(url)
    )
    ctx.site.drop_webhooks()
    return _secret_reply(
        f"Webhook {sub.id} created",
        sub.secret,
        (
            Field("Id", na(sub.id)),
            Field("Label", na(sub.label)),
            Field("Receiver", url_hint(sub.url)),
            Field("Events", joined(sub.event_list)),
        ),
        test_id=sub.id,
    )


@command(
    "webhooks edit",
    help="Change a subscription's label, URL or events, or pause and resume it.",
    examples=["webhooks edit 3 --events feedback", "webhooks edit 3 --enabled no"],
    params=[
        _ID,
        Param("label", ParamType.TEXT, "a new label", max_length=_LABEL_MAX_LENGTH),
        Param("url", ParamType.STRING, "a new receiver URL", max_length=URL_MAX_LENGTH),
        Param("events", ParamType.CHOICES, _EVENTS_HELP, choices=EVENTS),
        Param(
            "enabled", ParamType.CHOICE, "no pauses deliveries, yes resumes", choices=("yes", "no")
        ),
    ],
    permission=Permission.ADMIN,
    writes=True,
    cost="1 call: PATCH webhook_subscriptions",
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
    sub = await ctx.api.update_webhook_subscription(
        id,
        label=label,
        url=_receiver_url(url) if url is not None else None,
        events=check_events(events) if events is not None else None,
        enabled=None if enabled is None else enabled == "yes",
    )
    ctx.site.drop_webhooks()
    return Reply(
        title=f"Webhook {sub.id or id} updated",
        table=_one_row(sub),
        kind=Kind.SUCCESS,
    )


@command(
    "webhooks delete",
    help="Delete a subscription: its receiver gets no more events.",
    examples=["webhooks delete 3"],
    params=[_ID],
    permission=Permission.ADMIN,
    writes=True,
    cost="1 call: DELETE webhook_subscriptions",
)
async def webhooks_delete(ctx: Context, id: int) -> Reply:
    await ctx.api.delete_webhook_subscription(id)
    ctx.site.drop_webhooks()
    return Reply(
        title=f"Webhook {id} deleted",
        text="Its receiver gets no more events from MyLiveChat.",
        kind=Kind.SUCCESS,
    )


@command(
    "webhooks rotate",
    help="Issue a new secret for a subscription; the old one stops verifying at once.",
    examples=["webhooks rotate 3"],
    params=[_ID],
    permission=Permission.ADMIN,
    writes=True,
    cost="1 call: POST rotate_webhook_secret",
)
async def webhooks_rotate(ctx: Context, id: int) -> Reply:
    rotated = await ctx.api.rotate_webhook_secret(id)
    ctx.site.drop_webhooks()
    return _secret_reply(
        f"Webhook {rotated.id or id}: new secret",
        rotated.secret,
        (Field("Id", na(rotated.id or id)),),
        test_id=rotated.id or id,
        warning="The old secret stopped verifying just now: update the receiver before the "
        "next event.",
    )


@command(
    "webhooks test",
    help="Send a signed test event to a subscription and show how its receiver answered.\n"
    "A test that is not delivered is a failed reply: `mlc-bot exec` exits 1.",
    examples=["webhooks test 3"],
    params=[_ID],
    permission=Permission.ADMIN,
    writes=True,
    cost="1 call: POST test_webhook",
)
async def webhooks_test(ctx: Context, id: int) -> Reply:
    result = await ctx.api.test_webhook(id)
    status = result.receiver_status
    fields = (
        Field("Delivered", "yes" if result.delivered else "no"),
        Field("Receiver answered", f"HTTP {status}" if status is not None else "no answer"),
        Field("Signature header", na(result.signature_header)),
    )
    if result.delivered and (status is None or 200 <= status < 300):
        return Reply(title=f"Webhook {id}: test delivered", fields=fields, kind=Kind.SUCCESS)
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
        title=f"Webhook {id}: test not delivered",
        text=advice,
        fields=fields,
        kind=Kind.ERROR,
        failure=Failure.INPUT,
        error_code="not_delivered",
    )


def _receiver_url(text: str) -> str:
    url = clean_url(text)
    if not url.lower().startswith(("https://", "http://")) or " " in url:
        raise UsageError("The receiver URL must start with https:// (or http://).")
    return url


def _host(url: str) -> str:
    return urlsplit(url).hostname or "webhook"


def _one_row(sub: WebhookSubscription) -> Table:
    return Table.of(
        ["id", "label", "receiver", "events", "state", "secret"], [subscription_row(sub)]
    )


def _secret_reply(
    title: str,
    secret: str | None,
    fields: tuple[Field, ...],
    *,
    test_id: int | None,
    warning: str | None = None,
) -> Reply:
    """The one reply that carries a secret: sensitive, so it is always private."""
    register_secret(secret)  # from now on, logs show *** wherever it would appear
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
    )
