"""Near-miss suggestions ("did you mean ...?")."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["MAX_COMPARED_LENGTH", "close_matches", "did_you_mean"]

MAX_COMPARED_LENGTH = 64
"""Words and candidates longer than this are not compared: nothing that long is a typo of a
command, a zone or a tag, and difflib's cost grows with the product of the lengths."""


def close_matches(word: str, candidates: Iterable[str], *, n: int = 3) -> list[str]:
    if len(word) > MAX_COMPARED_LENGTH:
        return []
    pool = [c for c in dict.fromkeys(candidates) if len(c) <= MAX_COMPARED_LENGTH]
    lowered = {c.lower(): c for c in pool}
    hits = difflib.get_close_matches(word.lower(), list(lowered), n=n, cutoff=0.6)
    return [lowered[h] for h in hits]


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`` Did you mean `x`?`` (with a leading space), or an empty string."""
    hits = close_matches(word, candidates)
    if not hits:
        return ""
    return " Did you mean " + " or ".join(f"`{h}`" for h in hits) + "?"
