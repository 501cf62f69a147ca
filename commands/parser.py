"""Command text (Slack's ``/mlc ...``, the console) to a command and its arguments."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .catalog import Catalog
from .errors import UsageError
from .formatting import clip
from .spec import Command, Param, ParamType
from .suggest import did_you_mean
from .words import split_words

__all__ = ["MAX_TEXT_LENGTH", "Invocation", "bind", "parse", "parse_words", "tokenize"]

MAX_TEXT_LENGTH = 4000
"""The longest command text read: a URL and a few options fit; a 40,000-character mention
does not, and is refused before any tokenizing or did-you-mean work on it."""

# Slack turns "--" into an en or em dash when a user types it in some clients.
_DASHES = ("—", "–")
# After a command, either of these shows its help page instead of running it.
HELP_FLAGS = ("--help", "-h")


@dataclass(frozen=True, slots=True)
class Invocation:
    command: Command
    args: dict[str, Any]


def tokenize(text: str) -> list[str]:
    """Shell-like words; tolerant of smart quotes and of a leading ``/mlc``.

    Quotes group words, but a backslash is an ordinary character (Windows paths,
    regular expressions) and ``#`` starts no comment (colours, digest ids).
    """
    words = split_words(text)
    if words and words[0].lower() in ("/mlc", "mlc"):
        words = words[1:]
    return [_fix_dash(w) for w in words]


def _fix_dash(word: str) -> str:
    for dash in _DASHES:
        if word.startswith(dash) and len(word) > 1:
            return "--" + word[1:]
    return word


def parse(text: str, catalog: Catalog) -> Invocation:
    """Parse command text. Raises :class:`UsageError` with a helpful message."""
    length = len(text.strip())
    if length > MAX_TEXT_LENGTH:
        raise UsageError(
            f"That command is {length:,} characters long; the bot reads at most"
            f" {MAX_TEXT_LENGTH:,}. Shorten it, or split it into several commands."
        )
    return parse_words(tokenize(text), catalog)


def parse_words(words: list[str], catalog: Catalog) -> Invocation:
    """Parse command words (already split as :func:`tokenize` splits text)."""
    if not words:
        help_cmd = catalog.get("help")
        if help_cmd is None:
            raise UsageError("Type a command.")
        return Invocation(help_cmd, {"topic": None})
    words = _hoist_leading_positional(words, catalog)
    cmd, used = catalog.longest_match(words)
    if cmd is None:
        help_page = _help_without_command(words, catalog)
        if help_page is None:
            raise UsageError(_unknown_command(words, catalog))
        return help_page
    rest = words[used:]
    if catalog.is_group(cmd.path) and rest and rest[0].lower() == cmd.list_name:
        rest = rest[1:]  # "tags list", "notify show": the name Discord shows for the root
    if catalog.is_group(cmd.path) and rest and not rest[0].startswith("-"):
        # "tags ad vip": a near miss of a subcommand, not an argument to "tags".
        subs = [c.path[-1] for c in catalog.children(cmd.path)]
        first = cmd.positionals[0] if cmd.positionals else None
        takes_word = first is not None and (
            first.type is not ParamType.CHOICE or rest[0].lower() in first.choices
        )
        if not takes_word and rest[0].lower() not in subs:
            values = list(first.choices) if first is not None else []
            hint = did_you_mean(rest[0], subs + values)
            takes = f"a subcommand ({', '.join(subs)})"
            if first is not None:
                takes += f" or {first.placeholder}"
            raise UsageError(
                f"`{cmd.name}` has no subcommand `{_echo(rest[0])}`.{hint} It takes {takes}.",
                path=cmd.path,
            )
    if _asks_for_help(rest):
        help_page = _help_page(catalog, cmd.name)
        if help_page is not None:
            return help_page
    return Invocation(cmd, _bind_words(cmd, rest))


def _asks_for_help(words: list[str]) -> bool:
    """``--help`` or ``-h`` among the words (before a ``--`` that ends the options)."""
    for word in words:
        if word == "--":
            return False
        if word.lower() in HELP_FLAGS:
            return True
    return False


def _help_without_command(words: list[str], catalog: Catalog) -> Invocation | None:
    """``--help`` first (``help`` for the rest), or ``visitor --help`` (a group, no command)."""
    first = words[0].lower()
    if first in HELP_FLAGS:
        return _help_page(catalog, " ".join(words[1:]))
    if len(words) > 1 and words[1].lower() in HELP_FLAGS and catalog.is_group([first]):
        return _help_page(catalog, first)
    return None


def _help_page(catalog: Catalog, topic: str) -> Invocation | None:
    """``help <topic>`` (the list of commands for an empty topic); None without ``help``."""
    help_cmd = catalog.get("help")
    if help_cmd is None:
        return None
    return Invocation(help_cmd, bind(help_cmd, {"topic": topic or None}))


def _hoist_leading_positional(words: list[str], catalog: Catalog) -> list[str]:
    """Accept ``notify slack set URL`` for ``notify set slack URL``.

    When the word after a group is a value of a subcommand's first positional
    and the word after that names the subcommand, move the value behind it.
    """
    if len(words) < 3:
        return words
    group = (words[0].lower(),)
    sub = catalog.get((*group, words[2].lower()))
    if sub is None or not catalog.is_group(group) or catalog.get((*group, words[1].lower())):
        return words
    first = sub.positionals[0] if sub.positionals else None
    if first is None or first.type is not ParamType.CHOICE:
        return words
    if words[1].lower() not in first.choices:
        return words
    return [words[0], words[2], words[1], *words[3:]]


def _unknown_command(words: list[str], catalog: Catalog) -> str:
    word = words[0]
    subs = [c.path[-1] for c in catalog.children([word.lower()])]
    if subs:  # a group with no command of its own, e.g. "visitor"
        if len(words) == 1:
            return f"`{word}` needs a subcommand: {', '.join(subs)}. Try `help {word.lower()}`."
        hint = did_you_mean(words[1], subs)
        sub = _echo(words[1])
        return f"`{word}` has no subcommand `{sub}`.{hint} It takes: {', '.join(subs)}."
    hint = did_you_mean(word, catalog.top_words())
    return f"There is no command `{_echo(word)}`.{hint} Type `help` to see them all."


def _echo(word: str) -> str:
    """A word of the user's text, as quoted back in a message: one line, cut short."""
    return clip(word, 40)


def _bind_words(cmd: Command, words: list[str]) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    positionals: list[str] = []
    i = 0
    only_positionals = False
    while i < len(words):
        word = words[i]
        if word == "--" and not only_positionals:
            only_positionals = True
        elif word.startswith("--") and len(word) > 2 and not only_positionals:
            name, _, inline_value = word[2:].partition("=")
            param = _option(cmd, name)
            if param.type is ParamType.FLAG:
                raw[param.name] = True
            else:
                if inline_value:
                    values = [inline_value]
                else:
                    values = _option_values(words, i + 1, param)
                    i += len(values)
                    if not values:
                        raise UsageError(
                            f"{param.option} needs a value, e.g. {param.option} "
                            f"{param.placeholder}.",
                            path=cmd.path,
                        )
                if param.type is ParamType.KEY_VALUES:
                    raw.setdefault(param.name, []).extend(values)
                else:
                    raw[param.name] = " ".join(values)
        else:
            positionals.append(word)
        i += 1
    _assign_positionals(cmd, positionals, raw)
    return bind(cmd, raw)


def _option(cmd: Command, name: str) -> Param:
    param = cmd.param(name.replace("-", "_").lower())
    if param is None or param.positional:
        known = [p.option for p in cmd.options]
        hint = did_you_mean("--" + name, known)
        listing = f" It takes: {', '.join(known)}." if known else " It takes no options."
        raise UsageError(
            f"`{cmd.name}` has no option `--{_echo(name)}`.{hint}{listing}", path=cmd.path
        )
    return param


def _option_values(words: list[str], start: int, param: Param) -> list[str]:
    """The words after ``--option``: one, or up to the next option for free text."""
    if start >= len(words):
        return []
    if param.type in (ParamType.TEXT, ParamType.KEY_VALUES):
        taken = []
        for word in words[start:]:
            if word.startswith("--") and len(word) > 2:
                break
            taken.append(word)
        return taken
    return [words[start]]


def _assign_positionals(cmd: Command, words: list[str], raw: dict[str, Any]) -> None:
    params = cmd.positionals
    for index, param in enumerate(params):
        if not words:
            break
        if param.type is ParamType.KEY_VALUES:
            raw[param.name] = list(words)
            words = []
        elif param.type is ParamType.TEXT and index == len(params) - 1:
            raw[param.name] = " ".join(words)
            words = []
        else:
            raw[param.name] = words.pop(0)
    if words:
        extra = _echo(" ".join(words))
        raise UsageError(f"`{cmd.name}` did not expect `{extra}`.", path=cmd.path)


def bind(cmd: Command, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Check and convert raw values (typed text or Discord options) for ``cmd``.

    Missing required parameters and bad values raise :class:`UsageError`.
    Absent optional parameters get their declared default.
    """
    args: dict[str, Any] = {}
    for param in cmd.params:
        value = raw.get(param.name)
        if value is None or value == "" or value == []:
            if param.required:
                label = f"<{param.name}>" if param.positional else param.option
                raise UsageError(f"`{cmd.name}` needs {label}: {param.help}.", path=cmd.path)
            args[param.name] = False if param.type is ParamType.FLAG else param.default
            continue
        try:
            args[param.name] = param.convert(value)
        except UsageError as exc:
            exc.path = cmd.path
            raise
    unknown = set(raw) - {p.name for p in cmd.params}
    if unknown:
        raise UsageError(f"`{cmd.name}` has no parameter {sorted(unknown)[0]!r}.", path=cmd.path)
    return args
