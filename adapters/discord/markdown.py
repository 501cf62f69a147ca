"""The core's neutral text (:mod:`commands.markup`) as Discord markdown, or as plain text.

Everything but the bot's inline code is escaped: ``discord.utils.escape_markdown`` for
emphasis, spoilers, code, quotes, headings and list markers (an underscore between two
letters or digits, which cannot start emphasis, is left as is, so ``s_8f2a`` stays
readable), then what it leaves live: any
``[`` (a masked link hides inside another bracket it already escaped), ``<`` (mentions,
custom emoji, timestamps, command links), ``://`` (so no bare URL becomes a link) and
numbered lists; ``escape_mentions`` takes care of ``@everyone`` and ``@here``. Text inside
the bot's inline code is shown as code, where Discord renders nothing, with a backtick of
the data turned into ``ˋ`` so it cannot close the span. Footers, button labels and menu
options do not render markdown: they get :func:`commands.markup.plain` text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from discord.utils import escape_markdown, escape_mentions

from commands.markup import Run, fit, parse

__all__ = ["markdown", "render"]

# An underscore between two letters or digits cannot start or end emphasis in Discord.
_INNER_UNDERSCORE = re.compile(r"(?<=[^\W_])\\_(?=[^\W_])")
_LEFT_LIVE = re.compile(r"\\.|[\[\]<]|:(?=//)|^([ \t]*[0-9]+)(\.)", re.MULTILINE | re.DOTALL)
_CHANNEL_ID = re.compile(r"[0-9]{1,20}")
_BACKTICK_LOOK_ALIKE = "\u02cb"  # ˋ


def markdown(text: str, *, data: bool = False, limit: int | None = None) -> str:
    """The neutral ``text`` as markdown; ``data`` for a cell or field value.

    With ``limit``, the text is cut before it is escaped, so no escape is split.
    """
    runs = parse(text, data=data)
    return render(runs) if limit is None else fit(runs, limit, render)


def render(runs: Sequence[Run]) -> str:
    out: list[str] = []
    for run in runs:
        if run.channel:
            piece = f"<#{run.text}>" if _CHANNEL_ID.fullmatch(run.text) else escape("#" + run.text)
        elif run.code:
            piece = _code(run.text)
        else:
            piece = escape(run.text)
        if run.bold and piece.strip():
            piece = f"**{piece}**"
        out.append(piece)
    return "".join(out)


def escape(text: str) -> str:
    """``text`` shown literally in an embed: no markdown, link or mention forms from it."""
    escaped = _INNER_UNDERSCORE.sub("_", escape_markdown(text, ignore_links=False))
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
