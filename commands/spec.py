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

import typing_extensions

from .errors import UsageError
from .sources import Source
from .words import split_words

if TYPE_CHECKING:
    from .reply import Reply

__all__ = [
    "DEFAULT_MAX_LENGTH",
    "KEY_MAX_LENGTH",
    "MAX_PAIRS",
    "PUBLIC_FLAG",
    "Command",
    "Param",
    "ParamType",
    "Permission",
    "Source",
    "check_text",
    "command",
    "shown",
]

Handler = Callable[..., Awaitable["Reply"]]

_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
_KEY = re.compile(r"[A-Za-z0-9_.\-]+")
# ASCII digits only: "²" passes str.isdigit() but breaks int(), and int() takes "٣" and "1_000".
_INTEGER = re.compile(r"[+-]?[0-9]+")
_MAX_DIGITS = 18
"""More significant digits than this is out of every declared range (and cheap to refuse)."""
# C0 and C1 controls (NUL, ESC, tab, line breaks), lone surrogates (not encodable as UTF-8)
# and the Unicode line and paragraph separators: never part of an id, a name or a one-line text.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


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


DEFAULT_MAX_LENGTH: dict[ParamType, int] = {
    ParamType.STRING: 200,  # ids, names, URLs declare their own
    ParamType.TEXT: 500,  # free text
    ParamType.KEY_VALUES: 500,  # each value
}
"""The longest value a parameter of this type takes when its declaration names none."""
KEY_MAX_LENGTH = 64
"""The longest key of a key=value pair."""
MAX_PAIRS = 50
"""The most key=value pairs one parameter takes."""


def shown(value: object, limit: int = 40) -> str:
    """``value`` quoted for a message, cut to ``limit`` characters: input is never echoed whole."""
    return repr(_cut(value, limit))


def _str(value: object, label: str) -> str:
    """``str(value)``; an int too long for ``str()`` is a usage error, not a crash."""
    try:
        return str(value)
    except ValueError:
        raise UsageError(f"{label} takes a shorter value than that number.") from None


def _cut(value: object, limit: int = 40) -> str:
    try:
        text = str(value)
    except ValueError:  # an int of more digits than str() converts
        return "a number too long to show"
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
    """INTEGER: the range (both required; ids are 1 to 2**31-1, PostgreSQL's ``integer``)."""
    complete: Source | None = None
    """Completion source for adapters that offer it (e.g. ``"tag"``, ``"session"``)."""
    metavar: str | None = None
    max_length: int | None = None
    """STRING, TEXT and each KEY_VALUES value: the longest accepted (default by type)."""
    pattern: str | None = None
    """A regular expression the whole value must match (e.g. ASCII for ids sent in URLs)."""
    pattern_help: str = ""
    """What ``pattern`` allows, for the message: "letters, digits and -_. without spaces"."""
    console_only: bool = False
    """Only for commands typed at a terminal (``mlc-bot exec``): chat platforms do not
    offer it (Discord's command tree leaves it out), and a handler refuses it there."""

    def __post_init__(self) -> None:
        if self.max_length is None and self.type in DEFAULT_MAX_LENGTH:
            object.__setattr__(self, "max_length", DEFAULT_MAX_LENGTH[self.type])

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
        text = _str(raw, self._label).strip()
        if kind in (ParamType.STRING, ParamType.TEXT):
            return self._text(text)
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
            if not _COLOR.fullmatch(text):
                raise UsageError(
                    f"{self._label} must be a colour like #7c3aed (# and six hex digits),"
                    f" not {shown(raw)}"
                )
            return text.lower()
        raise TypeError(f"parameter {self.name!r} has no converter for {kind}")

    def _text(self, text: str) -> str:
        """A one-line text within ``max_length`` (and ``pattern``, when declared)."""
        if not text:
            raise UsageError(f"{self._label} cannot be empty")
        check_text(text, self._label, self.max_length, self.help)
        if self.pattern is not None and not re.fullmatch(self.pattern, text):
            raise UsageError(f"{self._label} must be {self.pattern_help}, not {shown(text)}.")
        return text

    @property
    def _label(self) -> str:
        return f"<{self.name}>" if self.positional else self.option

    def _integer(self, raw: Any) -> int:
        """A whole number in ASCII digits; a leading ``#`` is allowed, as replies show ids (``#3``).

        The digits are counted before any conversion, so a 40,000-digit number costs nothing.
        """
        low, high = self.min, self.max
        bounds = (
            f"from {low} to {high}"
            if low is not None and high is not None
            else (f"at least {low}" if low is not None else f"at most {high}")
        )
        if isinstance(raw, int) and not isinstance(raw, bool):
            value = raw
        else:
            text = _str(raw, self._label).strip()
            digits = text.removeprefix("#")
            if isinstance(raw, bool) or not _INTEGER.fullmatch(digits):
                raise UsageError(
                    f"{self._label} must be a whole number {bounds} (digits 0-9), not {shown(raw)}"
                )
            sign = "-" if digits.startswith("-") else ""
            magnitude = digits.lstrip("+-").lstrip("0") or "0"
            if len(magnitude) > _MAX_DIGITS:
                raise UsageError(f"{self._label} must be {bounds}, not {_cut(text)}")
            value = int(sign + magnitude)
        if (low is not None and value < low) or (high is not None and value > high):
            raise UsageError(f"{self._label} must be {bounds}, not {_cut(value)}")
        return value

    def _choice(self, text: str) -> str:
        lowered = text.lower()
        if lowered in self.choices:
            return lowered
        from .suggest import did_you_mean

        hint = did_you_mean(lowered, self.choices)
        raise UsageError(
            f"{self._label} must be one of {', '.join(self.choices)}, not {shown(text)}.{hint}"
        )


def check_text(text: str, label: str, max_length: int | None, help: str) -> None:
    """Refuse text that is too long or holds control characters, saying what to type instead."""
    if max_length is not None and len(text) > max_length:
        raise UsageError(
            f"{label} takes at most {max_length:,} characters, not {len(text):,}: {help}."
        )
    control = _CONTROL.search(text)
    if control is not None:
        raise UsageError(
            f"{label} cannot contain control characters such as tabs, line breaks or NUL"
            f" ({control.group()!a} at position {control.start() + 1}): type it as plain"
            " text on one line."
        )


def _key_values(param: Param, raw: Any) -> dict[str, str]:
    """``plan=pro seats=5`` (words, a list of them, or a mapping) as a dict of text."""
    label = param._label
    if isinstance(raw, dict):
        pairs = [(_str(k, label), _str(v, label)) for k, v in raw.items()]
    else:
        listed = isinstance(raw, list | tuple)
        items = [_str(i, label) for i in raw] if listed else split_words(_str(raw, label))
        pairs = []
        for item in items[: MAX_PAIRS + 1]:
            key, equals, value = item.partition("=")
            if not equals:
                raise UsageError(
                    f"{param._label} takes key=value pairs like plan=pro, not {shown(item)}"
                )
            pairs.append((key, value))
    if len(pairs) > MAX_PAIRS:
        raise UsageError(f"{param._label} takes at most {MAX_PAIRS} key=value pairs.")
    result: dict[str, str] = {}
    for key, value in pairs:
        if not _KEY.fullmatch(key):
            raise UsageError(
                f"{param._label} takes keys of letters, digits and _.- like plan=pro,"
                f" not {shown(key)}"
            )
        check_text(key, f"The key {shown(key)}", KEY_MAX_LENGTH, "a short name like plan")
        check_text(value, f"The value of {key}", param.max_length, param.help)
        result[key] = value
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
    data: Any = None
    """The ``TypedDict`` its replies' ``data`` follows (``mlc-bot exec --json``, the docs)."""

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
    data: Any = None,
) -> Callable[[Handler], Handler]:
    """Declare a command. Fails at import when the declaration is incomplete.

    The handler is ``async def handler(ctx: Context, **params) -> Reply`` and
    takes one keyword per declared parameter. ``data`` is the ``TypedDict`` (from
    ``typing_extensions``) that the ``data`` of its successful replies follows.
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
            data=data,
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
        _check_bounds(f"{where}, parameter {param.name!r}", param)
        if param.complete is not None and not isinstance(param.complete, Source):
            raise TypeError(f"{where}: parameter {param.name!r} completes from an unknown source")
    seen_optional = False
    for param in spec.positionals:
        if seen_optional and param.required:
            raise TypeError(f"{where}: required positional {param.name!r} after an optional one")
        seen_optional = seen_optional or not param.required
    if spec.data is None or not typing_extensions.is_typeddict(spec.data):
        raise TypeError(
            f"{where} needs data=, a TypedDict describing the data of its replies"
            " (what `mlc-bot exec --json` prints; see commands/data.py)"
        )


def _check_bounds(where: str, param: Param) -> None:
    """Every value a user can type has a bound the parser enforces before any call."""
    if param.type is ParamType.INTEGER:
        if param.min is None or param.max is None:
            raise TypeError(f"{where}: an INTEGER needs both min and max (ids: 1 to 2**31-1)")
        if param.min > param.max:
            raise TypeError(f"{where}: min {param.min} is above max {param.max}")
        if max(abs(param.min), abs(param.max)) >= 10**_MAX_DIGITS:
            raise TypeError(f"{where}: the range must fit in {_MAX_DIGITS} digits")
    elif param.min is not None or param.max is not None:
        raise TypeError(f"{where}: only an INTEGER takes min and max")
    if param.type in DEFAULT_MAX_LENGTH:
        if param.max_length is None or param.max_length < 1:
            raise TypeError(f"{where}: max_length must be at least 1")
    elif param.max_length is not None:
        raise TypeError(f"{where}: only STRING, TEXT and KEY_VALUES take max_length")
    if param.pattern is not None:
        if param.type not in (ParamType.STRING, ParamType.TEXT) or not param.pattern_help:
            raise TypeError(f"{where}: a pattern is for STRING or TEXT, with pattern_help")
        re.compile(param.pattern)
    if param.default is not None and param.type in (ParamType.INTEGER, ParamType.STRING):
        try:
            param.convert(param.default)
        except UsageError as exc:
            raise TypeError(f"{where}: the default is not a valid value: {exc}") from None
