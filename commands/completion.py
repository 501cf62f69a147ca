"""Choices for parameters declared with ``complete=...`` (Discord autocomplete, Slack selects).

Sources read cached data where there is some: ``tag`` from the site's tag
list, ``session`` from the recent handoffs (``handoffs`` seeds them), and
``webhook`` from the site's short-lived subscription list. Adapters call this on every
keystroke, so it never raises for an API failure: it offers nothing instead.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.mylivechat import Handoff, MyLiveChatError, Tag, WebhookSubscription

from .context import Context
from .formatting import clip, joined, visitor_label
from .reply import Choice, Kind, Picker, Reply
from .spec import Source
from .tagging import enabled_tags
from .timefmt import ago

__all__ = ["Choice", "complete", "pick_reply"]

log = logging.getLogger("mlc_bot.commands")

MAX_CHARS = 100
"""Discord's limit for a choice's name and value; Slack's option text is shorter still (75)."""

T = TypeVar("T")


async def complete(
    source: Source | str, ctx: Context, prefix: str = "", limit: int = 25
) -> list[Choice]:
    """Up to ``limit`` choices from ``source`` matching what was typed so far, best first.

    Raises ValueError for a source that is not a :class:`~commands.spec.Source`.
    """
    lister = _LISTERS[Source(source)]
    try:
        return await lister(ctx, prefix.strip().casefold(), limit)
    except MyLiveChatError as exc:
        log.info("no %s completions: %r", source, exc)
        return []


async def pick_reply(source: str, command: str, ctx: Context, limit: int = 25) -> Reply:
    """The menu a pick button offers: ``source``'s choices to complete ``command`` with."""
    if source not in set(Source):
        return Reply(
            title="Nothing to pick",
            text=f"This button offers nothing to pick. Type the command instead: `/mlc {command}`.",
            kind=Kind.WARNING,
        )
    choices = await complete(source, ctx, limit=limit)
    if not choices:
        return Reply(
            title=f"No {source} to pick",
            text=(
                f"There is no {source} to choose from, or MyLiveChat did not answer. "
                f"Type the command instead: `/mlc {command} <{source}>`."
            ),
            kind=Kind.WARNING,
        )
    return Reply(
        text=f"Choose a {source} for `{command}`:",
        picker=Picker(command, source, tuple(choices)),
    )


async def _tag_choices(ctx: Context, typed: str, limit: int) -> list[Choice]:
    return _tags(await ctx.site.tags(ctx.api), typed, limit)


async def _session_choices(ctx: Context, typed: str, limit: int) -> list[Choice]:
    return _sessions(ctx, await ctx.site.recent_handoffs(ctx.api), typed, limit)


async def _webhook_choices(ctx: Context, typed: str, limit: int) -> list[Choice]:
    return _webhooks(await ctx.site.webhooks(ctx.api), typed, limit)


def _tags(tags: list[Tag], typed: str, limit: int) -> list[Choice]:
    rows = enabled_tags(tags)
    ranked = _rank(rows, typed, lambda t: [t.name or "", str(t.id or "")], limit)
    return [
        _choice(f"{t.name} · {t.description}" if t.description else t.name or "", t.name or "")
        for t in ranked
    ]


def _sessions(ctx: Context, handoffs: list[Handoff], typed: str, limit: int) -> list[Choice]:
    now = ctx.now()
    rows = [h for h in handoffs if h.session_id]
    ranked = _rank(
        rows,
        typed,
        lambda h: [h.session_id or "", h.visitor_name or "", h.visitor_key or ""],
        limit,
    )
    return [
        _choice(
            f"{h.session_id} · {visitor_label(h)} · {h.reason or 'handoff'} · "
            f"{ago(h.created_utc, now)}",
            h.session_id or "",
        )
        for h in ranked
    ]


def _webhooks(subs: list[WebhookSubscription], typed: str, limit: int) -> list[Choice]:
    rows = [s for s in subs if s.id is not None]
    ranked = _rank(rows, typed, lambda s: [str(s.id), s.label or ""], limit)
    return [
        _choice(f"{s.id} · {s.label or 'webhook'} · {joined(s.event_list)}", str(s.id))
        for s in ranked
    ]


def _rank(rows: list[T], typed: str, keys: Callable[[T], list[str]], limit: int) -> list[T]:
    """Rows whose keys start with ``typed`` first, then rows that contain it; order kept."""
    if not typed:
        return rows[:limit]
    starts, contains = [], []
    for row in rows:
        words = [k.casefold() for k in keys(row)]
        if any(w.startswith(typed) for w in words):
            starts.append(row)
        elif any(typed in w for w in words):
            contains.append(row)
    return (starts + contains)[:limit]


def _choice(label: str, value: str) -> Choice:
    return Choice(clip(label, MAX_CHARS), value[:MAX_CHARS])


Lister = Callable[[Context, str, int], Awaitable[list[Choice]]]
"""Choices from one source: (context, what was typed, casefolded; at most how many)."""
_LISTERS: dict[Source, Lister] = {
    Source.TAG: _tag_choices,
    Source.SESSION: _session_choices,
    Source.WEBHOOK: _webhook_choices,
}
if set(_LISTERS) != set(Source):  # every declared source can be completed
    raise RuntimeError(f"no completion for {sorted(set(Source) - set(_LISTERS))}")
