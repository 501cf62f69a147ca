"""docs/commands.md is derived from the declarations and must not drift from them."""

from __future__ import annotations

from pathlib import Path

from commands.catalog import default_catalog
from commands.reference import command_reference

DOC = Path(__file__).resolve().parents[1] / "docs" / "commands.md"


def test_command_reference_is_up_to_date() -> None:
    assert DOC.read_text() == command_reference(), (
        "docs/commands.md is stale: run `python -m commands.reference > docs/commands.md`"
    )


def test_reference_lists_every_command_with_its_cost() -> None:
    text = command_reference()
    for cmd in default_catalog():
        assert f"`{cmd.usage.replace('|', chr(92) + '|')}`" in text
        assert cmd.cost, f"{cmd.name} does not say what it costs"
