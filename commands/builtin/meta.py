"""help, ping, whoami."""

from __future__ import annotations

import time

from commands.context import Context
from commands.errors import UsageError
from commands.formatting import markup
from commands.reply import Field, Reply, Table
from commands.spec import Param, ParamType, command
from commands.suggest import did_you_mean
from commands.timefmt import ago


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
        )
    words = topic.lower().split()
    cmd = catalog.get(words)
    if cmd is None:
        group = catalog.children(words)
        if group:
            rows = [[f"/mlc {c.name}", markup(c.summary)] for c in group]
            return Reply(title=f"/mlc {topic}", table=Table.of(["command", "what it does"], rows))
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
    return Reply(title=f"/mlc {cmd.name}", text=cmd.help, fields=tuple(fields), notes=notes)


@command(
    "ping",
    help="Check that the bot can reach MyLiveChat and how long it takes.",
    examples=["ping"],
    cost="1 call: GET ping",
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
    return Reply(title="MyLiveChat is reachable", fields=tuple(fields))


@command(
    "whoami",
    help="Show which MyLiveChat site and token the bot uses (never the token itself).",
    examples=["whoami"],
    cost="1 call: GET whoami (always fresh; write checks use a copy cached for 10 minutes)",
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
    return Reply(title="MyLiveChat connection", fields=fields, notes=notes)
