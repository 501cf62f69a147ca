"""help, ping, whoami."""

from __future__ import annotations

import time
from typing import NotRequired

from typing_extensions import TypedDict

from commands.context import Context, Role
from commands.data import Timestamp, iso
from commands.errors import UsageError
from commands.formatting import markup
from commands.reply import Field, Reply, Table
from commands.spec import Command, Param, ParamType, command
from commands.suggest import did_you_mean
from commands.timefmt import ago


class HelpEntry(TypedDict):
    name: str
    usage: str
    summary: str
    permission: str
    """read, member-write or admin."""


class HelpParam(TypedDict):
    name: str
    usage: str
    help: str
    default: str | int | bool | None


class HelpDetail(TypedDict):
    name: str
    usage: str
    help: str
    permission: str
    cost: str
    """The MyLiveChat API calls it makes."""
    examples: list[str]
    params: list[HelpParam]
    subcommands: list[str]


class HelpData(TypedDict):
    commands: list[HelpEntry]
    """The commands listed: all of them, a group's, or the one asked about."""
    command: NotRequired[HelpDetail]
    """Only for `help <command>`."""


def _entry(cmd: Command) -> HelpEntry:
    return {
        "name": cmd.name,
        "usage": cmd.usage,
        "summary": cmd.summary,
        "permission": cmd.permission.value,
    }


@command(
    "help",
    help="List the commands, or show one command's usage, options and examples.",
    examples=["help", "help tags add"],
    params=[
        Param(
            "topic", ParamType.TEXT, "a command, e.g. `tags add`", positional=True, max_length=100
        )
    ],
    cost="no API call",
    data=HelpData,
)
async def help_(ctx: Context, topic: str | None = None) -> Reply:
    catalog = ctx.catalog
    assert catalog is not None, "the dispatcher sets the catalog"
    if not topic:
        rows = [[f"/mlc {c.name}", markup(c.summary)] for c in catalog]
        return Reply(
            title="MyLiveChat bot commands",
            table=Table.of(["command", "what it does"], rows),
            notes=("Type `help <command>` for its options and an example.",),
            data=HelpData(commands=[_entry(c) for c in catalog]),
        )
    words = topic.lower().split()
    cmd = catalog.get(words)
    if cmd is None:
        group = catalog.children(words)
        if group:
            rows = [[f"/mlc {c.name}", markup(c.summary)] for c in group]
            return Reply(
                title=f"/mlc {topic}",
                table=Table.of(["command", "what it does"], rows),
                data=HelpData(commands=[_entry(c) for c in group]),
            )
        hint = did_you_mean(topic, catalog.names())
        raise UsageError(f"There is no command `{topic}`.{hint} Type `help` to see them all.")
    # The values are the bot's own text, with inline code: markup, not data.
    fields = [Field("Usage", markup(f"`/mlc {cmd.usage}`"), inline=False)]
    for p in cmd.params:
        default = f" (default {p.default})" if p.default is not None else ""
        fields.append(Field(p.usage, markup(p.help) + default))
    examples = "\n".join(f"`/mlc {e}`" for e in cmd.examples)
    fields.append(Field("Examples", markup(examples), inline=False))
    fields.append(Field("Who can run it", cmd.permission.value))
    if cmd.cost:
        fields.append(Field("API calls", cmd.cost))
    subs = catalog.children(cmd.path)
    notes = (f"Subcommands: {', '.join(c.path[-1] for c in subs)}",) if subs else ()
    detail = HelpDetail(
        name=cmd.name,
        usage=cmd.usage,
        help=cmd.help,
        permission=cmd.permission.value,
        cost=cmd.cost,
        examples=list(cmd.examples),
        params=[
            HelpParam(name=p.name, usage=p.usage, help=p.help, default=p.default)
            for p in cmd.params
        ],
        subcommands=[c.name for c in subs],
    )
    return Reply(
        title=f"/mlc {cmd.name}",
        text=cmd.help,
        fields=tuple(fields),
        notes=notes,
        data=HelpData(commands=[_entry(cmd)], command=detail),
    )


class PingData(TypedDict):
    round_trip_ms: float
    """The API's answer time, without any wait for the rate limit."""
    rate_limit_wait_s: float
    """How long the request waited for the token's rate limit first."""
    server_time_utc: Timestamp | None


@command(
    "ping",
    help="Check that the bot can reach MyLiveChat and how long it takes.",
    examples=["ping"],
    cost="1 call: GET ping",
    data=PingData,
)
async def ping(ctx: Context) -> Reply:
    started = time.perf_counter()
    pong = await ctx.api.ping()
    total = time.perf_counter() - started
    round_trip = pong.round_trip if pong.round_trip is not None else total
    fields = [Field("Round trip", f"{round_trip * 1000:.0f} ms")]
    waited = total - round_trip
    if waited >= 1:
        fields.append(Field("Waited for the rate limit", f"{waited:.0f} s"))
    fields.append(Field("Server time", pong.time_utc.isoformat() if pong.time_utc else "n/a"))
    data = PingData(
        round_trip_ms=round(round_trip * 1000, 1),
        rate_limit_wait_s=round(max(waited, 0.0), 1),
        server_time_utc=iso(pong.time_utc),
    )
    return Reply(title="MyLiveChat is reachable", fields=tuple(fields), data=data)


class WhoAmIData(TypedDict):
    site_id: int | None
    token_label: str | None
    scopes: list[str]
    can_write: bool
    """Whether commands that change data can run."""
    request_count: int | None
    """Requests the token has made."""
    created_utc: Timestamp | None
    last_used_utc: Timestamp | None
    role: Role
    """Your role in the bot (unconfirmed: the platform did not say; read commands only)."""


@command(
    "whoami",
    help="Show which MyLiveChat site and token the bot uses (never the token itself).",
    examples=["whoami"],
    cost="1 call: GET whoami (always fresh; write checks use a copy cached for 10 minutes)",
    data=WhoAmIData,
)
async def whoami(ctx: Context) -> Reply:
    me = await ctx.api.whoami()
    now = ctx.now()
    fields = (
        Field("Site id", str(me.site_id) if me.site_id is not None else "n/a"),
        Field("Token label", me.label or "n/a"),
        Field("Scopes", ", ".join(me.scopes) or "n/a"),
        Field("Requests made", str(me.request_count) if me.request_count is not None else "n/a"),
        Field("Last used", ago(me.last_used_utc, now)),
        Field("Your role", ctx.policy.role(ctx.caller)),
    )
    notes = () if me.can_write else ("The token is read-only: commands that change data are off.",)
    data = WhoAmIData(
        site_id=me.site_id,
        token_label=me.label,
        scopes=list(me.scopes),
        can_write=me.can_write,
        request_count=me.request_count,
        created_utc=iso(me.created_utc),
        last_used_utc=iso(me.last_used_utc),
        role=ctx.policy.role_word(ctx.caller),
    )
    return Reply(title="MyLiveChat connection", fields=fields, notes=notes, data=data)
