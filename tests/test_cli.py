"""The ``mlc-bot`` command line as a user runs it: a real process against a real sandbox."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.sandbox import SandboxServer

# Loggers that flood stderr at DEBUG when nothing holds them back.
THIRD_PARTY = ("httpcore", "httpx", "aiosqlite", "sqlalchemy", "asyncio", "tzlocal", "apscheduler")


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MLC_", "LOG_LEVEL", "DATABASE_URL"))
    }
    env.update(HOME=str(home), PYTHONUNBUFFERED="1", **extra)
    return env


async def _mlc_bot(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def _database_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("mlc-bot.db*"))


@pytest.fixture
def exec_env(sandbox: SandboxServer, tmp_path: Path) -> dict[str, str]:
    return _env(
        tmp_path,
        MLC_API_URL=sandbox.url,
        MLC_API_TOKEN=sandbox.tokens.site_a_write,
        DATABASE_URL=f"sqlite:///{tmp_path / 'mlc-bot.db'}",
    )


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port on 127.0.0.1 that something else is listening on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


# -- LOG_LEVEL ------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [("demo",), ("exec", "usage"), ("sandbox", "--port", "0")])
async def test_a_bad_log_level_is_one_line_and_exit_2(tmp_path: Path, args: tuple[str]) -> None:
    env = _env(tmp_path, LOG_LEVEL="verbose", MLC_API_TOKEN="mlc_unused_token")
    status, out, err = await _mlc_bot(*args, env=env)

    assert status == 2 and out == ""
    assert err == (
        "mlc-bot: LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not 'verbose'\n"
    )


async def test_exec_is_quiet_unless_log_level_is_given(exec_env: dict[str, str]) -> None:
    status, out, err = await _mlc_bot("exec", "usage", env=exec_env)
    assert status == 0 and "AI usage" in out
    assert err == "", "exec defaults to WARNING"

    status, out, err = await _mlc_bot("exec", "usage", env={**exec_env, "LOG_LEVEL": "debug"})
    assert status == 0 and "AI usage" in out
    assert " DEBUG mlc_bot.api: GET usage -> 200 (req_" in err


async def test_debug_shows_the_bots_lines_not_the_libraries(exec_env: dict[str, str]) -> None:
    env = {**exec_env, "LOG_LEVEL": "DEBUG"}
    # `digest add` opens (and migrates) the database; `digest now` reads it and calls the API.
    assert (await _mlc_bot("exec", "digest add usage --channel slack:C1", env=env))[0] == 0
    status, out, err = await _mlc_bot("exec", "digest now usage", env=env)

    assert status == 0 and "usage" in out.lower()
    lines = err.splitlines()
    assert any(" DEBUG mlc_bot.api: GET usage -> 200" in line for line in lines), err
    names = {line.split()[3].rstrip(":").split(".")[0] for line in lines}
    assert not names & set(THIRD_PARTY), err
    assert exec_env["MLC_API_TOKEN"] not in err


# -- the database ---------------------------------------------------------------------------


async def test_exec_leaves_only_the_database_file_behind(
    exec_env: dict[str, str], tmp_path: Path
) -> None:
    status, _, err = await _mlc_bot("exec", "digest add usage --channel slack:C1", env=exec_env)
    assert status == 0, err
    assert _database_files(tmp_path) == ["mlc-bot.db"]

    status, out, err = await _mlc_bot("exec", "digest list --channel slack:C1", env=exec_env)
    assert status == 0, err
    assert "#1" in out and "usage" in out, "the subscription was committed before closing"
    assert _database_files(tmp_path) == ["mlc-bot.db"]


def test_gitignore_covers_sqlite_side_files() -> None:
    ignored = (Path(__file__).parents[1] / ".gitignore").read_text().splitlines()
    assert {"*.db", "*.db-journal", "*.db-wal", "*.db-shm"} <= set(ignored)


# -- mlc-bot sandbox ------------------------------------------------------------------------


async def test_sandbox_on_a_busy_port_says_so_in_one_line(tmp_path: Path, busy_port: int) -> None:
    status, out, err = await _mlc_bot("sandbox", "--port", str(busy_port), env=_env(tmp_path))

    assert status == 2 and out == ""
    assert err == (
        f"mlc-bot: port {busy_port} on 127.0.0.1 is in use; "
        "pick another with --port N (0 picks a free one)\n"
    )


@pytest.mark.parametrize("port", ["99999", "65536", "-1", "http"])
async def test_sandbox_port_out_of_range_is_refused_by_the_parser(
    tmp_path: Path, port: str
) -> None:
    status, out, err = await _mlc_bot("sandbox", "--port", port, env=_env(tmp_path))

    assert status == 2 and out == ""
    assert f"error: argument --port: must be 0-65535, not '{port}'" in err
    assert "Traceback" not in err
