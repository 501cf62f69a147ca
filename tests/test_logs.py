"""What reaches the log: the bot's lines at LOG_LEVEL, libraries held at a floor, no secrets,
and retry warnings that name a request id only when the server gave one."""

from __future__ import annotations

import logging
import re

import pytest

from bot.logs import configure_logging
from bot.mylivechat import APIConnectionError, MyLiveChatClient, ServerError
from bot.sandbox import SandboxServer
from bot.secrets import RedactingFilter

DEBUG_TABLE = [
    ("mlc_bot.api", logging.DEBUG, True),
    ("mlc_bot.digests", logging.DEBUG, True),
    ("bot.sandbox.server", logging.DEBUG, True),
    ("httpcore.http11", logging.DEBUG, False),
    ("httpcore.connection", logging.INFO, True),
    ("httpx", logging.INFO, False),
    ("httpx", logging.WARNING, True),
    ("aiosqlite", logging.DEBUG, False),
    ("sqlalchemy.engine.Engine", logging.INFO, False),
    ("sqlalchemy.pool", logging.DEBUG, False),
    ("tzlocal", logging.DEBUG, False),
    ("asyncio", logging.DEBUG, False),
    ("apscheduler.scheduler", logging.DEBUG, False),
    ("apscheduler.scheduler", logging.INFO, True),
    ("apscheduler.executors.default", logging.INFO, False),
    ("slack_sdk.web.async_base_client", logging.DEBUG, False),
    ("slack_bolt.AsyncApp", logging.DEBUG, False),
    ("discord.http", logging.DEBUG, False),
    ("discord.gateway", logging.DEBUG, False),
    ("discord.gateway", logging.INFO, True),
]


@pytest.mark.usefixtures("restore_logging")
def test_debug_is_for_the_bot_while_libraries_stay_at_their_floor(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("debug")
    for i, (name, level, _) in enumerate(DEBUG_TABLE):
        logging.getLogger(name).log(level, "line %d", i)

    err = capsys.readouterr().err
    shown = [
        (name, level, f" {name}: line {i}\n" in err)
        for i, (name, level, _) in enumerate(DEBUG_TABLE)
    ]
    assert shown == DEBUG_TABLE


@pytest.mark.usefixtures("restore_logging")
def test_a_higher_log_level_still_wins_over_a_library_floor(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("ERROR")
    logging.getLogger("httpcore.connection").info("httpcore info")
    logging.getLogger("discord.gateway").warning("gateway warning")
    logging.getLogger("mlc_bot.api").warning("bot warning")
    logging.getLogger("aiosqlite").error("aiosqlite error")
    logging.getLogger("mlc_bot.api").error("bot error")

    lines = capsys.readouterr().err.splitlines()
    assert [line.split(": ", 1)[1] for line in lines] == ["aiosqlite error", "bot error"]


@pytest.mark.usefixtures("restore_logging")
async def test_debug_over_real_http_shows_the_bots_request_line_without_secrets(
    sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("DEBUG")
    handler = logging.getLogger().handlers[0]
    assert any(isinstance(f, RedactingFilter) for f in handler.filters)
    token = sandbox.tokens.site_a_write

    async with MyLiveChatClient(token, base_url=sandbox.url) as api:
        await api.ping()
    logging.getLogger("mlc_bot.api").debug("careless line with %s in it", token)

    err = capsys.readouterr().err
    assert " DEBUG mlc_bot.api: GET ping -> 200 (req_" in err
    assert "httpcore" not in err and " httpx:" not in err
    assert token not in err
    # "***" if an earlier Secret registered this (seeded) token, "mlc_***" by its pattern.
    assert re.search(r"careless line with (mlc_)?\*\*\* in it", err), err


# -- retry warnings ---------------------------------------------------------------------------


async def test_a_retried_timeout_has_no_request_id_in_its_warning(
    sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="mlc_bot.api")
    sandbox.inject_fault("slow", count=10, delay=1.0)
    async with MyLiveChatClient(
        sandbox.tokens.site_a_write, base_url=sandbox.url, timeout=0.2, max_retries=1, backoff=0.01
    ) as api:
        with pytest.raises(APIConnectionError):
            await api.ping()

    [message] = [r.getMessage() for r in caplog.records if r.name == "mlc_bot.api"]
    assert message.startswith("timeout on GET ping; retry 1 in ")
    assert "request id" not in message and "None" not in message


async def test_a_retried_refused_connection_has_no_request_id_in_its_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="mlc_bot.api")
    async with MyLiveChatClient(
        "mlc_x_unreachable", base_url="http://127.0.0.1:9/v1/api.ashx", max_retries=1, backoff=0.01
    ) as api:
        with pytest.raises(APIConnectionError):
            await api.ping()

    [message] = [r.getMessage() for r in caplog.records if r.name == "mlc_bot.api"]
    assert message.startswith("connection_error on GET ping; retry 1 in ")
    assert "None" not in message


async def test_a_retried_server_error_names_its_request_id(
    api: MyLiveChatClient, sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="mlc_bot.api")
    api.backoff = 0.01
    sandbox.inject_fault("500", count=10)
    with pytest.raises(ServerError):
        await api.get_usage()

    messages = [r.getMessage() for r in caplog.records if r.name == "mlc_bot.api"]
    pattern = r"internal_error on GET usage \(request id req_\w+\); retry [12] in [\d.]+s"
    assert len(messages) == 2 and all(re.fullmatch(pattern, m) for m in messages), messages
