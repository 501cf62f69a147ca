"""handoffs, transcript, transcripts."""

from __future__ import annotations

from datetime import tzinfo

from bot.mylivechat import Message, Transcript
from commands.context import Context
from commands.errors import unknown_session
from commands.formatting import clip, count, local_zone, na, visitor_label
from commands.params import SESSION_ID, limit_param
from commands.reply import Action, Reply, Row, Table
from commands.spec import Param, ParamType, Source, command
from commands.timefmt import ago, clock_time, short_datetime

TRANSCRIPT_LAST_DEFAULT = 30
"""Messages a transcript shows by default: enough for context, short enough for one chat post."""
MESSAGE_CHARS = 280


@command(
    "handoffs",
    help="Recent AI-to-human handoffs, newest first.",
    examples=["handoffs", "handoffs --limit 25 --public"],
    params=[limit_param("how many handoffs to show", 10)],
    public=True,
    cost="1 call: GET handoffs",
)
async def handoffs(ctx: Context, limit: int = 10) -> Reply:
    rows = await ctx.api.list_handoffs(limit=limit)
    ctx.site.remember_handoffs(rows)
    if not rows:
        return Reply(title="No handoffs", text="No conversation was handed to a human recently.")
    now = ctx.now()
    table_rows = []
    for handoff in rows:
        session = handoff.session_id or "n/a"
        actions: tuple[Action, ...] = ()
        if handoff.session_id:
            actions = (
                Action("Transcript", f"transcript {session}"),
                Action("Tag", f"tag {session}", pick=Source.TAG),
            )
        cells = (
            session,
            visitor_label(handoff),
            na(handoff.reason),
            handoff.assigned_to or "waiting",
            ago(handoff.created_utc, now),
        )
        table_rows.append(Row(cells, actions))
    waiting = sum(1 for h in rows if not h.assigned_to)
    summary = f"{count(len(rows), 'handoff')}, {waiting} waiting for an agent."
    return Reply(
        title="Recent handoffs",
        text=summary,
        table=Table(("session", "visitor", "reason", "agent", "when"), tuple(table_rows)),
    )


@command(
    "transcript",
    help="Show a chat session's messages: who said what, and when.",
    examples=["transcript s_8f2a91c0d4e1", "transcript s_8f2a91c0d4e1 --last 100"],
    params=[
        SESSION_ID,
        Param(
            "last",
            ParamType.INTEGER,
            "how many of the latest messages to show",
            default=TRANSCRIPT_LAST_DEFAULT,
            min=1,
            max=500,
            metavar="N",
        ),
    ],
    cost="1 call: GET transcripts?session_id=",
)
async def transcript(ctx: Context, session_id: str, last: int = TRANSCRIPT_LAST_DEFAULT) -> Reply:
    found = await ctx.api.list_transcripts(session_id=session_id)
    chat = next((t for t in found if t.session_id == session_id), None)
    if chat is None:
        raise unknown_session(session_id)
    return _transcript_reply(ctx, chat, last)


def _transcript_reply(ctx: Context, chat: Transcript, last: int) -> Reply:
    tz = local_zone(ctx)
    messages = chat.messages
    shown = messages[-last:]
    left_out = len(messages) - len(shown)
    status = "ended " + ago(chat.ended_utc, ctx.now()) if chat.ended_utc else "still open"
    header = (
        f"Visitor {na(chat.visitor_key)} · started {short_datetime(chat.started_utc, tz)} · "
        f"{status} · {count(len(messages), 'message')}"
    )
    lines = [_message_line(m, tz) for m in shown] or ["(no messages)"]
    notes: tuple[str, ...] = ()
    if left_out:
        more = min(len(messages), 500)
        notes = (
            f"{count(left_out, 'earlier message')} not shown; "
            f"`transcript {chat.session_id} --last {more}` shows more.",
        )
    return Reply(
        title=f"Transcript {chat.session_id}",
        text="\n".join([header, "", *lines]),
        notes=notes,
        actions=(Action("Tag", f"tag {chat.session_id}", pick=Source.TAG),),
    )


_ROLES = {"visitor": "visitor", "agent": "agent", "ai": "AI"}


def _message_line(message: Message, tz: tzinfo) -> str:
    role = _ROLES.get(message.role or "", message.role or "?")
    author = message.author or role
    text = clip(message.text, MESSAGE_CHARS)
    return f"{clock_time(message.at_utc, tz)}  {role:<7}  {author}: {text}"


@command(
    "transcripts",
    help="Recent chat sessions with their visitor, length and state.",
    examples=["transcripts", "transcripts --limit 25"],
    params=[limit_param("how many transcripts to show", 10)],
    cost="1 call: GET transcripts",
)
async def transcripts(ctx: Context, limit: int = 10) -> Reply:
    rows = await ctx.api.list_transcripts(limit=limit)
    if not rows:
        return Reply(title="No transcripts", text="There are no recent chat sessions.")
    now = ctx.now()
    table_rows = []
    for chat in rows:
        first = next((m.text for m in chat.messages if m.role == "visitor"), None)
        cells = (
            na(chat.session_id),
            na(chat.visitor_key),
            ago(chat.started_utc, now),
            str(len(chat.messages)),
            "ended" if chat.ended_utc else "open",
            clip(first, 60) or "n/a",
        )
        actions = (
            (Action("Transcript", f"transcript {chat.session_id}"),) if chat.session_id else ()
        )
        table_rows.append(Row(cells, actions))
    return Reply(
        title="Recent transcripts",
        table=Table(
            ("session", "visitor", "started", "messages", "state", "first message"),
            tuple(table_rows),
        ),
    )
