"""Neutral text: what a reply's strings hold, and how a renderer reads them.

The core never writes platform markup. Every string a :class:`~commands.reply.Reply` shows
is literal text with three additions, which every renderer understands:

- the bot's inline code, in single backticks: ``"Type `tags` to list them."``;
- data, text that is not the bot's (from MyLiveChat, a visitor, a user): it shows exactly as
  it is, whatever it holds. :func:`data` marks it inside the bot's text;
- a channel mention, :func:`channel_ref`: ``<#C1>`` in Slack, ``<#123>`` in Discord,
  ``#C1`` in a terminal.

Where a string sits says whose it is. Titles, text, notes, field names, column names and
labels are the bot's text; table cells and field values are data by definition (a cell or
value the bot wrote with inline code in it is :func:`markup`). Renderers escape everything
that is not the bot's inline code for their platform, so no string, marked or not, can form
a link, a mention or formatting: the marks only decide which backticks are the bot's.
A handler that forgets :func:`data` risks a backtick of the data closing the bot's code
span, nothing more.

The marks are private-use characters that :func:`data` and :func:`channel_ref` strip from
what they wrap, so data cannot forge them; :func:`plain` gives the text as a person reads
it (terminals, logs, JSON).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

__all__ = [
    "Chunk",
    "Run",
    "channel_ref",
    "chunks",
    "cut",
    "data",
    "fit",
    "fitted",
    "has_channel",
    "lines",
    "markup",
    "parse",
    "plain",
    "visible_length",
]

_DATA_OPEN, _DATA_CLOSE = "\ue000", "\ue001"
_BOT_OPEN, _BOT_CLOSE = "\ue002", "\ue003"
_CHANNEL_OPEN, _CHANNEL_CLOSE = "\ue004", "\ue005"
_MARKS = _DATA_OPEN + _DATA_CLOSE + _BOT_OPEN + _BOT_CLOSE + _CHANNEL_OPEN + _CHANNEL_CLOSE
_STRAY_MARK = re.compile(f"[{_MARKS}]")
_CHANNEL = re.compile(f"{_CHANNEL_OPEN}([^{_MARKS}]*){_CHANNEL_CLOSE}")
_TOKEN = re.compile(
    f"({_CHANNEL_OPEN}[^{_MARKS}]*{_CHANNEL_CLOSE}|[{_DATA_OPEN}{_DATA_CLOSE}{_BOT_OPEN}{_BOT_CLOSE}])"
)
_TICKS_OR_LINE_ENDS = re.compile(r"(`+|\n)")
_LINE_ENDS = re.compile(r"(\n)")
ELLIPSIS = "…"


def data(value: object) -> str:
    """``value`` as data inside the bot's text: shown exactly, never read as markup.

    Text without a backtick needs no mark (nothing else in it can be taken for the bot's
    markup), so ordinary values come back as ``str(value)``, as an f-string shows them.
    """
    text = _STRAY_MARK.sub("", str(value))
    return f"{_DATA_OPEN}{text}{_DATA_CLOSE}" if "`" in text else text


def markup(text: str) -> str:
    """``text`` is the bot's, with its inline code, where data is expected (a cell, a value)."""
    return f"{_BOT_OPEN}{text}{_BOT_CLOSE}"


def channel_ref(channel_id: str) -> str:
    """A mention of a channel: renderers show it the way their platform links channels."""
    return f"{_CHANNEL_OPEN}{_STRAY_MARK.sub('', channel_id)}{_CHANNEL_CLOSE}"


def has_channel(text: str) -> bool:
    return _CHANNEL.search(text) is not None


def plain(text: str) -> str:
    """``text`` as a person reads it without markup: channels as ``#id``, marks dropped."""
    return _STRAY_MARK.sub("", _CHANNEL.sub(r"#\1", text))


@dataclass(frozen=True, slots=True)
class Run:
    """A stretch of text that renders one way.

    ``code``: the bot's inline code. ``bold``: set by adapters for their own headings.
    ``channel``: ``text`` is a channel id. Anything else is literal, whoever wrote it.
    """

    text: str
    code: bool = False
    bold: bool = False
    channel: bool = False

    @property
    def size(self) -> int:
        """Characters a reader sees (a channel shows at least ``#`` and its id)."""
        return len(self.text) + 1 if self.channel else len(self.text)


def parse(text: str, *, data: bool = False) -> list[Run]:
    """``text`` as runs; ``data`` says whether unmarked text is data (cells, field values).

    The bot's inline code is a pair of single backticks in the bot's text on one line; a
    backtick without its pair, or two or more in a row, is literal.
    """
    if not _STRAY_MARK.search(text) and (data or "`" not in text):
        return [Run(text)] if text else []  # nothing but literal text
    units: list[tuple[str, str]] = []  # ("text" | "tick" | "channel" | "newline", value)
    roles = [data]
    for piece in _TOKEN.split(text):
        if not piece:
            continue
        if piece in (_DATA_OPEN, _BOT_OPEN):
            roles.append(piece == _DATA_OPEN)
        elif piece in (_DATA_CLOSE, _BOT_CLOSE):
            if len(roles) > 1:
                roles.pop()
        elif piece.startswith(_CHANNEL_OPEN) and piece.endswith(_CHANNEL_CLOSE):
            units.append(("channel", piece[1:-1]))
        else:
            _split_units(_STRAY_MARK.sub("", piece), roles[-1], units)
    return _runs(_pair_ticks(units))


def _split_units(text: str, is_data: bool, units: list[tuple[str, str]]) -> None:
    pattern = _LINE_ENDS if is_data else _TICKS_OR_LINE_ENDS
    for part in pattern.split(text):
        if part == "\n":
            units.append(("newline", part))
        elif part == "`" and not is_data:
            units.append(("tick", part))
        elif part:
            units.append(("text", part))


def _pair_ticks(units: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """An unpaired backtick of a line becomes literal text."""
    ticks: list[int] = []
    for index, (kind, _) in enumerate([*units, ("newline", "")]):
        if kind == "tick":
            ticks.append(index)
        elif kind == "newline":
            if len(ticks) % 2:
                units[ticks[-1]] = ("text", "`")
            ticks = []
    return units


def _runs(units: list[tuple[str, str]]) -> list[Run]:
    runs: list[Run] = []
    parts: list[str] = []
    code = False

    def flush() -> None:
        if parts:
            runs.append(Run("".join(parts), code=code))
            parts.clear()

    for kind, value in units:
        if kind == "tick":
            flush()
            code = not code
        elif kind == "channel":
            if code:
                parts.append(f"#{value}")
            else:
                flush()
                runs.append(Run(value, channel=True))
        else:
            parts.append(value)
    flush()
    return runs


def visible_length(runs: Sequence[Run]) -> int:
    return sum(run.size for run in runs)


def _take(runs: Sequence[Run], size: int) -> tuple[list[Run], list[Run]]:
    """The first ``size`` visible characters, and the rest (a channel is never split)."""
    head: list[Run] = []
    for index, run in enumerate(runs):
        if run.size <= size:
            head.append(run)
            size -= run.size
            continue
        if run.channel or size <= 0:
            return head, list(runs[index:])
        head.append(replace(run, text=run.text[:size]))
        return head, [replace(run, text=run.text[size:]), *runs[index + 1 :]]
    return head, []


def cut(runs: Sequence[Run], size: int) -> list[Run]:
    """At most ``size`` visible characters, ending in an ellipsis when something was cut.

    Cuts at a space when that keeps most of the text, so a word is not split.
    """
    if visible_length(runs) <= size:
        return list(runs)
    if size <= 0:
        return []
    head, _ = _take(runs, size - 1)
    shown = "".join("#" + r.text if r.channel else r.text for r in head)
    space = shown.rfind(" ")
    if space >= size * 2 // 3:
        head, _ = _take(head, space)
    while head and not head[-1].channel and not head[-1].text.rstrip():
        head.pop()
    if head and not head[-1].channel:
        head[-1] = replace(head[-1], text=head[-1].text.rstrip())
    return [*head, Run(ELLIPSIS)]


Render = Callable[[Sequence[Run]], str]


def fit(runs: Sequence[Run], limit: int, render: Render) -> str:
    """``runs`` rendered in at most ``limit`` characters: cut first, then rendered, so an
    escape sequence is never split."""
    return fitted(runs, limit, render)[0]


def fitted(runs: Sequence[Run], limit: int, render: Render) -> tuple[str, int]:
    """:func:`fit`, and how many of the visible characters it kept."""
    size = limit
    while size > 0:
        kept = cut(runs, size)
        out = render(kept)
        if len(out) <= limit:
            whole = len(kept) == len(runs) and visible_length(kept) == visible_length(runs)
            return out, visible_length(runs) if whole else visible_length(kept) - 1
        size -= max(len(out) - limit, 1)
    return "", 0


@dataclass(frozen=True, slots=True)
class Chunk:
    runs: list[Run]
    text: str
    """``runs`` rendered."""


def chunks(runs: Sequence[Run], size: int, render: Render) -> list[Chunk]:
    """``runs`` in rendered pieces of at most ``size`` characters, split at line ends where
    possible; a line too long for one piece is split between characters, never inside an
    escape sequence. No text, no chunk."""
    if not visible_length(runs):
        return []
    out: list[Chunk] = []
    current: list[Run] = []
    current_text: str | None = None
    for line in lines(runs):
        text = render(line)
        if len(text) > size:
            if current_text is not None:
                out.append(Chunk(current, current_text))
                current, current_text = [], None
            out.extend(_split_line(line, size, render))
            continue
        if current_text is None:
            current, current_text = list(line), text
        elif len(current_text) + 1 + len(text) <= size:
            current, current_text = [*current, Run("\n"), *line], f"{current_text}\n{text}"
        else:
            out.append(Chunk(current, current_text))
            current, current_text = list(line), text
    if current_text is not None:
        out.append(Chunk(current, current_text))
    return out


def lines(runs: Sequence[Run]) -> list[list[Run]]:
    """``runs`` split at line ends (the newlines dropped)."""
    found: list[list[Run]] = [[]]
    for run in runs:
        if run.channel:
            found[-1].append(run)
            continue
        for index, part in enumerate(run.text.split("\n")):
            if index:
                found.append([])
            if part:
                found[-1].append(Run(part, run.code, run.bold))
    return found


def _split_line(line: list[Run], size: int, render: Render) -> list[Chunk]:
    out: list[Chunk] = []
    rest = line
    while rest:
        take = min(size, visible_length(rest))
        while True:
            head, tail = _take(rest, take)
            text = render(head)
            if len(text) <= size or take <= 1:
                break
            take = max(take - (len(text) - size), 1)
        if not head:  # a channel longer than a whole piece: shown as text
            head, tail = [Run("#" + rest[0].text)], rest[1:]
            text = render(head)[:size]
        out.append(Chunk(head, text))
        rest = tail
    return out
