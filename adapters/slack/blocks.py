"""Block Kit from the neutral :class:`~commands.reply.Reply`, within Slack's limits.

Layout: a header, the text, the usage bar, fields, the table (monospaced, or one section
per row, with a row of buttons when rows carry actions or when a cell mentions a channel),
buttons, then context lines: notes, the error code with the request id, and who asked. A
reply too big for one message loses table rows first and says how many were left out.

The reply's strings are the core's neutral text (:mod:`commands.markup`): each is cut to its
limit first and escaped after (:mod:`.mrkdwn`), so a cut never splits an entity; cells and
field values are data, inert whatever they hold. The fallback ``text`` (notifications,
previews) of a reply that carries a secret is its title only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from commands.markup import Run, chunks, fit, has_channel, parse, plain, visible_length
from commands.numbers import percent
from commands.render import render_table
from commands.reply import Action, Field, Kind, Picker, Progress, Reply, Row, Table

from .mrkdwn import code_block_line, mrkdwn, render

__all__ = [
    "CHOOSE_ACTION",
    "MAX_BLOCKS",
    "PICK_ACTION",
    "RUN_ACTION",
    "render_blocks",
    "render_message",
]

Block = dict[str, Any]

# Slack's documented limits.
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTION_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_OPTIONS = 100
MAX_OPTION_VALUE = 150
MAX_BLOCK_ID = 255
_MAX_FALLBACK = 3000
_MAX_FIELD_NAME = 200
_USER_ID = re.compile(r"[A-Z0-9_]{1,40}")

# Action ids: the listeners in ``app`` match on these prefixes.
RUN_ACTION = "mlc.run"
"""A button whose value is command text to run."""
PICK_ACTION = "mlc.pick"
"""A button whose value is command text that needs a choice first (``mlc.pick.<source>.N``)."""
CHOOSE_ACTION = "mlc.choose"
"""The select offering the choices; its block id carries the command text."""

_KIND_EMOJI = {
    Kind.INFO: "",
    Kind.SUCCESS: ":white_check_mark: ",
    Kind.WARNING: ":warning: ",
    Kind.ERROR: ":x: ",
}
_LIMITS_NOTE = "to fit Slack's message limits"


def render_message(reply: Reply, *, asked_by: str | None = None) -> dict[str, Any]:
    """``{"text": fallback, "blocks": [...]}`` for chat.postMessage or a response URL.

    ``asked_by`` (a Slack user id) adds an "Asked by" line, for replies posted in a channel.
    """
    blocks = render_blocks(reply, asked_by=asked_by)
    text = fallback_text(reply)
    mention = slack_mentions(reply.mentions)
    if mention:  # in the text too: notifications are made from it
        blocks = [_section(mention), *blocks][:MAX_BLOCKS]
        text = f"{mention} {text}"
    return {"text": text, "blocks": blocks}


_GROUP = re.compile(r"<!subteam\^([A-Z0-9]{2,20})(?:\|[^>]*)?>|(S[A-Z0-9]{6,20})")
_USER = re.compile(r"<@([UW][A-Z0-9]{2,20})(?:\|[^>]*)?>|([UW][A-Z0-9]{6,20})")
_SPECIAL = {
    "@here": "<!here>",
    "@channel": "<!channel>",
    "here": "<!here>",
    "channel": "<!channel>",
}


def slack_mentions(targets: Sequence[str]) -> str:
    """Slack's mention syntax for who a reply notifies: user groups (``<!subteam^S1>`` or
    their id), users (``<@U1>`` or their id), ``@here``/``@channel``. Anything else (a name
    such as ``@support``) is shown as text: only Slack's syntax pings."""
    parts = []
    for target in targets:
        text = target.strip()
        if text in _SPECIAL:
            parts.append(_SPECIAL[text])
        elif group := _GROUP.fullmatch(text):
            parts.append(f"<!subteam^{group.group(1) or group.group(2)}>")
        elif user := _USER.fullmatch(text):
            parts.append(f"<@{user.group(1) or user.group(2)}>")
        else:
            parts.append(mrkdwn(text, data=True))
    return " ".join(parts)


def fallback_text(reply: Reply) -> str:
    """The plain line notifications and screen readers show.

    The title and the first line of the text; never the text of a sensitive reply, which
    carries a secret that must stay in the message body.
    """
    runs = parse(reply.title)
    if not reply.sensitive:
        first = next((p for line in reply.text.splitlines() if _shown(p := parse(line))), [])
        if first:
            runs = [*runs, Run(": "), *first] if runs else first
    if reply.request_id:
        runs = [*runs, Run(f" (request id {reply.request_id})")]
    return fit(runs or [Run("MyLiveChat bot reply")], _MAX_FALLBACK, render)


def _shown(runs: Sequence[Run]) -> str:
    return "".join(run.text for run in runs).strip()


def render_blocks(reply: Reply, *, asked_by: str | None = None) -> list[Block]:
    """The reply as at most 50 blocks, each within its own limits."""
    buttons = _Buttons()
    actions = _actions_blocks(reply.actions, buttons)
    trailer = _failure_context(reply) + _asked_by_context(asked_by)
    # One block stays free for the notes line, which also reports what was left out.
    room = MAX_BLOCKS - len(actions) - len(trailer) - 1
    notes = list(reply.notes)
    if reply.picker is not None:
        return _picker_blocks(reply.picker, reply.text) + _notes_context(notes) + trailer
    head = _head(reply, room, notes)
    body: list[Block] = []
    if reply.table is not None and reply.table.rows:
        body, shown = _table_blocks(reply.table, room - len(head), buttons)
        left_out = len(reply.table.rows) - shown
        if left_out:
            notes.append(
                f"Showing {shown} of {len(reply.table.rows)} rows; {left_out} left out "
                f"{_LIMITS_NOTE}. Narrow the command (for example a smaller `--limit`) "
                "to see the rest."
            )
    return head + body + actions + _notes_context(notes) + trailer


def _picker_blocks(picker: Picker, prompt: str) -> list[Block]:
    """The picker's prompt with a select of its choices (block id: the command text)."""
    usable = [c for c in picker.choices if 0 < len(c.value) <= MAX_OPTION_VALUE]
    block_id = f"{CHOOSE_ACTION}:{picker.command}"
    if not usable or len(block_id) > MAX_BLOCK_ID:
        typed = f"Type `/mlc {picker.command} <{picker.source}>` to choose one."
        return [_section(mrkdwn(typed, limit=MAX_SECTION_TEXT))]
    select = {
        "type": "static_select",
        "action_id": CHOOSE_ACTION,
        "placeholder": _plain(_clip(f"Choose a {picker.source}", MAX_BUTTON_TEXT)),
        "options": [
            {"text": _plain(_clip(plain(c.label), MAX_BUTTON_TEXT)), "value": c.value}
            for c in usable[:MAX_OPTIONS]
        ],
    }
    blocks: list[Block] = [
        {
            "type": "section",
            "block_id": block_id,
            "text": _mrkdwn(mrkdwn(prompt, limit=MAX_SECTION_TEXT)),
            "accessory": select,
        }
    ]
    if len(usable) > MAX_OPTIONS:
        more = (
            f"{MAX_OPTIONS} of {len(usable)} shown. For another, type "
            f"`/mlc {picker.command} <{picker.source}>`."
        )
        blocks.append(_context([mrkdwn(more, limit=MAX_SECTION_TEXT)]))
    return blocks


# --- parts of a reply -------------------------------------------------------------------------


def _head(reply: Reply, room: int, notes: list[str]) -> list[Block]:
    """Header, text, usage bar and fields in at most ``room`` blocks; cuts are noted."""
    header: list[Block] = []
    if reply.title:
        title = _clip(_KIND_EMOJI[reply.kind] + plain(reply.title), MAX_HEADER_TEXT)
        header.append({"type": "header", "text": _plain(title)})
    progress = [_section(_progress(reply.progress))] if reply.progress is not None else []
    fields = _field_blocks(reply.fields)
    pieces = chunks(parse(reply.text.strip("\n")), MAX_SECTION_TEXT, render)
    text_room = max(room - len(header) - len(progress) - len(fields), 1)
    if len(pieces) > text_room:
        left_out = sum(visible_length(piece.runs) for piece in pieces[text_room:])
        notes.append(f"{left_out:,} characters of text left out {_LIMITS_NOTE}.")
        pieces = pieces[:text_room]
    head = header + [_section(piece.text) for piece in pieces] + progress + fields
    if len(head) > room:
        notes.append(f"{len(head) - room} more part(s) of this answer left out {_LIMITS_NOTE}.")
        head = head[:room]
    return head


def _progress(progress: Progress) -> str:
    label = f"{_bold(mrkdwn(progress.label, limit=200))}\n" if progress.label else ""
    figures = f"{_number(progress.value)} of {_number(progress.total)}"
    return f"{label}`{progress.bar()}` {percent(progress.percent)} ({figures})"


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _bold(text: str) -> str:
    """The adapter's own bold, around text already rendered."""
    text = text.strip()
    return f"*{text}*" if text else ""


def _field_blocks(fields: Sequence[Field]) -> list[Block]:
    blocks: list[Block] = []
    group: list[str] = []

    def flush() -> None:
        if group:
            blocks.append({"type": "section", "fields": [_mrkdwn(text) for text in group]})
            group.clear()

    for item in fields:
        name = _bold(mrkdwn(item.name, limit=_MAX_FIELD_NAME))
        value = parse(item.value, data=True)
        if not item.inline:
            flush()
            pieces = [p.text for p in chunks(value, MAX_SECTION_TEXT - len(name) - 1, render)]
            first, *more = pieces or [""]
            blocks.append(_section(f"{name}\n{first}"))
            blocks.extend(_section(text) for text in more)
            continue
        group.append(f"{name}\n{fit(value, MAX_FIELD_TEXT - len(name) - 1, render)}")
        if len(group) == MAX_FIELDS:
            flush()
    flush()
    return blocks


def _table_blocks(table: Table, room: int, buttons: _Buttons) -> tuple[list[Block], int]:
    """The table in at most ``room`` blocks, and how many of its rows that shows."""
    if room <= 0:
        return [], 0
    mentions = any(has_channel(cell) for row in table.rows for cell in row.cells)
    if mentions or any(row.actions for row in table.rows):
        # A mention shows only outside a code block.
        return _rows_with_buttons(table, room, buttons)
    rendered = [code_block_line(line) for line in render_table(table)]
    header, rows = rendered[:2], rendered[2:]
    blocks: list[Block] = []
    shown = 0
    while shown < len(rows) and len(blocks) < room:
        chunk = list(header)
        size = _code_size(chunk)
        while shown < len(rows) and size + len(rows[shown]) + 1 <= MAX_SECTION_TEXT:
            chunk.append(rows[shown])
            size += len(rows[shown]) + 1
            shown += 1
        blocks.append(_section("```\n" + "\n".join(chunk) + "\n```"))
    return blocks, shown


def _code_size(lines: list[str]) -> int:
    return len("```\n") + len("\n".join(lines)) + len("\n```")


def _rows_with_buttons(table: Table, room: int, buttons: _Buttons) -> tuple[list[Block], int]:
    each = min(_MAX_FIELD_NAME, MAX_SECTION_TEXT // max(len(table.columns), 1) - 5)
    columns = " · ".join(_bold(mrkdwn(c, limit=each)) for c in table.columns)
    blocks: list[Block] = [_context([columns])]
    shown = 0
    for row in table.rows:
        needed = 1 + (1 if row.actions else 0)
        if len(blocks) + needed > room:
            break
        blocks.append(_section(_row_text(row)))
        if row.actions:
            blocks.append(
                {"type": "actions", "elements": buttons.render(row.actions[:MAX_ACTION_ELEMENTS])}
            )
        shown += 1
    if shown == 0:
        return [], 0
    return blocks, shown


def _row_text(row: Row) -> str:
    """The first cell as code, then the others: ``s_1`` · Ann · billing."""
    cells = [parse(" ".join(cell.split()), data=True) for cell in row.cells]
    if not cells:
        return " "
    first, rest = cells[0], [c for c in cells[1:] if c]
    runs: list[Run] = [run if run.channel else Run(run.text, code=True) for run in first]
    for cell in rest:
        runs.extend([Run(" · "), *cell] if runs else cell)
    return fit(runs, MAX_SECTION_TEXT, render)


def _actions_blocks(actions: Sequence[Action], buttons: _Buttons) -> list[Block]:
    return [
        {"type": "actions", "elements": buttons.render(actions[i : i + MAX_ACTION_ELEMENTS])}
        for i in range(0, len(actions), MAX_ACTION_ELEMENTS)
    ]


def _notes_context(notes: Sequence[str]) -> list[Block]:
    if not notes:
        return []
    texts = list(notes)
    if len(texts) > MAX_CONTEXT_ELEMENTS:
        keep = MAX_CONTEXT_ELEMENTS - 1
        texts = [*texts[:keep], "\n".join(texts[keep:])]
    return [_context([mrkdwn(text, limit=MAX_SECTION_TEXT) for text in texts])]


def _failure_context(reply: Reply) -> list[Block]:
    if reply.ok:
        return []
    parts: list[Run] = []
    if reply.shown_error_code:
        parts += [Run("Error "), Run(reply.shown_error_code, code=True)]
    if reply.request_id:
        parts += [Run(" · " if parts else ""), Run("Request id "), Run(reply.request_id, code=True)]
    return [_context([fit(parts, MAX_SECTION_TEXT, render)])] if parts else []


def _asked_by_context(user_id: str | None) -> list[Block]:
    if not user_id:
        return []
    asked = f"<@{user_id}>" if _USER_ID.fullmatch(user_id) else mrkdwn(user_id, data=True)
    return [_context([f"Asked by {asked}"])]


class _Buttons:
    """Buttons for one message: action ids must be unique within it."""

    def __init__(self) -> None:
        self._count = 0

    def render(self, actions: Sequence[Action]) -> list[Block]:
        elements = []
        for action in actions:
            if not action.command or len(action.command) > MAX_BUTTON_VALUE:
                continue
            self._count += 1
            prefix = f"{PICK_ACTION}.{action.pick}" if action.pick else RUN_ACTION
            button: Block = {
                "type": "button",
                "text": _plain(_clip(plain(action.label), MAX_BUTTON_TEXT)),
                "action_id": f"{prefix}.{self._count}",
                "value": action.command,
            }
            if action.style in ("primary", "danger"):
                button["style"] = action.style
            elements.append(button)
        return elements


# --- Block Kit primitives ---------------------------------------------------------------------


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text or " ", "emoji": True}


def _mrkdwn(text: str) -> dict[str, Any]:
    # verbatim: Slack turns no bare URL, channel name or @word into a link or a mention.
    return {"type": "mrkdwn", "text": text or " ", "verbatim": True}


def _section(text: str) -> Block:
    return {"type": "section", "text": _mrkdwn(text)}


def _context(texts: Sequence[str]) -> Block:
    return {"type": "context", "elements": [_mrkdwn(t) for t in texts]}


def _clip(text: str, limit: int) -> str:
    """Plain text (not mrkdwn) cut to ``limit`` characters."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
