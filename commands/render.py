"""Replies as plain text (terminals, logs, the console) and as JSON.

Plain text shows the core's neutral text (:mod:`commands.markup`) as it is: data exactly
as it came, the bot's inline code in backticks, a channel as ``#id``.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

from .markup import plain
from .numbers import percent
from .reply import Kind, Progress, Reply, Table

__all__ = ["json_error", "json_reply", "render_json", "render_text", "text_width"]

_MARK = {Kind.INFO: "", Kind.SUCCESS: "✓ ", Kind.WARNING: "! ", Kind.ERROR: "✗ "}


def text_width(text: str) -> int:
    """Columns ``text`` takes in a terminal (wide characters count two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(width - text_width(text), 0)


def render_table(table: Table, *, width: int | None = None) -> list[str]:
    """Aligned columns, every cell whole.

    With ``width`` (a terminal's columns), the widest columns are narrowed until a line
    fits and their cells wrap onto continuation lines; nothing is ever cut. A table that
    cannot be narrowed enough is left wider than ``width`` (the terminal wraps it).
    """
    header = [_one_line(c) for c in table.columns]
    rows = [[_one_line(c) for c in row.cells] for row in table.rows]
    widths = [text_width(h) for h in header]
    for row in rows:
        for i, cell in enumerate(row[: len(widths)]):
            widths[i] = max(widths[i], text_width(cell))
    if width is not None:
        widths = _narrowed(widths, header, width)
    lines = _table_lines(header, widths)
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.extend(_table_lines(row, widths))
    return lines


_MIN_COLUMN = 16
"""A column is not narrowed below this many characters (or its header)."""


def _one_line(cell: str) -> str:
    return " ".join(plain(cell).split())


def _narrowed(widths: list[int], header: list[str], width: int) -> list[int]:
    """``widths`` with the widest columns narrowed until a line fits ``width``."""
    widths = list(widths)
    floors = [max(_MIN_COLUMN, text_width(h)) for h in header]
    while sum(widths) + 2 * (len(widths) - 1) > width:
        index = max(range(len(widths)), key=lambda i: widths[i] - floors[i])
        excess = sum(widths) + 2 * (len(widths) - 1) - width
        room = widths[index] - floors[index]
        if room <= 0:
            break
        widths[index] -= min(excess, room)
    return widths


def _table_lines(cells: list[str], widths: list[int]) -> list[str]:
    """One row: its cells wrapped to their column's width, padded and aligned."""
    wrapped = [_wrap(cell, w) for cell, w in zip(cells, widths, strict=False)]
    height = max((len(parts) for parts in wrapped), default=1)
    lines = []
    for line in range(height):
        parts = [p[line] if line < len(p) else "" for p in wrapped]
        lines.append("  ".join(_pad(p, w) for p, w in zip(parts, widths, strict=False)).rstrip())
    return lines


def _wrap(cell: str, width: int) -> list[str]:
    """``cell`` in lines of at most ``width`` columns, split between words where it can."""
    if text_width(cell) <= width:
        return [cell]
    lines: list[str] = []
    current = ""
    for word in cell.split(" "):
        while text_width(word) > width:  # a word longer than the column: split it
            if current:
                lines.append(current)
                current = ""
            head = _prefix_within(word, width)
            lines.append(head)
            word = word[len(head) :]
        candidate = f"{current} {word}" if current else word
        if text_width(candidate) <= width:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


def _prefix_within(word: str, width: int) -> str:
    """The longest start of ``word`` that takes at most ``width`` columns (at least one
    character)."""
    taken = 0
    for index, char in enumerate(word):
        taken += text_width(char)
        if taken > width:
            return word[: max(index, 1)]
    return word


def render_progress(progress: Progress) -> str:
    label = f"{progress.label}  " if progress.label else ""
    return f"{label}{progress.bar()} {percent(progress.percent)}"


def render_text(reply: Reply, *, width: int | None = None) -> str:
    """The reply for a terminal: readable, aligned, no markup beyond backticks.

    ``width``: the terminal's columns, which tables wrap to (none: lines as long as needed).
    """
    out: list[str] = []
    if reply.title:
        out.append(f"{_MARK[reply.kind]}{plain(reply.title)}")
    if reply.text:
        out.append(plain(reply.text))
    if reply.progress is not None:
        out.append(render_progress(reply.progress))
    if reply.fields:
        names = [plain(f.name) for f in reply.fields]
        width = max(text_width(name) for name in names)
        indent = "\n" + " " * (width + 2)  # multi-line values stay in their column
        out.extend(
            f"{_pad(name + ':', width + 1)} {indent.join(plain(f.value).splitlines())}"
            for name, f in zip(names, reply.fields, strict=True)
        )
    if reply.table is not None and reply.table.rows:
        out.append("")
        out.extend(render_table(reply.table, width=width))
    actions = list(reply.actions)
    if reply.table is not None:
        for row in reply.table.rows[:1]:
            actions.extend(row.actions)
    if actions:
        out.append("")
        # A pick action appends a value chosen from its source, e.g. "tag s_1 <tag>".
        out.extend(
            f"→ {plain(a.label)}: {a.command}{f' <{a.pick}>' if a.pick else ''}" for a in actions
        )
    if reply.notes:
        out.append("")
        out.extend(plain(note) for note in reply.notes)
    if reply.picker is not None:
        out.append("")
        out.extend(f"→ {reply.picker.command} {c.value}" for c in reply.picker.choices)
    if reply.shown_error_code:
        out.append(f"Error code: {reply.shown_error_code}")
    if reply.request_id:
        out.append(f"Request id: {reply.request_id}")
    return "\n".join(out).strip("\n")


def render_json(reply: Reply) -> str:
    """The reply for scripts: its typed ``data`` (or its error), with the human parts."""
    return _dumps(json_reply(reply))


def json_reply(reply: Reply) -> dict[str, Any]:
    """``{"ok": true, "command", "data", "title", "text", "notes"}`` for a reply that did
    what was asked; ``{"ok": false, "command", "error": {...}, "title", "notes"}`` (and its
    ``data`` when it has some) for one that did not.

    A created or rotated secret appears once, as ``data.secret``: the human parts say
    where it is instead of repeating it.
    """
    data = dict(reply.data) if reply.data is not None else None
    hide = _secret(reply, data)
    out: dict[str, Any] = {"ok": reply.ok, "command": reply.command}
    if reply.ok:
        out["data"] = data if data is not None else {}
        out["title"] = hide(reply.title)
        out["text"] = hide(reply.text)
    else:
        assert reply.failure is not None
        out["error"] = _error(
            reply.failure.value,
            reply.error_code or reply.failure.value,
            hide(reply.text) or hide(reply.title),
            request_id=reply.request_id,
        )
        out["title"] = hide(reply.title)
        if data is not None:
            out["data"] = data
    out["notes"] = [hide(note) for note in reply.notes]
    return _plain_strings(out)


def _plain_strings(value: Any) -> Any:
    """``value`` with every string as a person reads it (no markup marks)."""
    if isinstance(value, str):
        return plain(value)
    if isinstance(value, dict):
        return {key: _plain_strings(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_strings(item) for item in value]
    return value


def json_error(kind: str, code: str, message: str, *, request_id: str | None = None) -> str:
    """A failure before any command ran (a missing setting), shaped like a failed reply."""
    return _dumps({"ok": False, "command": None, "error": _error(kind, code, message, request_id)})


def _error(kind: str, code: str, message: str, request_id: str | None) -> dict[str, Any]:
    return {"kind": kind, "code": code, "message": message, "request_id": request_id}


def _secret(reply: Reply, data: Mapping[str, Any] | None) -> Callable[[str], str]:
    """A function that takes the reply's one secret (``data.secret``) out of display text."""
    secret = data.get("secret") if reply.sensitive and data is not None else None
    if not isinstance(secret, str) or not secret:
        return lambda text: text
    return lambda text: text.replace(secret, "(see data.secret)")


def _dumps(value: Mapping[str, Any]) -> str:
    # A value that is not JSON (a bug: data holds JSON values) is printed as text rather
    # than crash the command; the schema tests catch it, as it is then not of its type.
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)
