"""``mlc-bot discord --print-commands``: the sync body, printed without connecting."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from adapters.discord.tree import discord_paths
from commands.catalog import default_catalog

ROOT = Path(__file__).resolve().parents[2]
MLC_BOT = Path(sys.executable).with_name("mlc-bot")
# Discord's name rule; \w stands in for \p{L}\p{N} (Python's re has no \p classes).
NAME = re.compile(r"^[-_\w]{1,32}$")


def print_commands() -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "MLC_"))}
    return subprocess.run(
        [str(MLC_BOT), "discord", "--print-commands"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def walk(node: dict[str, Any], path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    found = [(path, node)]
    for option in node.get("options") or []:
        if option["type"] in (1, 2):
            found += walk(option, (*path, option["name"]))
    return found


def test_print_commands_needs_no_token_and_prints_the_whole_tree() -> None:
    result = print_commands()
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "WARNING" not in result.stderr
    commands = json.loads(result.stdout)
    assert [c["name"] for c in commands] == ["mlc"]
    (root,) = commands
    subcommands = {path: node for path, node in walk(root) if node.get("type") == 1 and path}
    for words, cmd in discord_paths(default_catalog()):
        assert words in subcommands, f"{cmd.name} is missing from /mlc"
        names = [o["name"] for o in subcommands[words]["options"]]
        assert sorted(names) == sorted(p.name for p in cmd.params if not p.console_only)


def test_printed_names_and_descriptions_are_valid_for_discord() -> None:
    (root,) = json.loads(print_commands().stdout)
    for path, node in walk(root):
        options = node.get("options") or []
        assert len(options) <= 25, path
        leaves = [o for o in options if o["type"] > 2]
        flags = [o["required"] for o in leaves]
        assert flags == sorted(flags, reverse=True), f"optional before required at {path}"
        for item in [node, *leaves]:
            assert NAME.match(item["name"]) and item["name"] == item["name"].lower(), item
            assert 1 <= len(item["description"]) <= 100, item
