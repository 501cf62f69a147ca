"""``.env``: settings kept in a file in the working directory, loaded at start.

Real environment variables win over the file (a host's config vars, ``FOO=1 mlc-bot ...``).
"""

from __future__ import annotations

import io
import os

from .config import ConfigError, Problem

__all__ = ["ENV_FILE", "load_env_file"]

ENV_FILE = ".env"
"""Read from the current directory at start, when present."""
_TRUE = {"1", "true", "t", "yes", "y"}


def load_env_file(path: str | os.PathLike[str] = ENV_FILE) -> bool:
    """Set the variables of the ``.env`` file at ``path`` that the environment does not set
    already; False when there is no such file, or when ``PYTHON_DOTENV_DISABLED`` is set
    (python-dotenv's switch). A line that is not ``NAME=value`` (or a comment) is a
    :class:`ConfigError` naming its line, and nothing is loaded."""
    if os.environ.get("PYTHON_DOTENV_DISABLED", "").strip().lower() in _TRUE:
        return False
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except FileNotFoundError:
        return False
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            Problem(f"{os.fspath(path)} cannot be read ({type(exc).__name__}): fix or remove it")
        ) from None
    from dotenv import load_dotenv
    from dotenv.parser import parse_stream

    bad = [binding.original.line for binding in parse_stream(io.StringIO(text)) if binding.error]
    if bad:
        where = f"line {bad[0]} is" if len(bad) == 1 else f"lines {', '.join(map(str, bad))} are"
        raise ConfigError(
            Problem(f"{os.fspath(path)} {where} not NAME=value: fix, or make a comment with #")
        )
    load_dotenv(stream=io.StringIO(text), override=False)
    return True
