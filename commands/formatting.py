"""Small text helpers the command handlers share: missing values, counts, rows.

Data inside the bot's own text goes through :func:`data`, a channel through
:func:`channel_ref`; a cell or field value the bot wrote with inline code is :func:`markup`
(see :mod:`commands.markup` for what each means to the renderers).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.mylivechat import Handoff, Tag, WebhookSubscription

from .markup import channel_ref, data, markup

if TYPE_CHECKING:
    pass

__all__ = [
    "MISSING",
    "channel_ref",
    "clip",
    "count",
    "data",
    "joined",
    "markup",
    "na",
    "number",
    "subscription_row",
    "tag_label",
    "tag_row",
    "url_hint",
    "visitor_label",
    "yes_no",
]

MISSING = "n/a"
"""How a value the API did not send is shown."""


def na(value: object) -> str:
    """``value`` as text, or "n/a" when it is missing or blank."""
    if value is None:
        return MISSING
    text = str(value).strip()
    return text or MISSING


def number(value: int | float | None) -> str:
    """``184739`` as "184,739"; None as "n/a"."""
    if value is None:
        return MISSING
    return f"{value:,.0f}" if isinstance(value, float) else f"{value:,}"


def count(amount: int, noun: str, plural: str | None = None) -> str:
    """``3 tags``, ``1 tag``."""
    return f"{amount:,} {noun if amount == 1 else plural or noun + 's'}"


def clip(text: str | None, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def url_hint(url: str | None) -> str:
    """Only the scheme, host and port of a URL, e.g. ``https://hooks.zapier.com/…`` or
    ``http://127.0.0.1:8080/…``.

    Receiver URLs often carry a secret in their path, so replies never show more.
    """
    if not url:
        return MISSING
    parts = urlsplit(url)
    if not parts.scheme or not parts.hostname:
        return "(hidden)"
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    try:
        port = parts.port
    except ValueError:  # not a number: show none rather than guess
        port = None
    return f"{parts.scheme}://{host}{f':{port}' if port is not None else ''}/…"


def tag_label(tag: Tag) -> str:
    """``vip (id 41)``, for the bot's text."""
    return f"{data(na(tag.name))} (id {na(tag.id)})"


def tag_row(tag: Tag) -> list[str]:
    """id, name, colour, description (and "deleted" for soft-deleted tags)."""
    name = na(tag.name) + ("  [deleted]" if tag.enabled is False else "")
    return [na(tag.id), name, na(tag.color), na(tag.description)]


def subscription_row(sub: WebhookSubscription) -> list[str]:
    """id, label, receiver (host only), events, state, secret prefix."""
    state = {True: "on", False: "paused", None: MISSING}[sub.enabled]
    prefix = f"{sub.secret_prefix}…" if sub.secret_prefix else MISSING
    return [
        na(sub.id),
        na(sub.label),
        url_hint(sub.url),
        ", ".join(sub.event_list) or MISSING,
        state,
        prefix,
    ]


def yes_no(value: bool | None) -> str:
    """ "yes", "no", or "n/a" when the API did not say."""
    return MISSING if value is None else "yes" if value else "no"


def visitor_label(handoff: Handoff) -> str:
    """The visitor's name, else their key, else "anonymous"."""
    return handoff.visitor_name or handoff.visitor_key or "anonymous"


def joined(items: Iterable[str], empty: str = "none") -> str:
    """``a, b, c`` or ``empty``."""
    text = ", ".join(items)
    return text or empty
