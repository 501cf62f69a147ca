"""The command reference (docs/commands.md), derived from the declarations.

python -m commands.reference > docs/commands.md
python -m commands.reference --usage-hint   (the manifest's ``usage_hint``)

Each command's ``--json`` data is documented from the ``TypedDict`` it declares: field
types from the annotations, meanings from the docstring under each field.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import json
import re
import textwrap
import types
import typing
from typing import Any

import typing_extensions

from .cache import WHOAMI_TTL
from .catalog import Catalog, default_catalog
from .data import Format

__all__ = ["command_reference", "data_reference", "slack_usage_hint"]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def command_reference(catalog: Catalog | None = None) -> str:
    """Markdown: one row per command with its usage, purpose, who may run it and its cost."""
    catalog = catalog or default_catalog()
    lines = [
        "# Commands",
        "",
        "Generated from the command declarations by `python -m commands.reference`;",
        "a test fails when this file is out of date. Type them after `/mlc` in Slack,",
        "as `/mlc <group> <subcommand>` in Discord, at the `mlc-bot demo` prompt, or with",
        '`mlc-bot exec "<command>"`. `help <command>` shows the options and examples.',
        "",
        "| command | what it does | who | MyLiveChat API calls |",
        "|---|---|---|---|",
    ]
    for cmd in catalog:
        lines.append(
            f"| `{_cell(cmd.usage)}` | {_cell(cmd.summary)} | {cmd.permission.value} "
            f"| {_cell(cmd.cost or 'none')} |"
        )
    lines += [
        "",
        "Every command that changes data also reads `whoami` once per "
        f"{WHOAMI_TTL / 60:.0f} minutes to refuse",
        "writes up front when the token is read-only.",
        "",
        *data_reference(catalog),
    ]
    return "\n".join(lines) + "\n"


_INTRO = """\
## Data for scripts: `--json`

`mlc-bot exec "<command>" --json` prints one JSON object on stdout. A command that did
what was asked prints `{"ok": true, "command": "<name>", "data": {...}, "title": ...,
"text": ..., "notes": [...]}`: scripts read `data`, typed as below (integers as
integers, timestamps as ISO 8601 UTC strings ending in `Z`, `null` where MyLiveChat sent
nothing); `title`, `text` and `notes` are the reply as people read it. A command that did
not prints `{"ok": false, "command": "<name>" or null, "error": {"kind": ..., "code": ...,
"message": ..., "request_id": ...}, "title": ..., "notes": [...]}`, also on stdout, with
the same exit status: 1 when refused (`kind` `api`, `denied`, `input`, `unknown` for a
change whose answer was lost, `internal`), 2 when not understood (`usage`, and `config`
for a missing or malformed setting, before any command runs). A created or rotated
webhook secret is only in `data.secret`, only in that reply.

Fields marked *optional* may be absent; every other field is always there."""


def data_reference(catalog: Catalog | None = None) -> list[str]:
    """Markdown lines: each command's ``data`` fields, then the objects they contain."""
    catalog = catalog or default_catalog()
    objects: dict[str, Any] = {}
    lines = [_INTRO]
    for cmd in catalog:
        lines += ["", f"### `{cmd.name}`", ""]
        lines += _fields(cmd.data, objects)
    lines += ["", "### Objects"]
    done = 0
    while done < len(objects):  # rendering an object may find more
        name, schema = list(objects.items())[done]
        done += 1
        lines += ["", f"#### {name} object", ""]
        lines += _fields(schema, objects)
    return lines


def _fields(schema: Any, objects: dict[str, Any]) -> list[str]:
    doc, field_docs = _docs(schema)
    hints = typing_extensions.get_type_hints(schema, include_extras=True)
    lines = [doc, ""] if doc else []
    lines += ["| field | type | meaning |", "|---|---|---|"]
    for name, hint in hints.items():
        # Read from the annotation: with postponed annotations __optional_keys__ misses it.
        optional = typing_extensions.get_origin(hint) is typing_extensions.NotRequired
        if optional:
            (hint,) = typing_extensions.get_args(hint)
        field = f"`{name}`" + (" (*optional*)" if optional else "")
        lines.append(f"| {field} | {_type(hint, objects)} | {_cell(field_docs.get(name, ''))} |")
    return lines


def _type(hint: Any, objects: dict[str, Any]) -> str:
    """``hint`` in words: ``integer or null``, ``array of [Tag](#tag-object)``."""
    origin, args = typing_extensions.get_origin(hint), typing_extensions.get_args(hint)
    if origin is typing_extensions.Annotated:
        formats = [m for m in hint.__metadata__ if isinstance(m, Format)]
        base = _type(args[0], objects)
        return f"{base} ({formats[0].name})" if formats else base
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type(a, objects) for a in args)
    if origin is typing_extensions.Literal:
        return " or ".join(f"`{json.dumps(a)}`" for a in args)
    if origin is list:
        return f"array of {_type(args[0], objects)}"
    if origin is dict:
        return "object" if args[1] is Any else f"object of {_type(args[1], objects)}"
    if typing_extensions.is_typeddict(hint):
        name = hint.__name__.removesuffix("Data") or hint.__name__
        if objects.setdefault(name, hint) is not hint:
            raise TypeError(f"two data objects are called {name!r}: rename one")
        return f"[{name}](#{name.lower()}-object)"
    simple = {int: "integer", float: "number", str: "string", bool: "boolean"}
    if hint is type(None):
        return "null"
    if hint is Any:
        return "any JSON value"
    if hint in simple:
        return simple[hint]
    raise TypeError(f"cannot document the data type {hint!r}: use JSON types")


def _docs(schema: Any) -> tuple[str, dict[str, str]]:
    """The docstring of a TypedDict class and the docstring under each of its fields."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(schema)))
    except (OSError, TypeError):  # declared functionally: no source to read
        return "", {}
    cls = next(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef))
    docs: dict[str, str] = {}
    body = cls.body
    for node, after in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            docs[node.target.id] = _oneline(after.value.value)
    return _oneline(ast.get_docstring(cls) or ""), docs


def _oneline(text: str) -> str:
    return re.sub(r"\s+", " ", inspect.cleandoc(text)).strip()


def slack_usage_hint(catalog: Catalog | None = None) -> str:
    """The slash command's usage hint in the Slack manifest: every top-level word."""
    catalog = catalog or default_catalog()
    return "help | " + " | ".join(w for w in catalog.top_words() if w != "help")


if __name__ == "__main__":
    import sys

    print(slack_usage_hint() if "--usage-hint" in sys.argv else command_reference(), end="")
