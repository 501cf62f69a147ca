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
from collections.abc import Sequence

from commands.markup import Run, fit, parse

__all__ = ["code_block_line", "command_text", "escape", "mrkdwn", "render"]

_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|[^>]*)?>")
_LEADING_MENTION = re.compile(r"^\s*<@[A-Z0-9]+(?:\|[^>]*)?>[\s:,]*")

_EMPHASIS = re.compile(r"[*_~]")
_LOOK_ALIKE = {"*": "\u2217", "_": "\u02cd", "~": "\u223c"}  # ∗ ˍ ∼
_BACKTICK_LOOK_ALIKE = "\u02cb"  # ˋ
_QUOTE = re.compile(r"^([ \t]*)&gt;", re.MULTILINE)
_QUOTE_LOOK_ALIKE = "\u02c3"  # ˃
_BROADCAST = re.compile(r"@(here|channel|everyone)\b", re.IGNORECASE)
_ZERO_WIDTH_SPACE = "\u200b"
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
    out: list[str] = []
    for run in runs:
        if run.channel:
            piece = f"<#{run.text}>" if _CHANNEL_ID.fullmatch(run.text) else _literal(run.text)
        elif run.code:
            piece = _code(run.text)
        else:
            piece = _literal(run.text)
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
    body = escape(text).replace("`", _BACKTICK_LOOK_ALIKE)
    body = _BROADCAST.sub(rf"@{_ZERO_WIDTH_SPACE}\1", body)
    return "\n".join(f"`{part}`" if part else "" for part in body.split("\n"))


def _literal(text: str) -> str:
    text = escape(text).replace("`", _BACKTICK_LOOK_ALIKE)
    text = _EMPHASIS.sub(lambda m: _inert_emphasis(m.string, m.start()), text)
    text = _QUOTE.sub(rf"\1{_QUOTE_LOOK_ALIKE}", text)
    return _BROADCAST.sub(rf"@{_ZERO_WIDTH_SPACE}\1", text)


def _inert_emphasis(text: str, index: int) -> str:
    """A formatting character Slack could read as markup, made a look-alike."""
    before = text[index - 1] if index > 0 else ""
    after = text[index + 1] if index + 1 < len(text) else ""
    if before.isalnum() and after.isalnum():
        return text[index]
    return _LOOK_ALIKE[text[index]]


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
