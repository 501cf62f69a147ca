"""handoffs, transcript, transcripts."""

from __future__ import annotations

from datetime import tzinfo

from typing_extensions import TypedDict

from bot.mylivechat import Message, Transcript
from commands.context import Context
from commands.data import HandoffData, TranscriptData, handoff_data, transcript_data
from commands.errors import unknown_session
from commands.formatting import clip, count, data, na, visitor_label
from commands.params import API_MAX_LIMIT, SESSION_ID, limit_param
from commands.reply import Action, Reply, Row, Table
from commands.spec import Param, ParamType, Source, command
from commands.timefmt import ago, clock_time, short_datetime

TRANSCRIPT_LAST_DEFAULT = 30
"""Messages a transcript shows by default: enough for context, short enough for one chat post."""
MESSAGE_CHARS = 280


class HandoffsData(TypedDict):
    handoffs: list[HandoffData]
    """Newest first."""
    waiting: int
    """How many of them wait for an agent (assigned_to is null)."""


class TranscriptReplyData(TypedDict):
    transcript: TranscriptData
    """Its messages are the latest `--last` of them; message_count counts them all."""
    messages_not_shown: int


class TranscriptsData(TypedDict):
    transcripts: list[TranscriptData]
    """Newest first, each with all its messages."""


@command(
    "handoffs",
    help="Recent AI-to-human handoffs, newest first.",
    examples=["handoffs", "handoffs --waiting", "handoffs --limit 25 --public"],
    params=[
        limit_param("how many handoffs to show", 10),
        Param(
            "waiting",
            ParamType.FLAG,
            f"only those no agent has taken yet (among the latest {API_MAX_LIMIT})",
        ),
    ],
    public=True,
    cost="1 call: GET handoffs",
    data=HandoffsData,
)
async def handoffs(ctx: Context, limit: int = 10, waiting: bool = False) -> Reply:
    # The API cannot filter: --waiting reads the most it can in its one call.
    fetched = await ctx.api.list_handoffs(limit=API_MAX_LIMIT if waiting else limit)
    ctx.site.remember_handoffs(fetched)
    rows = [h for h in fetched if not h.assigned_to][:limit] if waiting else fetched
    if not rows:
        if waiting:
            return Reply(
                title="No handoffs waiting",
                text=f"Every one of the latest {count(len(fetched), 'handoff')} has an agent.",
                data=HandoffsData(handoffs=[], waiting=0),
            )
        return Reply(
            title="No handoffs",
            text="No conversation was handed to a human recently.",
            data=HandoffsData(handoffs=[], waiting=0),
        )
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
    if waiting:
        unassigned = sum(1 for h in fetched if not h.assigned_to)
        summary = (
            f"{count(unassigned, 'handoff')} waiting for an agent among the latest "
            f"{len(fetched):,}"
            + (f"; the {len(rows):,} newest shown." if len(rows) < unassigned else ".")
        )
    else:
        left = sum(1 for h in rows if not h.assigned_to)
        summary = f"{count(len(rows), 'handoff')}, {left} waiting for an agent."
    return Reply(
        title="Handoffs waiting for an agent" if waiting else "Recent handoffs",
        text=summary,
        table=Table(("session", "visitor", "reason", "agent", "when"), tuple(table_rows)),
        data=HandoffsData(
            handoffs=[handoff_data(h) for h in rows],
            waiting=sum(1 for h in rows if not h.assigned_to),
        ),
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
    data=TranscriptReplyData,
)
async def transcript(ctx: Context, session_id: str, last: int = TRANSCRIPT_LAST_DEFAULT) -> Reply:
    found = await ctx.api.list_transcripts(session_id=session_id)
    chat = next((t for t in found if t.session_id == session_id), None)
    if chat is None:
        raise unknown_session(session_id)
    return _transcript_reply(ctx, chat, last)


def _transcript_reply(ctx: Context, chat: Transcript, last: int) -> Reply:
    tz = ctx.zone()
    messages = chat.messages
    shown = messages[-last:]
    left_out = len(messages) - len(shown)
    status = "ended " + ago(chat.ended_utc, ctx.now()) if chat.ended_utc else "still open"
    who = transcript_visitor(chat)
    if chat.visitor_key and who != chat.visitor_key:
        who += f" ({chat.visitor_key})"
    header = (
        f"Visitor {data(who)} · started {short_datetime(chat.started_utc, tz)} · "
        f"{status} · {count(len(messages), 'message')}"
    )
    lines = [_message_line(m, tz) for m in shown] or ["(no messages)"]
    notes: tuple[str, ...] = ()
    if left_out:
        more = min(len(messages), 500)
        notes = (
            f"{count(left_out, 'earlier message')} not shown; "
            f"`transcript {data(chat.session_id)} --last {more}` shows more.",
        )
    return Reply(
        title=f"Transcript {data(chat.session_id)}",
        text="\n".join([header, "", *lines]),
        notes=notes,
        actions=(Action("Tag", f"tag {chat.session_id}", pick=Source.TAG),),
        data=TranscriptReplyData(
            transcript=transcript_data(chat, shown), messages_not_shown=left_out
        ),
    )


_ROLES = {"visitor": "visitor", "agent": "agent", "ai": "AI"}
# What a chat shows as the author of a visitor's messages when it does not know their name.
_NAMELESS = frozenset({"visitor", "guest", "anonymous", "user", "customer", ""})


def transcript_visitor(chat: Transcript) -> str:
    """The visitor as ``handoffs`` shows them: their name, else their key, else "anonymous".

    A transcript has no name field; its visitor messages carry the name the chat showed,
    unless that was a placeholder such as "Visitor".
    """
    for message in chat.messages:
        author = (message.author or "").strip()
        named = author.casefold() not in _NAMELESS and author != chat.visitor_key
        if message.role == "visitor" and named:
            return author
    return chat.visitor_key or "anonymous"


def _message_line(message: Message, tz: tzinfo) -> str:
    role = _ROLES.get(message.role or "", message.role or "?")
    author = message.author or role
    text = clip(message.text, MESSAGE_CHARS)
    return f"{clock_time(message.at_utc, tz)}  {data(role):<7}  {data(author)}: {data(text)}"


@command(
    "transcripts",
    help="Recent chat sessions with their visitor, length and state.",
    examples=["transcripts", "transcripts --limit 25"],
    params=[limit_param("how many transcripts to show", 10)],
    cost="1 call: GET transcripts",
    data=TranscriptsData,
)
async def transcripts(ctx: Context, limit: int = 10) -> Reply:
    rows = await ctx.api.list_transcripts(limit=limit)
    if not rows:
        return Reply(
            title="No transcripts",
            text="There are no recent chat sessions.",
            data=TranscriptsData(transcripts=[]),
        )
    now = ctx.now()
    table_rows = []
    for chat in rows:
        first = next((m.text for m in chat.messages if m.role == "visitor"), None)
        cells = (
            na(chat.session_id),
            transcript_visitor(chat),
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
        data=TranscriptsData(transcripts=[transcript_data(chat) for chat in rows]),
    )
