"""The ``/mlc`` application command, generated from the core's declarations.

Every :class:`commands.spec.Command` becomes a subcommand of ``/mlc`` (``/mlc
ping``) or of a subcommand group (``/mlc tags add``). A path that is both a
command and a group (``tags`` and ``tags add``) becomes ``<group>
<list_name>`` (``/mlc tags list``); a three-word path joins its last words
with a hyphen (``/mlc notify set-slack``), since Discord nests only two
levels below a root. Each :class:`commands.spec.Param` becomes a typed
option. Nothing here runs a command: callbacks hand the interaction to a
:class:`CommandHandlers`.

Discord applies ``default_member_permissions`` to top-level commands only, so
admin subcommands cannot be hidden per subcommand; they are labelled
"(admin)" and the dispatcher checks Manage Server or ``MLC_BOT_ADMINS`` on
every run.
"""

from __future__ import annotations

import inspect
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import discord
from discord import app_commands

from commands.catalog import Catalog
from commands.spec import Command, Param, ParamType, Permission

from .limits import (
    CHOICE_VALUE,
    CHOICES_PER_OPTION,
    DESCRIPTION,
    OPTIONS_PER_LEVEL,
    STRING_OPTION,
    check_name,
    fit,
    fit_description,
)

__all__ = [
    "ROOT_NAME",
    "CommandHandlers",
    "OptionSpec",
    "build_root",
    "discord_paths",
    "option_spec",
]

ROOT_NAME = "mlc"
_ADMIN_MARK = "(admin) "


class CommandHandlers(Protocol):
    """What the generated callbacks call: the adapter's interaction handling."""

    async def run_command(
        self, interaction: discord.Interaction, command: Command, options: Mapping[str, Any]
    ) -> None: ...

    async def autocomplete(
        self, interaction: discord.Interaction, command: Command, param: Param, current: str
    ) -> list[app_commands.Choice[Any]]: ...


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """How one core parameter looks as a Discord option."""

    annotation: Any
    description: str
    choices: tuple[str, ...] = ()
    autocomplete: bool = False


def option_spec(param: Param) -> OptionSpec:
    """The Discord option for ``param``: its type, description, choices and completion."""
    kind = param.type
    if kind is ParamType.FLAG:
        return OptionSpec(bool, fit_description(param.help))
    if kind is ParamType.INTEGER:
        bounded = param.min is not None or param.max is not None
        annotation = app_commands.Range[int, param.min, param.max] if bounded else int
        completes = bool(param.complete)
        return OptionSpec(annotation, fit_description(param.help), autocomplete=completes)
    if kind is ParamType.CHOICE:
        fits = len(param.choices) <= CHOICES_PER_OPTION and all(
            len(c) <= CHOICE_VALUE for c in param.choices
        )
        if fits and not param.complete:
            return OptionSpec(str, fit_description(param.help), choices=param.choices)
        return OptionSpec(str, fit_description(param.help), autocomplete=True)
    if kind is ParamType.CHOICES:
        # Discord has no multi-select option: a string, completed item by item.
        hint = "one or more of " + ", ".join(param.choices)
        return OptionSpec(str, _with_hint(param.help, hint), autocomplete=True)
    if kind is ParamType.KEY_VALUES:
        help_ = param.help if "=" in param.help else _with_hint(param.help, "key=value pairs")
        return OptionSpec(str, fit_description(help_), autocomplete=False)
    if kind is ParamType.COLOR:
        return OptionSpec(str, _with_hint(param.help, "#rrggbb"))
    # Discord's own client then refuses a value the core would refuse anyway.
    annotation = (
        app_commands.Range[str, 1, min(param.max_length, STRING_OPTION)]
        if param.max_length
        else str
    )
    return OptionSpec(annotation, fit_description(param.help), autocomplete=bool(param.complete))


def _with_hint(text: str, hint: str) -> str:
    """``text (hint)`` within the description limit; the hint is kept whole when it fits."""
    suffix = f" ({hint})"
    line = " ".join(text.split())
    if len(line) + len(suffix) <= DESCRIPTION:
        return line + suffix
    if len(suffix) <= DESCRIPTION // 2:
        return fit(line, DESCRIPTION - len(suffix)) + suffix
    return fit_description(line)


def discord_paths(catalog: Catalog) -> list[tuple[tuple[str, ...], Command]]:
    """Each command's names below ``/mlc`` (one or two words), in declaration order.

    Raises ValueError when two commands would land on the same name, or a name
    breaks Discord's rules, naming the declaration to fix.
    """
    placed: dict[tuple[str, ...], Command] = {}
    for cmd in catalog:
        path = cmd.path
        if len(path) == 1:
            words = (path[0], cmd.list_name) if catalog.is_group(path) else path
        elif len(path) == 2 and not catalog.is_group(path):
            words = path
        else:
            # Discord nests two levels below the root: join the rest with "-".
            tail = (*path[1:], cmd.list_name) if catalog.is_group(path) else path[1:]
            words = (path[0], "-".join(tail))
        for word in words:
            check_name(word, f"command {cmd.name!r}")
        if words in placed:
            raise ValueError(
                f"commands {placed[words].name!r} and {cmd.name!r} would both be "
                f"/{ROOT_NAME} {' '.join(words)} on Discord; rename one (or set list_name)"
            )
        placed[words] = cmd
    groups = {w[0] for w in placed if len(w) == 2}
    for words, cmd in placed.items():
        if len(words) == 1 and words[0] in groups:
            raise ValueError(f"command {cmd.name!r} clashes with the group {words[0]!r}")
    levels = Counter(words[:-1] for words in placed)
    levels[()] = len({words[0] for words in placed})
    for level, size in levels.items():
        if size > OPTIONS_PER_LEVEL:
            where = " ".join((ROOT_NAME, *level))
            raise ValueError(
                f"/{where} would have {size} subcommands; Discord allows {OPTIONS_PER_LEVEL}"
            )
    return list(placed.items())


def build_root(catalog: Catalog, handlers: CommandHandlers) -> app_commands.Group:
    """``/mlc`` with every catalog command below it, calling ``handlers`` when used."""
    paths = discord_paths(catalog)
    tops = list(dict.fromkeys(words[0] for words, _ in paths))
    root = app_commands.Group(
        name=ROOT_NAME,
        description=fit_description(f"MyLiveChat from Discord: {', '.join(tops)}"),
        guild_only=True,
        allowed_contexts=app_commands.AppCommandContext(guild=True),
    )
    groups: dict[str, app_commands.Group] = {}
    for words, cmd in paths:
        parent = root
        if len(words) == 2:
            parent = groups.get(words[0]) or _new_group(root, words[0], catalog)
            groups[words[0]] = parent
        parent.add_command(_subcommand(words[-1], cmd, handlers, parent))
    return root


def _new_group(root: app_commands.Group, name: str, catalog: Catalog) -> app_commands.Group:
    own = catalog.get((name,))
    if own is not None:
        description = own.summary
    else:
        subs = [c.path[1] for c in catalog.children((name,))]
        description = f"{name.capitalize()} commands: {', '.join(subs)}"
    return app_commands.Group(name=name, description=fit_description(description), parent=root)


def _subcommand(
    name: str, cmd: Command, handlers: CommandHandlers, parent: app_commands.Group
) -> app_commands.Command[Any, ..., Any]:
    summary = cmd.summary
    if cmd.permission is Permission.ADMIN:
        summary = _ADMIN_MARK + summary
    return app_commands.Command(
        name=name,
        description=fit_description(summary),
        callback=_callback(cmd, handlers),
        parent=parent,
        extras={"mlc_command": cmd},
    )


def _callback(cmd: Command, handlers: CommandHandlers) -> Any:
    """A callback whose signature declares ``cmd``'s options, the way discord.py reads them."""
    if len([p for p in cmd.params if not p.console_only]) > OPTIONS_PER_LEVEL:
        raise ValueError(f"command {cmd.name!r} has more than {OPTIONS_PER_LEVEL} parameters")

    async def callback(interaction: discord.Interaction, **options: Any) -> None:
        await handlers.run_command(interaction, cmd, options)

    signature = [
        inspect.Parameter(
            "interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction
        )
    ]
    descriptions: dict[str, str] = {}
    choices: dict[str, list[app_commands.Choice[str]]] = {}
    completers: dict[str, Any] = {}
    # Required options first, as Discord requires; otherwise declaration order. Options for
    # the terminal only (``mlc-bot exec --channel``) are not offered in Discord.
    offered = [p for p in cmd.params if not p.console_only]
    for param in sorted(offered, key=lambda p: not p.required):
        check_name(param.name, f"command {cmd.name!r}, parameter")
        spec = option_spec(param)
        signature.append(
            inspect.Parameter(
                param.name,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=spec.annotation,
                default=inspect.Parameter.empty if param.required else None,
            )
        )
        descriptions[param.name] = spec.description
        if spec.choices:
            choices[param.name] = [app_commands.Choice(name=c, value=c) for c in spec.choices]
        if spec.autocomplete:
            completers[param.name] = _completer(cmd, param, handlers)
    callback.__signature__ = inspect.Signature(signature)  # type: ignore[attr-defined]
    callback.__qualname__ = callback.__name__ = "mlc_" + "_".join(cmd.path)
    app_commands.describe(**descriptions)(callback)
    if choices:
        app_commands.choices(**choices)(callback)
    if completers:
        app_commands.autocomplete(**completers)(callback)
    return callback


def _completer(cmd: Command, param: Param, handlers: CommandHandlers) -> Any:
    async def complete(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[Any]]:
        return await handlers.autocomplete(interaction, cmd, param, str(current or ""))

    return complete
