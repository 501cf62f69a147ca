"""``LOG_FORMAT=json``: one JSON object per line, the running command's request id on each of
its lines, and no secret in any field."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bot.logs import configure_logging
from bot.mylivechat import MyLiveChatClient, last_request_id
from bot.sandbox import SandboxServer
from bot.secrets import REGISTRY, register_secret
from commands.dispatch import Dispatcher
from tests.conftest import ContextFactory

SECRET = "correct-horse-battery-staple-42"


def _env(home: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLC_", "LOG_", "DATABASE_"))}
    return {**env, "HOME": str(home), "DATABASE_URL": f"sqlite:///{home / 'bot.db'}", **settings}


async def _mlc_bot(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def _objects(err: str) -> list[dict[str, Any]]:
    """Every stderr line as the object it must be."""
    return [json.loads(line) for line in err.splitlines()]


@pytest.mark.usefixtures("restore_logging")
async def test_each_line_is_an_object_with_its_commands_request_id(
    sandbox: SandboxServer,
    api: MyLiveChatClient,
    make_context: ContextFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", "json")
    api.backoff = 0.01
    dispatcher = Dispatcher()
    logging.getLogger("mlc_bot.test").info("before any command")
    sandbox.inject_fault("500", count=6)  # each `usage` tries three times, then gives up
    await dispatcher.run_text("usage", make_context())
    await dispatcher.run_text("usage", make_context())
    logging.getLogger("mlc_bot.test").info("after the commands")

    lines = [
        line for line in _objects(capsys.readouterr().err) if line["logger"] != "bot.sandbox.app"
    ]
    assert {"time", "level", "logger", "message"} <= lines[0].keys()
    assert lines[0]["message"] == "before any command" and "request_id" not in lines[0]
    assert lines[-1]["message"] == "after the commands" and "request_id" not in lines[-1]
    during = lines[1:-1]
    # Per command: two retry warnings and the line saying it failed, all with its ids.
    assert [line["level"] for line in during] == ["WARNING", "WARNING", "INFO"] * 2, during
    assert all(line["command"] == "usage" for line in during)
    first, second = (
        {line["request_id"] for line in during[:3]},
        {line["request_id"] for line in during[3:]},
    )
    assert len(first) == len(second) == 1 and first != second
    # Each line names MyLiveChat's id for the latest answer the command had by then.
    for line in during:
        if line["level"] == "WARNING":  # "... (request id req_...); retry"
            quoted = re.search(r"request id (req_\w+)", line["message"])
            assert quoted is not None and line["mlc_request_id"] == quoted.group(1), line
    assert during[5]["mlc_request_id"] in during[5]["message"]  # "failed: ServerError(...)"
    # A later command's lines never name an earlier command's answers.
    assert last_request_id() == during[5]["mlc_request_id"]
    assert last_request_id(since=time.monotonic()) is None


@pytest.mark.usefixtures("restore_logging")
async def test_no_secret_in_any_field_and_a_traceback_is_one_field(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", "json")
    REGISTRY.forget_all()  # other tests' fake tokens (say xoxb-1) would mask part of this one
    register_secret(SECRET)
    log = logging.getLogger("mlc_bot.test")
    slack_token = "xoxb-1234567890-abcdefghijkl"
    log.warning("token %s and %s", SECRET, slack_token)
    log.info("careless extra", extra={"settings": {"url": f"https://x/?k={SECRET}"}})
    try:
        raise RuntimeError(f"failed with {SECRET}")
    except RuntimeError:
        log.exception("it broke")

    err = capsys.readouterr().err
    assert SECRET not in err and slack_token not in err
    careless, extra, broke = _objects(err)  # three records, three lines
    assert careless["message"] == "token *** and xox*-***"
    assert extra["settings"] == {"url": "https://x/?k=***"}
    assert broke["message"] == "it broke"
    assert broke["exception"].startswith("Traceback (most recent call last):")
    assert broke["exception"].endswith("RuntimeError: failed with ***")


async def test_mlc_bot_exec_logs_json_lines_when_asked(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    env = _env(
        tmp_path,
        MLC_API_URL=sandbox.url,
        MLC_API_TOKEN=sandbox.tokens.site_a_write,
        LOG_FORMAT="json",
        LOG_LEVEL="INFO",
    )
    sandbox.inject_fault("500", count=3)
    status, _, err = await _mlc_bot("exec", "usage", env=env)
    # exec shows a refused command's reply on stderr, after the log lines.
    logged, reply = err.split("\n✗ ", 1)
    assert status == 1
    lines = _objects(logged)
    failed = next(line for line in lines if "failed" in line["message"])
    assert failed["command"] == "usage" and failed["request_id"]
    assert f"Request id: {failed['mlc_request_id']}" in reply
    assert sandbox.tokens.site_a_write not in err


async def test_an_unknown_log_format_is_one_line_and_exit_2(tmp_path: Path) -> None:
    env = _env(tmp_path, LOG_FORMAT="xml", MLC_API_TOKEN="mlc_test_token")
    status, out, err = await _mlc_bot("exec", "help", env=env)
    assert status == 2 and out == ""
    assert err == (
        "mlc-bot: LOG_FORMAT must be text (one line per record) or json (one JSON object per"
        " line), not 'xml'\n"
    )
