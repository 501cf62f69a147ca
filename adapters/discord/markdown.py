"""The core's neutral text (:mod:`commands.markup`) as Discord markdown.

Everything but the bot's inline code is escaped. ``discord.utils.escape_markdown`` takes
emphasis, spoilers, code, quotes, headings and list markers (an underscore between two
letters or digits, which cannot start emphasis, is left as it is, so ``s_8f2a`` stays
readable). What it leaves live is escaped after it: every ``[`` and ``]`` (it escapes a
masked link with one backslash in front, and all that follows stays live up to the last
``)`` of the line), ``<`` (mentions, custom emoji, timestamps, command links), ``://``
(so no bare URL becomes a link) and numbered lists; ``escape_mentions`` takes ``@everyone``
and ``@here``. Inside the bot's inline code Discord renders nothing, so the text is shown
as it is, a backtick of the data turned into ``ˋ`` so it cannot close the span. Footers,
button labels and menu options render no markdown: they get
:func:`commands.markup.plain` text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from discord.utils import escape_markdown, escape_mentions

from commands.markup import Run, fit, parse

__all__ = ["markdown", "render"]

# An underscore between two letters or digits cannot start or end emphasis in Discord.
_INNER_UNDERSCORE = re.compile(r"\\_(?<=[^\W_]\\_)(?=[^\W_])")
_LEFT_LIVE = re.compile(r"\\.|<|:(?=//)|^([ \t]*[0-9]+)(\.)", re.MULTILINE | re.DOTALL)
_OPEN, _CLOSE = "\ufff0", "\ufff1"  # stand-ins for brackets while escape_markdown runs
# Text without any of these characters forms nothing, and is shown as it is.
_MARKDOWN = re.compile(r"[\\*_~|`>#\-\[\]<:@\ufff0\ufff1]|^[ \t]*[0-9]+\.", re.MULTILINE)
# escape_markdown puts its backslash before the indent of "  - item", where it would show.
_INDENTED_DASH = re.compile(r"^\\([ \t]+)-", re.MULTILINE)
_CHANNEL_ID = re.compile(r"[0-9]{1,20}")
_BACKTICK_LOOK_ALIKE = "\u02cb"  # ˋ
_SEPARATOR = "\x00"


def markdown(text: str, *, data: bool = False, limit: int | None = None) -> str:
    """The neutral ``text`` as markdown; ``data`` for a cell or field value.

    With ``limit``, the text is cut before it is escaped, so no escape is split.
    """
    runs = parse(text, data=data)
    return render(runs) if limit is None else fit(runs, limit, render)


def render(runs: Sequence[Run]) -> str:
    literal = _all_escaped([r.text for r in runs if not r.code and not r.channel])
    out: list[str] = []
    for run in runs:
        if run.channel:
            piece = f"<#{run.text}>" if _CHANNEL_ID.fullmatch(run.text) else escape("#" + run.text)
        elif run.code:
            piece = _code(run.text)
        else:
            piece = next(literal)
        if run.bold and piece.strip():
            piece = f"**{piece}**"
        out.append(piece)
    return "".join(out)


def _all_escaped(texts: list[str]) -> Iterator[str]:
    """Each text escaped, in one pass over them all (a NUL, never shown, between them)."""
    joined = _SEPARATOR.join(text.replace(_SEPARATOR, "") for text in texts)
    return iter(escape(joined).split(_SEPARATOR))


def escape(text: str) -> str:
    """``text`` shown literally in an embed: no markdown, link or mention forms from it."""
    # escape_markdown reads "[...](...)" as one masked link and only puts a backslash before
    # it, leaving everything between the first "[" and the last ")" of a line unescaped:
    # the brackets are kept out of its sight, and escaped after.
    if not _MARKDOWN.search(text):
        return text
    hidden = text.replace(_OPEN, "").replace(_CLOSE, "").replace("[", _OPEN).replace("]", _CLOSE)
    escaped = escape_markdown(hidden, ignore_links=False)
    escaped = escaped.replace(_OPEN, "\\[").replace(_CLOSE, "\\]")
    escaped = _INDENTED_DASH.sub(r"\1\\-", _INNER_UNDERSCORE.sub("_", escaped))
    escaped = _LEFT_LIVE.sub(_escape_left_live, escaped)
    return escape_mentions(escaped)


def _escape_left_live(match: re.Match[str]) -> str:
    found = match[0]
    if found.startswith("\\"):
        return found  # escaped already: kept as one pair
    if match[1] is not None:
        return f"{match[1]}\\."  # "1. item" is a numbered list
    return "\\" + found


def _code(text: str) -> str:
    body = text.replace("`", _BACKTICK_LOOK_ALIKE)
    return "\n".join(f"`{part}`" if part.strip() else part for part in body.split("\n"))
