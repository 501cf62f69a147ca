"""The command reference (docs/commands.md), derived from the declarations.

python -m commands.reference > docs/commands.md
"""

from __future__ import annotations

from .catalog import Catalog, default_catalog

__all__ = ["command_reference"]


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
        "Every command that changes data also reads `whoami` once per 10 minutes to refuse",
        "writes up front when the token is read-only.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(command_reference(), end="")
