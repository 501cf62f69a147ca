"""Replies as plain text (terminals, logs, the console) and as JSON.

Plain text shows the core's neutral text (:mod:`commands.markup`) as it is: data exactly
as it came, the bot's inline code in backticks, a channel as ``#id``.
"""

from __future__ import annotations

import json
import unicodedata

from .markup import plain
from .reply import Kind, Progress, Reply, Table

__all__ = ["render_json", "render_text", "text_width"]

_MARK = {Kind.INFO: "", Kind.SUCCESS: "✓ ", Kind.WARNING: "! ", Kind.ERROR: "✗ "}


def text_width(text: str) -> int:
    """Columns ``text`` takes in a terminal (wide characters count two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(width - text_width(text), 0)


def render_table(table: Table, *, max_cell: int = 48) -> list[str]:
    """Aligned columns; cells longer than ``max_cell`` end in an ellipsis."""

    def clip(cell: str) -> str:
        cell = " ".join(plain(cell).split())
        return cell if len(cell) <= max_cell else cell[: max_cell - 1] + "…"

    rows = [[clip(c) for c in row.cells] for row in table.rows]
    header = [clip(c) for c in table.columns]
    widths = [text_width(h) for h in header]
    for row in rows:
        for i, cell in enumerate(row[: len(widths)]):
            widths[i] = max(widths[i], text_width(cell))
    lines = ["  ".join(_pad(h, w) for h, w in zip(header, widths, strict=False)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines.extend(
        "  ".join(_pad(c, w) for c, w in zip(row, widths, strict=False)).rstrip() for row in rows
    )
    return lines


def render_progress(progress: Progress) -> str:
    label = f"{progress.label}  " if progress.label else ""
    return f"{label}{progress.bar()} {progress.ratio:.0%}"


def render_text(reply: Reply) -> str:
    """The reply for a terminal: readable, aligned, no markup beyond backticks."""
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
        out.extend(render_table(reply.table))
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
    return json.dumps(reply.to_dict(), indent=2, ensure_ascii=False, default=str)
