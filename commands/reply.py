"""The platform-neutral reply every command returns.

Adapters render it: plain text and JSON here (``commands.render``), Block Kit
and embeds in ``adapters``. Nothing in a reply knows about a platform.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .sources import Source

__all__ = [
    "Action",
    "Choice",
    "Failure",
    "Field",
    "Kind",
    "Picker",
    "Progress",
    "Reply",
    "Row",
    "Table",
]


class Kind(enum.StrEnum):
    """How a reply should look: colour in embeds, emoji in Slack."""

    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    ERROR = "error"


class Failure(enum.StrEnum):
    """Why a command did not do what was asked (``None`` on a reply means it did)."""

    USAGE = "usage"  # the text could not be understood: shows usage; exit status 2
    DENIED = "denied"  # the caller or the token may not do this; exit status 1
    API = "api"  # MyLiveChat refused or failed; exit status 1
    UNKNOWN = "unknown"  # a change's answer was lost: it may have been made; exit status 1
    INPUT = "input"  # understood, but a value is wrong (unknown tag, bad URL); exit status 1
    INTERNAL = "internal"  # a bug; logged with a traceback, never shown; exit status 1


@dataclass(frozen=True, slots=True)
class Action:
    """A button that runs another command.

    ``command`` is command text as a user would type it. With ``pick`` set
    (a completion source such as ``"tag"``), the adapter first offers the
    source's choices and appends the chosen value to ``command``.
    """

    label: str
    command: str
    style: str | None = None  # "primary" | "danger" | None
    pick: Source | None = None


@dataclass(frozen=True, slots=True)
class Choice:
    """One offered value: ``label`` is shown, ``value`` is what the command receives."""

    label: str
    value: str


@dataclass(frozen=True, slots=True)
class Picker:
    """A menu whose chosen value completes ``command`` (see ``Dispatcher.run_picked``)."""

    command: str
    source: str
    """The completion source the choices come from, e.g. ``"tag"``."""
    choices: tuple[Choice, ...]


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    value: str
    inline: bool = True


@dataclass(frozen=True, slots=True)
class Row:
    cells: tuple[str, ...]
    actions: tuple[Action, ...] = ()


@dataclass(frozen=True, slots=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[Row, ...]

    @classmethod
    def of(cls, columns: list[str], rows: list[list[str]]) -> Table:
        return cls(tuple(columns), tuple(Row(tuple(r)) for r in rows))


@dataclass(frozen=True, slots=True)
class Progress:
    """A figure against its bound, e.g. cycle replies against included replies."""

    value: float
    total: float
    label: str = ""

    @property
    def ratio(self) -> float:
        return self.value / self.total if self.total > 0 else 0.0

    @property
    def percent(self) -> float:
        """The value as a percentage of the total, computed as ``UsageFigures.percent`` is,
        so the bar's figure and the text's figure round alike (``commands.numbers``)."""
        return 100.0 * self.value / self.total if self.total > 0 else 0.0

    def bar(self, width: int = 20, full: str = "█", empty: str = "░") -> str:
        filled = round(min(max(self.ratio, 0.0), 1.0) * width)
        return full * filled + empty * (width - filled)


@dataclass(frozen=True, slots=True)
class Reply:
    title: str = ""
    text: str = ""
    fields: tuple[Field, ...] = ()
    table: Table | None = None
    progress: Progress | None = None
    actions: tuple[Action, ...] = ()
    notes: tuple[str, ...] = ()
    """Short trailing lines: truncation notes, hints, "asked by"."""
    kind: Kind = Kind.INFO
    failure: Failure | None = None
    private: bool = True
    """Shown only to the caller (ephemeral in Slack and Discord)."""
    sensitive: bool = False
    """Carries a secret: adapters must keep it private whatever was asked."""
    request_id: str | None = None
    error_code: str | None = None
    picker: Picker | None = None
    """Values to choose from; choosing one runs ``picker.command`` with it."""
    mentions: tuple[str, ...] = ()
    """Who the message notifies, as an admin named them (a Slack user group such as
    ``<!subteam^S1>`` or its id, a Discord role id): the one way a reply may ping anyone."""
    data: Mapping[str, Any] | None = None
    """What the reply says, for scripts (``mlc-bot exec --json``): JSON-ready values only
    (str, int, float, bool, None, lists, dicts; timestamps as ISO 8601 UTC), in the shape
    the command declares (``@command(..., data=...)``, see :mod:`commands.data`)."""
    command: str | None = None
    """The command that answered (set by the dispatcher; None when none was understood)."""

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def public(self) -> bool:
        """Whether the channel sees it: asked for ``--public``, and no secret in it."""
        return not self.private and not self.sensitive

    @property
    def shown_error_code(self) -> str | None:
        """The error code to show beside the request id: the API's, when the API failed.

        Usage mistakes, refusals and wrong values explain themselves; a code would be noise.
        """
        if self.failure in (Failure.API, Failure.UNKNOWN):
            return self.error_code
        return None

    @property
    def exit_status(self) -> int:
        if self.failure is None:
            return 0
        return 2 if self.failure is Failure.USAGE else 1
