"""Replies for a command that found nothing to do, said the same way by every command.

A command asked to bring about what is already so (pause a paused digest, delete a deleted
tag, turn off notifications that are off) changes nothing and says so plainly: a title
naming the state ("Already paused"), what it found, and "Nothing changed." It is not a
failure: scripts get exit status 0, as the state asked for holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .reply import Action, Field, Kind, Reply

__all__ = ["NOTHING_CHANGED", "unchanged"]

NOTHING_CHANGED = "Nothing changed."


def unchanged(
    title: str,
    text: str,
    *,
    fields: Sequence[Field] = (),
    notes: Sequence[str] = (),
    actions: Sequence[Action] = (),
    **extra: Any,
) -> Reply:
    """``title`` ("Already paused"), then ``text`` (what was found) and "Nothing changed."."""
    return Reply(
        title=title,
        text=f"{text} {NOTHING_CHANGED}",
        fields=tuple(fields),
        notes=tuple(notes),
        actions=tuple(actions),
        kind=Kind.INFO,
        **extra,
    )
