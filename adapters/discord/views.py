"""Buttons and menus for a reply's actions, each running a core command when used.

Components carry their command text in their ``custom_id`` (dynamic items),
so they keep working after the bot restarts. Using one starts a new
interaction whose user is checked again by the dispatcher: a button on a
public message runs with the permissions of whoever clicks it.

- :class:`RunButton`: runs ``action.command``.
- :class:`PickButton`: offers the choices of a completion source (``pick``)
  in a menu first; :class:`PickMenu` then runs the command with the choice.
- :class:`RowMenu`: when a table's row actions do not fit as buttons, one
  menu per action lists the rows.

Labels, placeholders and option texts render no markdown: they show the reply's strings
as plain text (:func:`commands.markup.plain`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol

import discord
from discord import ui

from commands.markup import plain
from commands.reply import Action, Picker, Reply, Row

from .limits import (
    ACTION_ROWS,
    BUTTON_LABEL,
    BUTTONS_PER_ROW,
    CUSTOM_ID,
    SELECT_OPTION_TEXT,
    SELECT_OPTIONS,
    fit,
)

__all__ = [
    "DYNAMIC_ITEMS",
    "ActionHandlers",
    "PickButton",
    "PickMenu",
    "RowMenu",
    "RunButton",
    "build_view",
]

_REPLY_ACTION_ROWS = 2  # the rest of Discord's five rows is for table rows
_STYLES = {"primary": discord.ButtonStyle.primary, "danger": discord.ButtonStyle.danger}


class ActionHandlers(Protocol):
    """What components call; the bot exposes it as ``client.mlc_handlers``."""

    async def run_action(self, interaction: discord.Interaction, text: str) -> None: ...

    async def offer_pick(
        self, interaction: discord.Interaction, source: str, text: str
    ) -> None: ...

    async def run_picked(self, interaction: discord.Interaction, text: str, value: str) -> None: ...


def _handlers(interaction: discord.Interaction) -> ActionHandlers:
    return interaction.client.mlc_handlers  # type: ignore[attr-defined,no-any-return]


def _encode(action: Action) -> str:
    """An action as one string: ``run:<command>`` or ``pick:<source>:<command>``."""
    return f"pick:{action.pick}:{action.command}" if action.pick else f"run:{action.command}"


async def _perform(interaction: discord.Interaction, encoded: str) -> None:
    kind, _, rest = encoded.partition(":")
    if kind == "pick":
        source, _, text = rest.partition(":")
        await _handlers(interaction).offer_pick(interaction, source, text)
    else:
        await _handlers(interaction).run_action(interaction, rest)


class RunButton(ui.DynamicItem[ui.Button[Any]], template=r"mlc:run:(?P<command>.+)"):
    """A button that runs one command."""

    def __init__(self, command: str, label: str, style: discord.ButtonStyle | None = None) -> None:
        super().__init__(
            ui.Button(
                label=fit(label, BUTTON_LABEL),
                style=style or discord.ButtonStyle.secondary,
                custom_id=f"mlc:run:{command}",
            )
        )
        self.command = command

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: ui.Item[Any], match: re.Match[str], /
    ) -> RunButton:
        return cls(match["command"], getattr(item, "label", None) or "Run")

    async def callback(self, interaction: discord.Interaction) -> None:
        await _handlers(interaction).run_action(interaction, self.command)


class PickButton(
    ui.DynamicItem[ui.Button[Any]], template=r"mlc:pick:(?P<source>[a-z_]+):(?P<command>.+)"
):
    """A button that asks for a value (e.g. a tag) and then runs its command with it."""

    def __init__(
        self, source: str, command: str, label: str, style: discord.ButtonStyle | None = None
    ) -> None:
        super().__init__(
            ui.Button(
                label=fit(label, BUTTON_LABEL),
                style=style or discord.ButtonStyle.secondary,
                custom_id=f"mlc:pick:{source}:{command}",
            )
        )
        self.source = source
        self.command = command

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: ui.Item[Any], match: re.Match[str], /
    ) -> PickButton:
        return cls(match["source"], match["command"], getattr(item, "label", None) or "Pick")

    async def callback(self, interaction: discord.Interaction) -> None:
        await _handlers(interaction).offer_pick(interaction, self.source, self.command)


class RowMenu(ui.DynamicItem[ui.Select[Any]], template=r"mlc:rows:(?P<index>[0-9]+)"):
    """A menu of table rows for one action; choosing a row runs the action for it."""

    def __init__(self, index: int, placeholder: str, options: Sequence[discord.SelectOption]):
        super().__init__(
            ui.Select(
                custom_id=f"mlc:rows:{index}",
                placeholder=fit(placeholder, SELECT_OPTION_TEXT),
                options=list(options),
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: ui.Item[Any], match: re.Match[str], /
    ) -> RowMenu:
        options = getattr(item, "options", None) or [discord.SelectOption(label="-")]
        return cls(int(match["index"]), getattr(item, "placeholder", None) or "", options)

    async def callback(self, interaction: discord.Interaction) -> None:
        if self.item.values:
            await _perform(interaction, self.item.values[0])


class PickMenu(ui.DynamicItem[ui.Select[Any]], template=r"mlc:chosen:(?P<command>.+)"):
    """The menu a :class:`PickButton` offers; the chosen value completes the command."""

    def __init__(self, command: str, options: Sequence[discord.SelectOption], placeholder: str):
        super().__init__(
            ui.Select(
                custom_id=f"mlc:chosen:{command}",
                placeholder=fit(placeholder, SELECT_OPTION_TEXT),
                options=list(options),
            )
        )
        self.command = command

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: ui.Item[Any], match: re.Match[str], /
    ) -> PickMenu:
        options = getattr(item, "options", None) or [discord.SelectOption(label="-")]
        return cls(match["command"], options, getattr(item, "placeholder", None) or "")

    async def callback(self, interaction: discord.Interaction) -> None:
        if self.item.values:
            await _handlers(interaction).run_picked(interaction, self.command, self.item.values[0])


DYNAMIC_ITEMS: tuple[type[ui.DynamicItem[Any]], ...] = (RunButton, PickButton, RowMenu, PickMenu)


def _button(action: Action, label: str) -> ui.Item[Any] | None:
    style = _STYLES.get(action.style or "")
    if action.pick:
        item: ui.Item[Any] = PickButton(action.pick, action.command, label, style)
    else:
        item = RunButton(action.command, label, style)
    custom_id = getattr(item, "custom_id", "")
    return item if len(custom_id) <= CUSTOM_ID else None


def build_view(reply: Reply) -> ui.View | None:
    """Buttons for the reply's actions and its rows' actions; None when there are none.

    Row actions become one row of buttons per table row when they fit in
    Discord's five component rows, and otherwise one menu per action.
    """
    view = ui.View(timeout=None)
    actions = reply.actions[: BUTTONS_PER_ROW * _REPLY_ACTION_ROWS]
    for index, action in enumerate(actions):
        item = _button(action, plain(action.label))
        if item is not None:
            item.row = index // BUTTONS_PER_ROW
            view.add_item(item)
    row = -(-len(actions) // BUTTONS_PER_ROW)  # rows the reply's own actions took
    if reply.picker is not None and row < ACTION_ROWS:
        menu = _pick_menu(reply.picker)
        if menu is not None:
            menu.row = row
            view.add_item(menu)
            row += 1
    rows = [r for r in (reply.table.rows if reply.table else ()) if r.actions]
    free = ACTION_ROWS - row
    if rows and free > 0:
        if len(rows) <= free and all(len(r.actions) <= BUTTONS_PER_ROW for r in rows):
            _add_row_buttons(view, rows, row)
        else:
            _add_row_menus(view, rows, row, free)
    return view if view.children else None


def _add_row_buttons(view: ui.View, rows: list[Row], first_row: int) -> None:
    for offset, table_row in enumerate(rows):
        subject = plain(table_row.cells[0]) if table_row.cells else ""
        for action in table_row.actions:
            item = _button(action, f"{plain(action.label)} {subject}".strip())
            if item is not None:
                item.row = first_row + offset
                view.add_item(item)


def _add_row_menus(view: ui.View, rows: list[Row], first_row: int, free: int) -> None:
    labels = list(dict.fromkeys(a.label for r in rows for a in r.actions))[:free]
    for index, label in enumerate(labels):
        options = []
        for table_row in rows:
            action = next((a for a in table_row.actions if a.label == label), None)
            encoded = _encode(action) if action is not None else ""
            if not encoded or len(encoded) > SELECT_OPTION_TEXT:
                continue
            cells = [plain(c) for c in table_row.cells if plain(c).strip()]
            options.append(
                discord.SelectOption(
                    label=fit(cells[0] if cells else encoded, SELECT_OPTION_TEXT),
                    description=fit(" · ".join(cells[1:3]), SELECT_OPTION_TEXT) or None,
                    value=encoded,
                )
            )
            if len(options) == SELECT_OPTIONS:
                break
        if options:
            menu = RowMenu(index, f"{plain(label)}…", options)
            menu.row = first_row + index
            view.add_item(menu)


def _pick_menu(picker: Picker) -> PickMenu | None:
    """A menu of the picker's choices that runs ``picker.command <value>`` when one is picked."""
    options = [
        discord.SelectOption(label=fit(plain(c.label), SELECT_OPTION_TEXT), value=c.value)
        for c in picker.choices[:SELECT_OPTIONS]
        if c.value and len(c.value) <= SELECT_OPTION_TEXT
    ]
    if not options or len(f"mlc:chosen:{picker.command}") > CUSTOM_ID:
        return None
    return PickMenu(picker.command, options, f"Pick a {picker.source}…")
