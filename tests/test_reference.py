"""docs/commands.md is derived from the declarations and must not drift from them."""

from __future__ import annotations

from pathlib import Path

from commands.catalog import default_catalog
from commands.reference import command_reference

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "commands.md"
README = ROOT / "README.md"


def test_command_reference_is_up_to_date() -> None:
    assert DOC.read_text() == command_reference(), (
        "docs/commands.md is stale: run `python -m commands.reference > docs/commands.md`"
    )


def test_reference_lists_every_command_with_its_cost() -> None:
    text = command_reference()
    for cmd in default_catalog():
        assert f"`{cmd.usage.replace('|', chr(92) + '|')}`" in text
        assert cmd.cost, f"{cmd.name} does not say what it costs"


def test_the_readme_gives_the_declared_digest_grammar() -> None:
    for name in ("digest add", "digest now"):
        cmd = default_catalog().get(name)
        assert cmd is not None
        assert f"`/mlc {cmd.usage}`" in README.read_text(), f"the README's {name} is stale"
