"""All declared commands, collected from the handler modules."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterable, Iterator, Sequence
from types import ModuleType

from .spec import Command

__all__ = ["Catalog", "default_catalog"]

# Handler modules, in the order help lists them. Each declares its own commands.
HANDLER_MODULES: tuple[str, ...] = (
    "commands.builtin.meta",
    "commands.builtin.tags",
    "commands.builtin.conversations",
    "commands.builtin.insights",
    "commands.builtin.visitors",
    "commands.builtin.webhooks",
    "commands.builtin.notify",
    "commands.builtin.digests",
    "commands.builtin.alerts",
)


class Catalog:
    """Commands by path, in declaration order."""

    def __init__(self, commands: Iterable[Command]) -> None:
        self._by_path: dict[tuple[str, ...], Command] = {}
        for cmd in commands:
            if cmd.path in self._by_path:
                raise ValueError(f"command {cmd.name!r} is declared twice")
            self._by_path[cmd.path] = cmd

    @classmethod
    def from_modules(cls, modules: Iterable[ModuleType | str]) -> Catalog:
        found: list[Command] = []
        for module in modules:
            if isinstance(module, str):
                module = importlib.import_module(module)
            for value in vars(module).values():
                spec = getattr(value, "__mlc_command__", None)
                if isinstance(spec, Command) and spec not in found:
                    found.append(spec)
        return cls(found)

    def __iter__(self) -> Iterator[Command]:
        return iter(self._by_path.values())

    def __len__(self) -> int:
        return len(self._by_path)

    def get(self, name: str | Sequence[str]) -> Command | None:
        path = tuple(name.split()) if isinstance(name, str) else tuple(name)
        return self._by_path.get(path)

    def longest_match(self, words: Sequence[str]) -> tuple[Command | None, int]:
        """The command whose path is the longest prefix of ``words``, and its length."""
        lowered = [w.lower() for w in words]
        for size in range(min(len(lowered), 3), 0, -1):
            cmd = self._by_path.get(tuple(lowered[:size]))
            if cmd is not None:
                return cmd, size
        return None, 0

    def children(self, prefix: Sequence[str]) -> list[Command]:
        """Commands one word below ``prefix`` (e.g. ``tags add`` under ``tags``)."""
        n = len(prefix)
        return [c for c in self if len(c.path) == n + 1 and c.path[:n] == tuple(prefix)]

    def is_group(self, prefix: Sequence[str]) -> bool:
        return bool(self.children(prefix))

    def top_words(self) -> list[str]:
        return list(dict.fromkeys(c.path[0] for c in self))

    def names(self) -> list[str]:
        return [c.name for c in self]


@functools.cache
def default_catalog() -> Catalog:
    """Every command the bot offers."""
    return Catalog.from_modules(HANDLER_MODULES)
