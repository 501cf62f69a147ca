"""Replies as Discord embeds, always within Discord's limits.

:func:`render_embeds` gives the embeds of one message: at most 10, 25 fields
each, 6000 characters in all. Long text continues in further embeds; what
still does not fit is left out and a note in the footer says how much.

The reply's strings are the core's neutral text (:mod:`commands.markup`), rendered by
:mod:`.markdown`: cells and field values are data, escaped whatever they hold; the bot's
own formatting (bold column headers, inline code) stays. Every piece is cut to its limit
before it is escaped, so a cut never splits an escape. The footer is plain text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import discord

from commands.markup import Run, chunks, fitted, parse, plain, visible_length
from commands.render import render_progress
from commands.reply import Kind, Reply

from .limits import (
    EMBED_DESCRIPTION,
    EMBED_TOTAL,
    EMBEDS_PER_MESSAGE,
    FIELD_NAME,
    FIELD_VALUE,
    FIELDS_PER_EMBED,
    FOOTER,
    TITLE,
    fit,
)
from .markdown import markdown, render

__all__ = ["COLOURS", "render_embeds"]

COLOURS: dict[Kind, int] = {
    Kind.INFO: 0x5865F2,
    Kind.SUCCESS: 0x57F287,
    Kind.WARNING: 0xFEE75C,
    Kind.ERROR: 0xED4245,
}
_BLANK = "\u200b"  # Discord refuses empty field names and values
_NOTE_RESERVE = 160  # room kept for the "not shown" note
_READ = 2 * EMBED_TOTAL


@dataclass(slots=True)
class _Field:
    name: str
    value: str
    inline: bool

    @property
    def size(self) -> int:
        return len(self.name) + len(self.value)


@dataclass(slots=True)
class _Page:
    description: str = ""
    fields: list[_Field] = field(default_factory=list)


def render_embeds(reply: Reply) -> list[discord.Embed]:
    """The embeds for ``reply``: title, text, fields, table rows, notes; coloured by kind."""
    title = markdown(reply.title, limit=TITLE)
    footer = _footer(reply)
    budget = EMBED_TOTAL - len(title) - len(footer) - _NOTE_RESERVE
    pages: list[_Page] = [_Page()]
    description, dropped_chars = _description(reply)
    for chunk in chunks(description, EMBED_DESCRIPTION, render):
        text = chunk.text
        if pages[-1].description:
            if len(pages) == EMBEDS_PER_MESSAGE:
                dropped_chars += visible_length(chunk.runs)
                continue
            pages.append(_Page())
        if len(text) > budget:
            text, kept = fitted(chunk.runs, budget, render) if budget > 1 else ("", 0)
            dropped_chars += visible_length(chunk.runs) - kept
        pages[-1].description = text
        budget -= len(text)
    fields = _fields(reply)
    dropped_fields = 0
    for index, item in enumerate(fields):
        if len(pages[-1].fields) == FIELDS_PER_EMBED:
            if len(pages) == EMBEDS_PER_MESSAGE:
                dropped_fields = len(fields) - index
                break
            pages.append(_Page())
        if item.size > budget:
            dropped_fields = len(fields) - index
            break
        pages[-1].fields.append(item)
        budget -= item.size
    notes = []
    if dropped_chars:
        notes.append(f"Text shortened: {dropped_chars} characters not shown.")
    if dropped_fields:
        rows = "rows" if reply.table is not None and reply.table.rows else "entries"
        notes.append(f"{dropped_fields} more {rows} not shown (Discord's size limit).")
    footer = fit("\n".join([*notes, footer] if footer else notes), FOOTER)
    return _build(reply, title, footer, pages)


def _build(reply: Reply, title: str, footer: str, pages: list[_Page]) -> list[discord.Embed]:
    colour = COLOURS.get(reply.kind, COLOURS[Kind.INFO])
    embeds: list[discord.Embed] = []
    for index, page in enumerate(pages):
        embed = discord.Embed(
            title=title if index == 0 and title else None,
            description=page.description or None,
            colour=colour,
        )
        for item in page.fields:
            embed.add_field(name=item.name, value=item.value, inline=item.inline)
        embeds.append(embed)
    if footer:
        embeds[-1].set_footer(text=footer)
    first = embeds[0]
    if not (first.title or first.description or first.fields or footer):
        first.description = "Done."
    return embeds


def _description(reply: Reply) -> tuple[list[Run], int]:
    """The text, the usage bar and the table's column names, a blank line between them; and
    how many characters of the text were not even read, being far beyond what fits."""
    text = reply.text.strip()
    read = text[:_READ]  # marks take a few characters: this holds more than EMBED_TOTAL shown
    unread = len(plain(text)) - len(plain(read)) if len(text) > _READ else 0
    parts = [parse(read)] if read else []
    if reply.progress is not None:
        parts.append([Run(render_progress(reply.progress), code=True)])
    table = reply.table
    if table is not None and table.rows and len(table.columns) > 1:
        first, *rest = table.columns
        bold = [Run(run.text, code=run.code, bold=True) for run in parse(first)]
        parts.append([*bold, Run(" — "), *parse(" · ".join(rest))])
    runs: list[Run] = []
    for part in parts:
        runs.extend([Run("\n\n"), *part] if runs else part)
    return runs, unread


def _fields(reply: Reply) -> list[_Field]:
    fields = [
        _Field(_cell(f.name, FIELD_NAME), _cell(f.value, FIELD_VALUE, data=True), f.inline)
        for f in reply.fields
    ]
    if reply.table is not None:
        for row in reply.table.rows:
            name, *rest = row.cells or ("",)
            value = " · ".join(c for c in rest if plain(c).strip())
            fields.append(
                _Field(
                    _cell(name, FIELD_NAME, data=True),
                    _cell(value, FIELD_VALUE, data=True),
                    False,
                )
            )
    return fields


def _cell(text: str, limit: int, *, data: bool = False) -> str:
    """A field's name or value; Discord refuses empty ones."""
    return markdown(text.strip(), data=data, limit=limit) or _BLANK


def _footer(reply: Reply) -> str:
    """Notes and ids as plain text: Discord renders no markdown in a footer."""
    lines = [plain(note) for note in reply.notes]
    ids = []
    if reply.shown_error_code:
        ids.append(f"Error code: {reply.shown_error_code}")
    if reply.request_id:
        ids.append(f"Request id: {reply.request_id}")
    if ids:
        lines.append(" · ".join(ids))
    return fit("\n".join(lines), FOOTER - _NOTE_RESERVE)
