"""Block Kit from the neutral :class:`~commands.reply.Reply`, within Slack's limits.

Layout: a header, the text, the usage bar, fields, the table (monospaced, or one section
and a row of buttons per row when rows carry actions), buttons, then context lines: notes,
the error code with the request id, and who asked. A reply too big for one message loses
table rows first and says how many were left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from commands.numbers import percent
from commands.render import render_table
from commands.reply import Action, Field, Kind, Picker, Progress, Reply, Row, Table

from .mrkdwn import escape

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
    return {"text": fallback_text(reply), "blocks": render_blocks(reply, asked_by=asked_by)}


def fallback_text(reply: Reply) -> str:
    """The plain line notifications and screen readers show."""
    first_line = reply.text.strip().splitlines()[0] if reply.text.strip() else ""
    text = reply.title
    if first_line:
        text = f"{text}: {first_line}" if text else first_line
    if reply.request_id:
        text += f" (request id {reply.request_id})"
    return _clip(escape(text or "MyLiveChat bot reply"), _MAX_FALLBACK)


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
        return [_section(escape(f"Type `/mlc {picker.command} <{picker.source}>` to choose one."))]
    select = {
        "type": "static_select",
        "action_id": CHOOSE_ACTION,
        "placeholder": _plain(f"Choose a {picker.source}"),
        "options": [
            {"text": _plain(_clip(c.label, MAX_BUTTON_TEXT)), "value": c.value}
            for c in usable[:MAX_OPTIONS]
        ],
    }
    blocks: list[Block] = [
        {
            "type": "section",
            "block_id": block_id,
            "text": _mrkdwn(escape(prompt) or " "),
            "accessory": select,
        }
    ]
    if len(usable) > MAX_OPTIONS:
        more = (
            f"{MAX_OPTIONS} of {len(usable)} shown. For another, type "
            f"`/mlc {picker.command} <{picker.source}>`."
        )
        blocks.append(_context([escape(more)]))
    return blocks


# --- parts of a reply -------------------------------------------------------------------------


def _head(reply: Reply, room: int, notes: list[str]) -> list[Block]:
    """Header, text, usage bar and fields in at most ``room`` blocks; cuts are noted."""
    header: list[Block] = []
    if reply.title:
        title = _clip(_KIND_EMOJI[reply.kind] + reply.title, MAX_HEADER_TEXT)
        header.append({"type": "header", "text": _plain(title)})
    progress = [_section(_progress(reply.progress))] if reply.progress is not None else []
    fields = _field_blocks(reply.fields)
    chunks = _chunks(escape(reply.text), MAX_SECTION_TEXT)
    text_room = max(room - len(header) - len(progress) - len(fields), 1)
    if len(chunks) > text_room:
        left_out = sum(len(chunk) for chunk in chunks[text_room:])
        notes.append(f"{left_out:,} characters of text left out {_LIMITS_NOTE}.")
        chunks = chunks[:text_room]
    head = header + [_section(chunk) for chunk in chunks] + progress + fields
    if len(head) > room:
        notes.append(f"{len(head) - room} more part(s) of this answer left out {_LIMITS_NOTE}.")
        head = head[:room]
    return head


def _progress(progress: Progress) -> str:
    label = f"*{escape(progress.label)}*\n" if progress.label else ""
    figures = f"{_number(progress.value)} of {_number(progress.total)}"
    return f"{label}`{progress.bar()}` {percent(progress.percent)} ({figures})"


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _field_blocks(fields: Sequence[Field]) -> list[Block]:
    blocks: list[Block] = []
    group: list[str] = []

    def flush() -> None:
        if group:
            blocks.append({"type": "section", "fields": [_mrkdwn(text) for text in group]})
            group.clear()

    for item in fields:
        text = f"*{escape(item.name)}*\n{escape(item.value)}"
        if not item.inline:
            flush()
            blocks.extend(_section(chunk) for chunk in _chunks(text, MAX_SECTION_TEXT))
            continue
        group.append(_clip(text, MAX_FIELD_TEXT))
        if len(group) == MAX_FIELDS:
            flush()
    flush()
    return blocks


def _table_blocks(table: Table, room: int, buttons: _Buttons) -> tuple[list[Block], int]:
    """The table in at most ``room`` blocks, and how many of its rows that shows."""
    if room <= 0:
        return [], 0
    if any(row.actions for row in table.rows):
        return _rows_with_buttons(table, room, buttons)
    lines = [escape(line).replace("```", "`\u200b``") for line in render_table(table)]
    header, rows = lines[:2], lines[2:]
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
    blocks: list[Block] = [_context([" · ".join(f"*{escape(c)}*" for c in table.columns)])]
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
    cells = [" ".join(cell.split()) for cell in row.cells]
    if not cells:
        return " "
    first, rest = cells[0], cells[1:]
    text = " · ".join([f"`{escape(first)}`", *(escape(c) for c in rest if c)])
    return _clip(text, MAX_SECTION_TEXT)


def _actions_blocks(actions: Sequence[Action], buttons: _Buttons) -> list[Block]:
    return [
        {"type": "actions", "elements": buttons.render(actions[i : i + MAX_ACTION_ELEMENTS])}
        for i in range(0, len(actions), MAX_ACTION_ELEMENTS)
    ]


def _notes_context(notes: Sequence[str]) -> list[Block]:
    if not notes:
        return []
    texts = [escape(note) for note in notes]
    if len(texts) > MAX_CONTEXT_ELEMENTS:
        keep = MAX_CONTEXT_ELEMENTS - 1
        texts = [*texts[:keep], "\n".join(texts[keep:])]
    return [_context(texts)]


def _failure_context(reply: Reply) -> list[Block]:
    if reply.ok:
        return []
    parts = []
    if reply.shown_error_code:
        parts.append(f"Error `{escape(reply.shown_error_code)}`")
    if reply.request_id:
        parts.append(f"Request id `{escape(reply.request_id)}`")
    return [_context([" · ".join(parts)])] if parts else []


def _asked_by_context(user_id: str | None) -> list[Block]:
    return [_context([f"Asked by <@{user_id}>"])] if user_id else []


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
                "text": _plain(_clip(action.label, MAX_BUTTON_TEXT)),
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
    return {"type": "mrkdwn", "text": text or " "}


def _section(text: str) -> Block:
    return {"type": "section", "text": _mrkdwn(_clip(text, MAX_SECTION_TEXT))}


def _context(texts: Sequence[str]) -> Block:
    return {"type": "context", "elements": [_mrkdwn(_clip(t, MAX_SECTION_TEXT)) for t in texts]}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _chunks(text: str, size: int) -> list[str]:
    """``text`` in pieces of at most ``size`` characters, split at line ends where possible."""
    text = text.strip("\n")
    if not text:
        return []
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > size:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:size])
            line = line[size:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > size:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current:
        chunks.append(current)
    return chunks
