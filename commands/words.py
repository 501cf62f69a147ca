"""Splitting typed text into words: quotes group, nothing else is special."""

from __future__ import annotations

import shlex

from .errors import UsageError

__all__ = ["split_words"]

_SMART_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "\u00a0": " "})


def split_words(text: str) -> list[str]:
    """Shell-like words, tolerant of smart quotes.

    Quotes group words, but a backslash is an ordinary character (Windows paths,
    regular expressions) and ``#`` starts no comment (colours, digest ids).
    """
    lexer = shlex.shlex(text.translate(_SMART_QUOTES).strip(), posix=True)
    lexer.whitespace_split = True
    lexer.escape = ""
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError:
        raise UsageError(
            "There is an unclosed quote in that command. Close it, or leave quotes out."
        ) from None
