"""The command reference (docs/commands.md), derived from the declarations.

python -m commands.reference > docs/commands.md
python -m commands.reference --usage-hint   (the manifest's ``usage_hint``)
"""

from __future__ import annotations

from .cache import WHOAMI_TTL
from .catalog import Catalog, default_catalog

__all__ = ["command_reference", "slack_usage_hint"]


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
    ]
    return "\n".join(lines) + "\n"


def slack_usage_hint(catalog: Catalog | None = None) -> str:
    """The slash command's usage hint in the Slack manifest: every top-level word."""
    catalog = catalog or default_catalog()
    return "help | " + " | ".join(w for w in catalog.top_words() if w != "help")


if __name__ == "__main__":
    import sys

    print(slack_usage_hint() if "--usage-hint" in sys.argv else command_reference(), end="")
