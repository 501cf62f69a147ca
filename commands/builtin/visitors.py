"""visitors, visitor set, visitor event."""

from __future__ import annotations

import re
from typing import Any

from typing_extensions import TypedDict

from bot.mylivechat import OutcomeUnknown, Visitor
from commands.context import Context
from commands.data import VisitorData, visitor_data
from commands.errors import UsageError
from commands.failures import outcome_unknown_reply
from commands.formatting import clip, count, data, joined, na, number
from commands.outcomes import unchanged
from commands.params import limit_param
from commands.readback import RUN_AGAIN_SAFELY, confirmed, not_applied, settle
from commands.reply import Field, Kind, Reply, Table
from commands.spec import Param, ParamType, Permission, command
from commands.timefmt import ago

_INTEGER = re.compile(r"-?[0-9]{1,16}")
_SAFE = 2**53 - 1  # the largest integer every JSON reader keeps exactly

_KEY = Param(
    "visitor_key",
    ParamType.STRING,
    "the visitor's key, as your site identifies them (e.g. u-12345)",
    positional=True,
    required=True,
    metavar="key",
    max_length=128,  # the API's bound
)


class VisitorsData(TypedDict):
    visitors: list[VisitorData]
    """Most recently seen first."""


class SavedVisitor(TypedDict):
    visitor: VisitorData
    created: bool | None
    """True for a new visitor, false for an update; null when MyLiveChat did not say."""
    changed: bool
    """False when the visitor already had the values asked for (nothing was sent)."""


class RecordedEvent(TypedDict):
    visitor_key: str
    event: str
    event_count: int | None
    """The visitor's events so far, this one included."""


@command(
    "visitors",
    help="Recently seen visitors from the visitor CRM.",
    examples=["visitors", "visitors --limit 50"],
    params=[limit_param("how many visitors to show", 20)],
    cost="1 call: GET visitors",
    data=VisitorsData,
)
async def visitors(ctx: Context, limit: int = 20) -> Reply:
    rows = await ctx.api.list_visitors(limit=limit)
    if not rows:
        return Reply(
            title="No visitors",
            text="The visitor CRM is empty for this site.",
            data=VisitorsData(visitors=[]),
        )
    now = ctx.now()
    table = Table.of(
        ["key", "name", "email", "plan", "last seen", "events"],
        [
            [
                na(v.visitor_key),
                clip(v.name, 30) or "n/a",
                na(v.email),
                na(v.plan),
                ago(v.last_seen_utc, now),
                number(v.event_count),
            ]
            for v in rows
        ],
    )
    return Reply(
        title=f"Visitors ({len(rows)})",
        table=table,
        data=VisitorsData(visitors=[visitor_data(v) for v in rows]),
    )


@command(
    "visitor set",
    help="Create or update a visitor (like the widget's identify call).",
    examples=[
        "visitor set u-12345 --email jane@acme.com --name Jane Doe --plan pro",
        "visitor set u-12345 --attr seats=12 --attr company=Acme",
    ],
    params=[
        _KEY,
        Param("email", ParamType.STRING, "their email address", max_length=254),
        Param("name", ParamType.TEXT, "their name", max_length=200),
        Param("plan", ParamType.STRING, "their plan, e.g. pro", max_length=64),
        Param("attr", ParamType.KEY_VALUES, "custom attributes as key=value pairs, e.g. seats=5"),
    ],
    permission=Permission.MEMBER_WRITE,
    writes=True,
    cost="2 calls: GET visitors, then POST visitors (only the GET when the visitor already "
    "has those values)",
    data=SavedVisitor,
)
async def visitor_set(
    ctx: Context,
    visitor_key: str,
    email: str | None = None,
    name: str | None = None,
    plan: str | None = None,
    attr: dict[str, str] | None = None,
) -> Reply:
    if email is None and name is None and plan is None and not attr:
        raise UsageError("Say what to set: --email, --name, --plan or --attr key=value.")
    if email is not None and not _looks_like_email(email):
        raise UsageError(f"--email must be an email address like jane@acme.com, not {email!r}.")
    attributes = {k: _typed(v) for k, v in (attr or {}).items()}
    wanted = {"email": email, "name": name, "plan": plan}
    current = next(
        (
            v
            for v in await ctx.api.list_visitors(limit=_READ_BACK_LIMIT)
            if v.visitor_key == visitor_key
        ),
        None,
    )
    if current is not None and not _unlike(current, wanted, attributes):
        asked = [field for field, value in wanted.items() if value is not None]
        asked += [f"attribute {k}" for k in attributes]
        return unchanged(
            "Nothing to change",
            f"Visitor `{data(visitor_key)}` already has the {joined(asked)} asked for.",
            fields=_visitor_fields(current),
            data=SavedVisitor(visitor=visitor_data(current), created=False, changed=False),
        )
    try:
        saved = await ctx.api.upsert_visitor(
            visitor_key, email=email, name=name, plan=plan, attributes=attributes or None
        )
    except OutcomeUnknown as lost:

        async def read() -> list[Visitor]:
            # A saved visitor is the most recently seen, so it is among the first rows.
            return await ctx.api.list_visitors(limit=_READ_BACK_LIMIT)

        return await settle(
            lost,
            read,
            lambda lost, rows: _judge_set(lost, rows, visitor_key, wanted, attributes),
            what=f"the visitor `{data(visitor_key)}` was saved",
            check=f"Type `visitors` to see whether `{data(visitor_key)}` shows the change.",
        )
    verb = "Created" if saved.created else "Updated"
    return Reply(
        title=f"{verb} visitor {data(saved.visitor_key or visitor_key)}",
        fields=_visitor_fields(saved),
        kind=Kind.SUCCESS,
        data=SavedVisitor(visitor=visitor_data(saved), created=saved.created, changed=True),
    )


@command(
    "visitor event",
    help="Record an event for a visitor, with optional properties.",
    examples=["visitor event u-12345 upgraded plan=pro seats=12"],
    params=[
        _KEY,
        Param(
            "event",
            ParamType.STRING,
            "the event's name, e.g. upgraded",
            positional=True,
            required=True,
            max_length=64,  # the API's bound
        ),
        Param("properties", ParamType.KEY_VALUES, "properties as key=value", positional=True),
    ],
    permission=Permission.MEMBER_WRITE,
    writes=True,
    cost="1 call: POST visitor_event",
    data=RecordedEvent,
)
async def visitor_event(
    ctx: Context, visitor_key: str, event: str, properties: dict[str, str] | None = None
) -> Reply:
    typed = {k: _typed(v) for k, v in (properties or {}).items()}
    try:
        recorded = await ctx.api.track_visitor_event(visitor_key, event, typed or None)
    except OutcomeUnknown as lost:
        # Settling it would need the event count from before: not worth a read every time.
        return outcome_unknown_reply(
            lost,
            what=f"the event `{data(event)}` was recorded for `{data(visitor_key)}`; "
            "it may have been",
            check="Check the visitor's event count with `visitors` before recording it again: "
            "recording it twice counts it twice.",
        )
    total = count(recorded.event_count, "event") if recorded.event_count is not None else "n/a"
    return Reply(
        title=f"Recorded {data(recorded.event or event)}",
        text=f"Visitor `{data(recorded.visitor_key or visitor_key)}` now has {total}.",
        kind=Kind.SUCCESS,
        data=RecordedEvent(
            visitor_key=recorded.visitor_key or visitor_key,
            event=recorded.event or event,
            event_count=recorded.event_count,
        ),
    )


_READ_BACK_LIMIT = 200  # the most GET visitors returns


def _judge_set(
    lost: OutcomeUnknown,
    rows: list[Visitor],
    key: str,
    wanted: dict[str, str | None],
    attributes: dict[str, Any],
) -> Reply:
    visitor = next((v for v in rows if v.visitor_key == key), None)
    if visitor is None:
        shows = f"no visitor `{data(key)}` among the {_READ_BACK_LIMIT} most recently seen"
        return not_applied(lost, f"Visitor {data(key)} not saved", shows)
    unlike = _unlike(visitor, wanted, attributes)
    if unlike:
        return not_applied(
            lost,
            f"Visitor {data(key)} not saved",
            f"its {joined(unlike)} as before",
            again=RUN_AGAIN_SAFELY,
            fields=_visitor_fields(visitor),
        )
    saved = Reply(
        title=f"Saved visitor {data(key)}",
        fields=_visitor_fields(visitor),
        kind=Kind.SUCCESS,
        data=SavedVisitor(visitor=visitor_data(visitor), created=None, changed=True),
    )
    return confirmed(lost, saved)


def _unlike(
    visitor: Visitor, wanted: dict[str, str | None], attributes: dict[str, Any]
) -> list[str]:
    """The fields and attributes asked for that ``visitor`` does not have."""
    shown = {"email": visitor.email, "name": visitor.name, "plan": visitor.plan}
    unlike = [
        field
        for field, value in wanted.items()
        if value is not None and not _same(shown[field], value, fold=field == "email")
    ]
    have = visitor.attributes
    unlike += [
        f"attribute {k}"
        for k, v in attributes.items()
        # Strictly: True == 1 in Python, but not in the visitor's attributes.
        if k not in have or type(have[k]) is not type(v) or have[k] != v
    ]
    return unlike


def _same(shown: str | None, wanted: str, *, fold: bool = False) -> bool:
    """Whether a read-back value is the one asked for (emails in any case)."""
    have, want = (shown or "").strip(), wanted.strip()
    return have.casefold() == want.casefold() if fold else have == want


def _visitor_fields(visitor: Visitor) -> tuple[Field, ...]:
    attributes = ", ".join(f"{k}={v}" for k, v in sorted(visitor.attributes.items()))
    return (
        Field("Name", na(visitor.name)),
        Field("Email", na(visitor.email)),
        Field("Plan", na(visitor.plan)),
        Field("Events", number(visitor.event_count)),
        Field("Attributes", attributes or "none", inline=False),
    )


def _looks_like_email(text: str) -> bool:
    local, at, domain = text.partition("@")
    return bool(local and at and "." in domain.strip(".") and not any(c.isspace() for c in text))


def _typed(value: str) -> Any:
    """``12`` as 12 and ``true`` as True, so attributes keep the types the widget sends.

    Only exact round trips of ASCII digits within JSON's safe integers convert: ``007``,
    ``1e3``, ``²`` or a 30-digit number stay text.
    """
    if value in ("true", "false"):
        return value == "true"
    if _INTEGER.fullmatch(value) and str(int(value)) == value and abs(int(value)) <= _SAFE:
        return int(value)
    return value
