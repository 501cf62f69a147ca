"""How a command is declared: once, here, with everything the adapters derive from.

A handler module declares commands with :func:`command`. Declaring only
records a :class:`Command` on the function; :mod:`commands.catalog` collects
them. The text parser, help pages, Discord's command tree and every usage
error are derived from these declarations.
"""

from __future__ import annotations

import enum
import inspect
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import UsageError

if TYPE_CHECKING:
    from .reply import Reply

__all__ = ["PUBLIC_FLAG", "Command", "Param", "ParamType", "Permission", "command"]

Handler = Callable[..., Awaitable["Reply"]]

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_KEY_VALUE = re.compile(r"^([A-Za-z0-9_.\-]+)=(.*)$", re.S)


class Permission(enum.StrEnum):
    READ = "read"  # everyone
    MEMBER_WRITE = "member-write"  # members (MLC_BOT_MEMBERS; everyone when unset)
    ADMIN = "admin"  # MLC_BOT_ADMINS and platform admins


class ParamType(enum.StrEnum):
    STRING = "string"
    TEXT = "text"  # positional that takes the rest of the line
    INTEGER = "integer"
    CHOICE = "choice"
    CHOICES = "choices"  # comma-separated subset of `choices`
    COLOR = "color"  # "#rrggbb"
    KEY_VALUES = "key-values"  # k=v pairs; repeatable option or trailing positionals
    FLAG = "flag"  # --name with no value


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter: positional when ``positional`` is set, else ``--name``."""

    name: str
    type: ParamType
    help: str
    positional: bool = False
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()
    min: int | None = None
    max: int | None = None
    complete: str | None = None
    """Completion source for adapters that offer it (e.g. ``"tag"``, ``"session"``)."""
    metavar: str | None = None

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def placeholder(self) -> str:
        if self.metavar:
            return self.metavar
        if self.type is ParamType.CHOICE and self.choices:
            return "|".join(self.choices)
        if self.type is ParamType.CHOICES and self.choices:
            return ",".join(self.choices)
        if self.type is ParamType.KEY_VALUES:
            return "k=v"
        if self.type is ParamType.COLOR:
            return "#rrggbb"
        return self.name.upper() if not self.positional else self.name

    @property
    def usage(self) -> str:
        """This parameter in a usage line, e.g. ``<session_id>`` or ``[--limit N]``."""
        if self.positional:
            text = f"<{self.placeholder}>"
            if self.type is ParamType.KEY_VALUES:
                text = f"[{self.placeholder} ...]"
            elif self.type is ParamType.TEXT:
                text = f"<{self.placeholder} ...>"
            return text if self.required or self.type is ParamType.KEY_VALUES else f"[{text}]"
        text = self.option if self.type is ParamType.FLAG else f"{self.option} {self.placeholder}"
        if self.type is ParamType.KEY_VALUES:
            text += " ..."
        return text if self.required else f"[{text}]"

    def convert(self, raw: Any) -> Any:
        """``raw`` (text typed by a user, or a typed Discord option) as this parameter's value."""
        kind = self.type
        if kind is ParamType.FLAG:
            return bool(raw)
        if kind is ParamType.KEY_VALUES:
            return _key_values(self, raw)
        if kind is ParamType.INTEGER:
            return self._integer(raw)
        text = str(raw).strip()
        if kind is ParamType.CHOICE:
            return self._choice(text)
        if kind is ParamType.CHOICES:
            items = [item.strip().lower() for item in text.split(",") if item.strip()]
            if not items:
                raise UsageError(f"{self.option} needs at least one of: {', '.join(self.choices)}")
            for item in items:
                self._choice(item)
            return list(dict.fromkeys(items))
        if kind is ParamType.COLOR:
            if not text.startswith("#"):
                text = "#" + text
            if not _COLOR.match(text):
                raise UsageError(
                    f"{self._label} must be a colour like #7c3aed (# and six hex digits),"
                    f" not {raw!r}"
                )
            return text.lower()
        if not text:
            raise UsageError(f"{self._label} cannot be empty")
        return text

    @property
    def _label(self) -> str:
        return f"<{self.name}>" if self.positional else self.option

    def _integer(self, raw: Any) -> int:
        """A whole number; a leading ``#`` is allowed, as replies show ids (``#3``)."""
        try:
            value = raw if isinstance(raw, int) else int(str(raw).strip().removeprefix("#"))
        except ValueError:
            raise UsageError(f"{self._label} must be a whole number, not {raw!r}") from None
        low, high = self.min, self.max
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = (
                f"from {low} to {high}"
                if low is not None and high is not None
                else (f"at least {low}" if low is not None else f"at most {high}")
            )
            raise UsageError(f"{self._label} must be {bounds}, not {value}")
        return value

    def _choice(self, text: str) -> str:
        lowered = text.lower()
        if lowered in self.choices:
            return lowered
        from .suggest import did_you_mean

        hint = did_you_mean(lowered, self.choices)
        raise UsageError(
            f"{self._label} must be one of {', '.join(self.choices)}, not {text!r}.{hint}"
        )


def _key_values(param: Param, raw: Any) -> dict[str, str]:
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items()}
    items = raw if isinstance(raw, list | tuple) else str(raw).split()
    result: dict[str, str] = {}
    for item in items:
        match = _KEY_VALUE.match(str(item))
        if not match:
            raise UsageError(f"{param._label} takes key=value pairs like plan=pro, not {item!r}")
        result[match.group(1)] = match.group(2)
    return result


@dataclass(frozen=True, slots=True)
class Command:
    """A declared command. ``path`` is its words, e.g. ``("tags", "add")``."""

    path: tuple[str, ...]
    help: str
    examples: tuple[str, ...]
    params: tuple[Param, ...]
    permission: Permission
    handler: Handler
    writes: bool = False
    """Needs a read,write token."""
    public: bool = False
    """Accepts ``--public``: the reply is posted for the channel to see."""
    cost: str = ""
    """The API calls it makes, for help pages and the docs."""
    list_name: str = "list"
    """Its subcommand name where its path is also a group (Discord: ``/mlc tags list``)."""

    @property
    def name(self) -> str:
        return " ".join(self.path)

    @property
    def summary(self) -> str:
        return self.help.strip().splitlines()[0]

    @property
    def positionals(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.positional)

    @property
    def options(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if not p.positional)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    @property
    def usage(self) -> str:
        return " ".join([self.name, *(p.usage for p in self.params)])


PUBLIC_FLAG = Param("public", ParamType.FLAG, "post the answer in the channel for everyone")


def command(
    name: str,
    *,
    help: str,
    examples: Sequence[str],
    params: Sequence[Param] = (),
    permission: Permission = Permission.READ,
    writes: bool = False,
    public: bool = False,
    cost: str = "",
    list_name: str = "list",
) -> Callable[[Handler], Handler]:
    """Declare a command. Fails at import when the declaration is incomplete.

    The handler is ``async def handler(ctx: Context, **params) -> Reply`` and
    takes one keyword per declared parameter.
    """

    def decorate(handler: Handler) -> Handler:
        declared = tuple(params) + ((PUBLIC_FLAG,) if public else ())
        spec = Command(
            path=tuple(name.split()),
            help=help.strip(),
            examples=tuple(examples),
            params=declared,
            permission=permission,
            handler=handler,
            writes=writes,
            public=public,
            cost=cost,
            list_name=list_name,
        )
        _check(spec)
        handler.__mlc_command__ = spec  # type: ignore[attr-defined]
        return handler

    return decorate


def _check(spec: Command) -> None:
    where = f"command {spec.name!r}"
    if not spec.help or not spec.examples:
        raise TypeError(f"{where} needs help text and at least one example")
    if not inspect.iscoroutinefunction(spec.handler):
        raise TypeError(f"{where}: the handler must be async")
    accepted = inspect.signature(spec.handler).parameters
    for param in spec.params:
        if param is PUBLIC_FLAG:
            continue  # consumed by the dispatcher, not passed to the handler
        if param.name not in accepted:
            raise TypeError(f"{where}: the handler takes no parameter {param.name!r}")
        if not param.help:
            raise TypeError(f"{where}: parameter {param.name!r} needs help text")
    seen_optional = False
    for param in spec.positionals:
        if seen_optional and param.required:
            raise TypeError(f"{where}: required positional {param.name!r} after an optional one")
        seen_optional = seen_optional or not param.required
