"""The resource handlers: one function per (resource, verb), scoped to the calling token's site.

Handlers receive an already authenticated, rate-limited, scope-checked `Ctx` whose body is a
JSON object (POST/PATCH) or empty (GET/HEAD/DELETE, which take their keys in the query).

Where the vendor is silent, the sandbox chooses:
- every success is HTTP 200 (creation included); unknown body fields are ignored;
- a field sent as null counts as not sent (except `description` and notifier `webhook_url`,
  where null or "" clears the value); a PATCH with no updatable field is 400 missing_field;
- tag names are unique per site case-insensitively, as a SQL Server CI index would make them;
  PATCH tags also accepts `enabled`; DELETE tags answers with the (now disabled) row;
- apply_tag DELETE also answers 404 for an unknown/other-site tag or session;
- `events` is a CSV string for webhook subscriptions and a JSON array for notifiers, as in
  the vendor's examples; anything else is bad_field; `?event=` must be handoff or feedback;
- test_webhook delivers even to a disabled subscription (it is a manual test);
- visitors POST merges `attributes` like identify(); visitor_event's `event_count` is the
  visitor's total, the same number GET visitors shows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from bot.sandbox import webhooks
from bot.sandbox.state import (
    NotifierSettings,
    SandboxState,
    Tag,
    Token,
    Visitor,
    WebhookSubscription,
    iso,
)
from bot.sandbox.validate import (
    ApiError,
    bad_field,
    events_array,
    events_csv,
    http_url,
    missing_field,
    not_found,
    opt_bool,
    opt_color,
    opt_email,
    opt_object,
    opt_str,
    opt_text,
    parse_event_name,
    parse_limit,
    query_int,
    query_str,
    req_int,
    req_str,
)

DEFAULT_TAG_COLOR = "#64748b"
TAG_NAME_MAX = 50


@dataclass
class Ctx:
    """One authenticated API call as a handler sees it."""

    state: SandboxState
    token: Token
    query: Mapping[str, str]
    body: dict[str, Any]
    now: datetime

    @property
    def site_id(self) -> int:
        return self.token.site_id


Handler = Callable[[Ctx], Awaitable[Any]]


def _require_any(body: Mapping[str, Any], fields: tuple[str, ...]) -> None:
    if not any(f in body for f in fields):
        raise ApiError(
            400, "missing_field", f"nothing to update: send at least one of {', '.join(fields)}"
        )


# --- read resources ----------------------------------------------------------------------------


async def get_ping(ctx: Ctx) -> dict[str, Any]:
    return {"pong": True, "time_utc": iso(ctx.now)}


async def get_whoami(ctx: Ctx) -> dict[str, Any]:
    return ctx.token.to_api()


async def get_tags(ctx: Ctx) -> list[dict[str, Any]]:
    return [t.to_api() for t in ctx.state.site_tags(ctx.site_id)]


async def get_starters(ctx: Ctx) -> list[dict[str, Any]]:
    rows = [s for s in ctx.state.starters if s.site_id == ctx.site_id]
    return [s.to_api() for s in sorted(rows, key=lambda s: (s.sort_order, s.id))]


async def get_handoffs(ctx: Ctx) -> list[dict[str, Any]]:
    limit = parse_limit(ctx.query)
    rows = [h for h in ctx.state.handoffs if h.site_id == ctx.site_id]
    rows.sort(key=lambda h: (h.created_utc, h.id), reverse=True)
    return [h.to_api() for h in rows[:limit]]


async def get_transcripts(ctx: Ctx) -> list[dict[str, Any]]:
    limit = parse_limit(ctx.query)
    session_id = ctx.query.get("session_id")
    rows = [t for t in ctx.state.transcripts.values() if t.site_id == ctx.site_id]
    if session_id is not None:
        # An unknown session, or one of another site, is simply an empty result.
        rows = [t for t in rows if t.session_id == session_id.strip()]
    rows.sort(key=lambda t: (t.started_utc, t.session_id), reverse=True)
    return [t.to_api() for t in rows[:limit]]


async def get_usage(ctx: Ctx) -> dict[str, Any]:
    return ctx.state.usage[ctx.site_id].to_api(ctx.now)


async def get_feedback(ctx: Ctx) -> list[dict[str, Any]]:
    limit = parse_limit(ctx.query)
    rows = [f for f in ctx.state.feedback if f.site_id == ctx.site_id]
    rows.sort(key=lambda f: (f.created_utc, f.id), reverse=True)
    return [f.to_api() for f in rows[:limit]]


async def get_webhooks(ctx: Ctx) -> list[dict[str, Any]]:
    event = ctx.query.get("event")
    wanted = parse_event_name(event) if event is not None else None
    rows = sorted(
        (w for w in ctx.state.webhooks.values() if w.site_id == ctx.site_id), key=lambda w: w.id
    )
    return [w.to_api() for w in rows if wanted is None or wanted in w.events]


async def get_visitors(ctx: Ctx) -> list[dict[str, Any]]:
    limit = parse_limit(ctx.query)
    return [v.to_api() for v in ctx.state.site_visitors(ctx.site_id)[:limit]]


# --- tags and apply_tag ------------------------------------------------------------------------


def _tag_or_404(ctx: Ctx, tag_id: int) -> Tag:
    tag = ctx.state.tag_for(ctx.site_id, tag_id)
    if tag is None:
        raise not_found(f"tag {tag_id} not found")
    return tag


async def post_tag(ctx: Ctx) -> dict[str, Any]:
    name = req_str(ctx.body, "name", max_len=TAG_NAME_MAX)
    color = opt_color(ctx.body)
    description = opt_text(ctx.body, "description")
    existing = ctx.state.tag_by_name(ctx.site_id, name)
    if existing is not None:
        # Idempotent on (site, name): the existing row, re-enabled if it was soft-deleted.
        existing.enabled = True
        return {**existing.to_api(), "created": False}
    tag = Tag(
        id=ctx.state.next_id("tag"),
        site_id=ctx.site_id,
        name=name,
        color=color or DEFAULT_TAG_COLOR,
        description=description or "",
        enabled=True,
        created_utc=ctx.now,
    )
    ctx.state.tags[tag.id] = tag
    return {**tag.to_api(), "created": True}


async def patch_tag(ctx: Ctx) -> dict[str, Any]:
    tag = _tag_or_404(ctx, req_int(ctx.body, "id"))
    _require_any(ctx.body, ("name", "color", "description", "enabled"))
    name = opt_str(ctx.body, "name", max_len=TAG_NAME_MAX)
    color = opt_color(ctx.body)
    description = opt_text(ctx.body, "description")
    enabled = opt_bool(ctx.body, "enabled")
    if name is not None:
        clash = ctx.state.tag_by_name(ctx.site_id, name)
        if clash is not None and clash.id != tag.id:
            raise ApiError(
                409, "duplicate_name", f"a tag named '{clash.name}' already exists (id {clash.id})"
            )
        tag.name = name
    if color is not None:
        tag.color = color
    if description is not None:
        tag.description = description
    if enabled is not None:
        tag.enabled = enabled
    return tag.to_api()


async def delete_tag(ctx: Ctx) -> dict[str, Any]:
    tag = _tag_or_404(ctx, query_int(ctx.query, "id"))
    tag.enabled = False
    return tag.to_api()


def _session_or_404(ctx: Ctx, session_id: str) -> str:
    if not ctx.state.has_session(ctx.site_id, session_id):
        raise not_found(f"session '{session_id}' not found")
    return session_id


async def post_apply_tag(ctx: Ctx) -> dict[str, Any]:
    session_id = req_str(ctx.body, "session_id", max_len=64)
    tag = _tag_or_404(ctx, req_int(ctx.body, "tag_id"))
    _session_or_404(ctx, session_id)
    if not tag.enabled:
        raise bad_field(f"tag {tag.id} is disabled; re-enable it before applying it")
    key = (ctx.site_id, session_id, tag.id)
    created = key not in ctx.state.tag_applications
    ctx.state.tag_applications.add(key)
    return {"session_id": session_id, "tag_id": tag.id, "created": created}


async def delete_apply_tag(ctx: Ctx) -> dict[str, Any]:
    session_id = query_str(ctx.query, "session_id")
    tag = _tag_or_404(ctx, query_int(ctx.query, "tag_id"))
    _session_or_404(ctx, session_id)
    key = (ctx.site_id, session_id, tag.id)
    removed = 1 if key in ctx.state.tag_applications else 0
    ctx.state.tag_applications.discard(key)
    return {"removed": removed}


# --- webhook subscriptions ---------------------------------------------------------------------


def _webhook_or_404(ctx: Ctx, webhook_id: int) -> WebhookSubscription:
    sub = ctx.state.webhook_for(ctx.site_id, webhook_id)
    if sub is None:
        raise not_found(f"webhook subscription {webhook_id} not found")
    return sub


async def post_webhook(ctx: Ctx) -> dict[str, Any]:
    label = req_str(ctx.body, "label", max_len=100)
    url = http_url(ctx.body)
    if url is None:
        raise missing_field("url")
    events = events_csv(ctx.body)
    if events is None:
        raise missing_field("events")
    sub = WebhookSubscription(
        id=ctx.state.next_id("webhook"),
        site_id=ctx.site_id,
        label=label,
        url=url,
        events=events,
        enabled=True,
        secret=webhooks.new_secret(),
        created_utc=ctx.now,
    )
    ctx.state.webhooks[sub.id] = sub
    return {**sub.to_api(), "secret": sub.secret}


async def patch_webhook(ctx: Ctx) -> dict[str, Any]:
    sub = _webhook_or_404(ctx, req_int(ctx.body, "id"))
    _require_any(ctx.body, ("label", "url", "events", "enabled"))
    label = opt_str(ctx.body, "label", max_len=100)
    url = http_url(ctx.body)
    events = events_csv(ctx.body)
    enabled = opt_bool(ctx.body, "enabled")
    if label is not None:
        sub.label = label
    if url is not None:
        sub.url = url
    if events is not None:
        sub.events = events
    if enabled is not None:
        sub.enabled = enabled
    return sub.to_api()


async def delete_webhook(ctx: Ctx) -> dict[str, Any]:
    sub = _webhook_or_404(ctx, query_int(ctx.query, "id"))
    del ctx.state.webhooks[sub.id]
    return {"id": sub.id, "deleted": True}


async def post_rotate_secret(ctx: Ctx) -> dict[str, Any]:
    sub = _webhook_or_404(ctx, req_int(ctx.body, "id"))
    sub.secret = webhooks.new_secret()
    return {"id": sub.id, "secret": sub.secret}


async def post_test_webhook(ctx: Ctx) -> dict[str, Any]:
    sub = _webhook_or_404(ctx, req_int(ctx.body, "id"))
    data = {
        "subscription_id": sub.id,
        "label": sub.label,
        "message": "This is a test event from MyLiveChat.",
    }
    payload = webhooks.build_payload("test", ctx.site_id, data)
    result = await webhooks.deliver(sub.url, sub.secret, payload)
    return {
        "id": sub.id,
        "delivered": result.delivered,
        "receiver_status": result.receiver_status,
        "signature_header": webhooks.SIGNATURE_HEADER,
    }


# --- chat-platform notifiers -------------------------------------------------------------------

_NOTIFIER_RULES = {
    "slack": "must start with https://hooks.slack.com/",
    "discord": "must start with https://discord.com/api/webhooks/ or "
    "https://discordapp.com/api/webhooks/",
    "teams": "must be an https:// URL on a *.webhook.office.com or *.logic.azure.com host",
}


def notifier_url_ok(platform: str, url: str) -> bool:
    """Whether `url` satisfies the platform's webhook URL prefix rule."""
    if any(c.isspace() for c in url):
        return False
    if platform == "slack":
        prefixes: tuple[str, ...] = ("https://hooks.slack.com/",)
    elif platform == "discord":
        prefixes = ("https://discord.com/api/webhooks/", "https://discordapp.com/api/webhooks/")
    else:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        return (
            parts.scheme == "https"
            and url.lower().startswith("https://")
            and host.endswith((".webhook.office.com", ".logic.azure.com"))
        )
    # The path after the fixed prefix is what identifies the webhook, so it must be there.
    return any(url.startswith(p) and len(url) > len(p) for p in prefixes)


def _notifier(ctx: Ctx, platform: str) -> NotifierSettings:
    return ctx.state.notifiers[(ctx.site_id, platform)]


def _get_settings(platform: str) -> Handler:
    async def handler(ctx: Ctx) -> dict[str, Any]:
        return _notifier(ctx, platform).to_api()

    return handler


def _patch_settings(platform: str) -> Handler:
    async def handler(ctx: Ctx) -> dict[str, Any]:
        _require_any(ctx.body, ("webhook_url", "events"))
        url: str | None = None
        clear = False
        if "webhook_url" in ctx.body:
            raw = ctx.body["webhook_url"]
            if raw is None or raw == "":
                clear = True
            elif not isinstance(raw, str):
                raise bad_field("'webhook_url' must be a string")
            elif len(raw) > 2048 or not notifier_url_ok(platform, raw):
                raise bad_field(f"{platform} webhook_url {_NOTIFIER_RULES[platform]}")
            else:
                url = raw
        events = events_array(ctx.body)
        settings = _notifier(ctx, platform)
        if clear:
            settings.webhook_url = None
        elif url is not None:
            settings.webhook_url = url
        if events is not None:
            settings.events = events
        return settings.to_api()

    return handler


# --- visitors ----------------------------------------------------------------------------------


async def post_visitor(ctx: Ctx) -> dict[str, Any]:
    key = req_str(ctx.body, "visitor_key", max_len=128)
    email = opt_email(ctx.body)
    name = opt_str(ctx.body, "name", max_len=200)
    plan = opt_str(ctx.body, "plan", max_len=64)
    attributes = opt_object(ctx.body, "attributes")
    visitor = ctx.state.visitors.get((ctx.site_id, key))
    created = visitor is None
    if visitor is None:
        visitor = Visitor(
            site_id=ctx.site_id,
            visitor_key=key,
            email=None,
            name=None,
            plan=None,
            attributes={},
            last_seen_utc=ctx.now,
        )
        ctx.state.visitors[(ctx.site_id, key)] = visitor
    if email is not None:
        visitor.email = email
    if name is not None:
        visitor.name = name
    if plan is not None:
        visitor.plan = plan
    if attributes is not None:
        # identify() merges: keys sent overwrite, keys not sent are kept.
        visitor.attributes.update(attributes)
    visitor.last_seen_utc = ctx.now
    return {**visitor.to_api(), "created": created}


async def post_visitor_event(ctx: Ctx) -> dict[str, Any]:
    key = req_str(ctx.body, "visitor_key", max_len=128)
    event = req_str(ctx.body, "event", max_len=64)
    properties = opt_object(ctx.body, "properties")
    visitor = ctx.state.visitors.get((ctx.site_id, key))
    if visitor is None:
        raise not_found(f"visitor '{key}' not found")
    visitor.event_count += 1
    visitor.event_counts[event] = visitor.event_counts.get(event, 0) + 1
    visitor.last_seen_utc = ctx.now
    ctx.state.visitor_events.append(
        {
            "site_id": ctx.site_id,
            "visitor_key": key,
            "event": event,
            "properties": properties or {},
            "at_utc": iso(ctx.now),
        }
    )
    return {"visitor_key": key, "event": event, "event_count": visitor.event_count}


# --- the routing table -------------------------------------------------------------------------

ROUTES: dict[str, dict[str, Handler]] = {
    "ping": {"GET": get_ping},
    "whoami": {"GET": get_whoami},
    "tags": {"GET": get_tags, "POST": post_tag, "PATCH": patch_tag, "DELETE": delete_tag},
    "conversation_starters": {"GET": get_starters},
    "handoffs": {"GET": get_handoffs},
    "transcripts": {"GET": get_transcripts},
    "usage": {"GET": get_usage},
    "feedback": {"GET": get_feedback},
    "webhook_subscriptions": {
        "GET": get_webhooks,
        "POST": post_webhook,
        "PATCH": patch_webhook,
        "DELETE": delete_webhook,
    },
    "visitors": {"GET": get_visitors, "POST": post_visitor},
    "apply_tag": {"POST": post_apply_tag, "DELETE": delete_apply_tag},
    "rotate_webhook_secret": {"POST": post_rotate_secret},
    "test_webhook": {"POST": post_test_webhook},
    "visitor_event": {"POST": post_visitor_event},
    **{
        f"{platform}_settings": {"GET": _get_settings(platform), "PATCH": _patch_settings(platform)}
        for platform in ("slack", "discord", "teams")
    },
}
