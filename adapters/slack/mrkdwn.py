"""Text between Slack and the core: the core's neutral text as mrkdwn, and command text
out of messages.

Slack's mrkdwn has no escape character besides the entities for ``&``, ``<`` and ``>``, so
what must stay literal is made inert instead: every backtick that is not the bot's inline
code becomes ``ˋ`` (no code span or fence can form), a ``*``, ``_`` or ``~`` that could
open or close formatting becomes a look-alike (one between two letters or digits cannot,
and stays, so ``jane_doe@acme.com`` is untouched), a quote marker at the start of a line
becomes ``˃``, and ``@here``, ``@channel`` and ``@everyone`` get a zero-width space after
the ``@``. Text objects are sent with ``verbatim`` so Slack links no bare URL or channel
name by itself; only the bot's own ``<@U…>`` and ``<#C…>`` mention anyone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

from commands.markup import Run, fit, parse

__all__ = ["code_block_line", "command_text", "escape", "mrkdwn", "render"]

_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|[^>]*)?>")
_LEADING_MENTION = re.compile(r"^\s*<@[A-Z0-9]+(?:\|[^>]*)?>[\s:,]*")

# A formatting character can open or close formatting unless a letter or digit is on both
# sides of it: those that can become look-alikes.
_EMPHASIS = {
    marker: re.compile(rf"{re.escape(marker)}(?:(?<![^\W_]{re.escape(marker)})|(?![^\W_]))")
    for marker in "*_~"
}
_LOOK_ALIKE = {"*": "\u2217", "_": "\u02cd", "~": "\u223c"}  # ∗ ˍ ∼
_BACKTICK_LOOK_ALIKE = "\u02cb"  # ˋ
# Text without any of these characters forms nothing, and is shown as it is.
_MRKDWN = re.compile(r"[&<>`*_~@]")
_QUOTE = re.compile(r"^([ \t]*)&gt;", re.MULTILINE)
_QUOTE_LOOK_ALIKE = "\u02c3"  # ˃
_BROADCAST = re.compile(r"@(here|channel|everyone)\b", re.IGNORECASE)
_ZERO_WIDTH_SPACE = "\u200b"
_SEPARATOR = "\x00"
_CODE_SPAN = re.compile(r"[^\n\x00]+")
_CHANNEL_ID = re.compile(r"[A-Za-z0-9_]{1,40}")


def escape(text: str) -> str:
    """``text`` safe inside mrkdwn: Slack reads ``&``, ``<`` and ``>`` as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(text: str, *, data: bool = False, limit: int | None = None) -> str:
    """The core's neutral ``text`` as mrkdwn; ``data`` for a cell or field value.

    With ``limit``, the text is cut before it is escaped, so no entity is split.
    """
    runs = parse(text, data=data)
    return render(runs) if limit is None else fit(runs, limit, render)


def render(runs: Sequence[Run]) -> str:
    """Runs as mrkdwn: the bot's inline code as code, everything else inert."""
    literal = _each(_literal, [r.text for r in runs if not r.code and not r.channel])
    code = _each(_code, [r.text for r in runs if r.code and not r.channel])
    out: list[str] = []
    for run in runs:
        if run.channel:
            piece = f"<#{run.text}>" if _CHANNEL_ID.fullmatch(run.text) else _literal(run.text)
        elif run.code:
            piece = next(code)
        else:
            piece = next(literal)
        if run.bold and piece.strip():
            lead, body, trail = _around(piece)
            piece = f"{lead}*{body}*{trail}"
        out.append(piece)
    return "".join(out)


def code_block_line(line: str) -> str:
    """A line of plain text inside a ``` block: escaped, and no fence can form in it."""
    line = re.sub(r"`(?=`)", "`" + _ZERO_WIDTH_SPACE, escape(line))
    return _BROADCAST.sub(rf"@{_ZERO_WIDTH_SPACE}\1", line)


def _code(text: str) -> str:
    """Inline code (a span per line: Slack's does not cross one); each NUL-separated text
    its own span."""
    body = escape(text).replace("`", _BACKTICK_LOOK_ALIKE)
    if "@" in body:
        body = _BROADCAST.sub(rf"@{_ZERO_WIDTH_SPACE}\1", body)
    return _CODE_SPAN.sub(r"`\g<0>`", body)


def _each(convert: Callable[[str], str], texts: list[str]) -> Iterator[str]:
    """Each text converted, in one pass over them all (a NUL, never shown, between them)."""
    if not texts:
        return iter(())
    joined = _SEPARATOR.join(text.replace(_SEPARATOR, "") for text in texts)
    return iter(convert(joined).split(_SEPARATOR))


def _literal(text: str) -> str:
    if not _MRKDWN.search(text):
        return text
    text = escape(text).replace("`", _BACKTICK_LOOK_ALIKE)
    for marker, pattern in _EMPHASIS.items():
        if marker in text:
            text = pattern.sub(_LOOK_ALIKE[marker], text)
    if "&gt;" in text:
        text = _QUOTE.sub(rf"\1{_QUOTE_LOOK_ALIKE}", text)
    if "@" in text:
        text = _BROADCAST.sub(rf"@{_ZERO_WIDTH_SPACE}\1", text)
    return text


def _around(text: str) -> tuple[str, str, str]:
    stripped = text.strip()
    start = text.index(stripped[0])
    return text[:start], stripped, text[start + len(stripped) :]


def command_text(text: str, *, mention: str | None = None) -> str:
    """What the user typed, as the core's parser expects it.

    Slack escapes ``&<>`` and wraps URLs in a message as ``<https://...|label>``; a mention
    starts with ``<@BOT>``. ``mention`` is the bot's user id, dropped from the front.
    """
    if mention:
        text = re.sub(rf"^\s*<@{re.escape(mention)}(?:\|[^>]*)?>[\s:,]*", "", text)
    else:
        text = _LEADING_MENTION.sub("", text)
    text = _LINK.sub(r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()
