"""Every ``mlc-bot`` process stopped by its configuration says why in one line each, exit 2.

Each case runs the CLI as a real process, in a clean environment and an empty working
directory, against local fakes of Slack and Discord (or a closed port), and checks that
what the user sees is the expected ``mlc-bot: ...`` line(s) and no traceback, with no
token or database password in it; an SDK's endless retries end the start at the first
failure and log one line each later. Also: ``.env`` in the working directory is read (real
environment variables win) and ``mlc-bot --version``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import shutil
import socket
import sys
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from adapters.connecting import ConnectionAttempts
from bot.sandbox import SandboxServer
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.slack_api import FakeSlack

REPO = Path(__file__).parents[1]

# discord.py has no setting for its REST and gateway URLs: this process points them at the
# fake Discord (from MLC_TEST_DISCORD_API / MLC_TEST_DISCORD_GATEWAY), then runs the CLI.
_DISCORD_BOOT = """
import os, sys
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route
Route.BASE = os.environ["MLC_TEST_DISCORD_API"]
DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["MLC_TEST_DISCORD_GATEWAY"])
from bot.cli import main
sys.exit(main(sys.argv[1:]))
"""

_OURS = ("MLC_", "LOG_LEVEL", "DATABASE_URL", "SLACK_", "DISCORD_", "PORT", "PYTHON_DOTENV")
_LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (?P<level>[A-Z]+) \S+: ")

SLACK_TOKEN = "xoxb-1111-2222-fakebottoken"
APP_TOKEN = "xapp-1-A0001-3333-fakeapptoken"
DISCORD_TOKEN = "fake-discord-token-7f3a9c"
DB_PASSWORD = "S3cret-db-pa55"


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OURS)}
    env.update(HOME=str(home), PYTHONUNBUFFERED="1", **extra)
    return env


@dataclass(frozen=True)
class Run:
    status: int
    out: str
    err: str


async def _mlc_bot(*args: str, env: Mapping[str, str], cwd: Path) -> Run:
    boot = ["-c", _DISCORD_BOOT] if "MLC_TEST_DISCORD_API" in env else ["-m", "bot.cli"]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *boot,
        *args,
        env=dict(env),
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return Run(process.returncode, out.decode(), err.decode())


def assert_stopped_in_lines(
    run: Run, expected: tuple[str, ...], *, secrets: tuple[str, ...] = (), logs: bool = False
) -> None:
    """Exit 2; stderr's ``mlc-bot:`` lines begin, one each, with ``expected``; no traceback,
    nothing on stdout, no secret anywhere. With ``logs``, INFO log lines from the start
    may come first (a server narrates its start); without, stderr is those lines alone."""
    shown = run.out + run.err
    assert "Traceback" not in shown, shown
    assert run.status == 2, shown
    assert run.out == ""
    lines = run.err.splitlines()
    ours = [line for line in lines if line.startswith("mlc-bot: ")]
    assert len(ours) == len(expected), run.err
    for line, start in zip(ours, expected, strict=True):
        assert line.startswith(f"mlc-bot: {start}"), (line, start)
    others = [line for line in lines if not line.startswith("mlc-bot: ")]
    if logs:
        levels = [m["level"] if (m := _LOG_LINE.match(line)) else line for line in others]
        assert set(levels) <= {"INFO"}, run.err
    else:
        assert others == [], run.err
    for secret in secrets:
        assert secret not in shown


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty working directory (and HOME): no .env, a fresh default SQLite file."""
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on: connections are refused."""
    return _free_port()


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("0.0.0.0", 0))
        holder.listen()
        yield holder.getsockname()[1]


# -- missing settings -------------------------------------------------------------------------

MLC_MISSING = "MLC_API_TOKEN is not set: the MyLiveChat site token every command uses"
SLACK_MISSING = "SLACK_BOT_TOKEN is not set: the Slack bot's token (xoxb-...)"
SECRET_MISSING = "SLACK_SIGNING_SECRET is not set: it proves that requests to /slack/events"
DISCORD_MISSING = "DISCORD_TOKEN is not set: the Discord bot's token"
NO_PLATFORM = "neither SLACK_BOT_TOKEN nor DISCORD_TOKEN is set: digests are posted with"


@pytest.mark.parametrize(
    ("args", "extra", "expected"),
    [
        (("exec", "usage"), {}, (MLC_MISSING,)),
        (("slack",), {}, (MLC_MISSING, SLACK_MISSING, SECRET_MISSING)),
        (("slack",), {"SLACK_APP_TOKEN": APP_TOKEN}, (MLC_MISSING, SLACK_MISSING)),
        (("discord",), {}, (MLC_MISSING, DISCORD_MISSING)),
        (("scheduler",), {}, (MLC_MISSING, NO_PLATFORM)),
    ],
    ids=["exec", "slack-http", "slack-socket-mode", "discord", "scheduler"],
)
async def test_every_missing_setting_of_the_process_is_named_in_one_run(
    home: Path, args: tuple[str, ...], extra: dict[str, str], expected: tuple[str, ...]
) -> None:
    run = await _mlc_bot(*args, env=_env(home, **extra), cwd=home)
    assert_stopped_in_lines(run, expected, secrets=(APP_TOKEN,))


async def test_slack_with_nothing_set_names_all_three_variables_with_what_each_is_for(
    home: Path,
) -> None:
    run = await _mlc_bot("slack", env=_env(home), cwd=home)

    assert run.status == 2
    assert run.err.splitlines() == [
        "mlc-bot: MLC_API_TOKEN is not set: the MyLiveChat site token every command uses"
        " (mlc_...). Issue one at MyLiveChat's /dashboard/config_api_tokens.ascx, or try"
        " `mlc-bot demo` (no token needed).",
        "mlc-bot: SLACK_BOT_TOKEN is not set: the Slack bot's token (xoxb-...), to answer and"
        " post in Slack. Copy the Bot User OAuth Token from your Slack app's OAuth &"
        " Permissions page.",
        "mlc-bot: SLACK_SIGNING_SECRET is not set: it proves that requests to /slack/events"
        " come from Slack. Copy it from your Slack app's Basic Information page, or set"
        " SLACK_APP_TOKEN (xapp-...) to use Socket Mode instead.",
    ]


# -- malformed values -------------------------------------------------------------------------

PROCESSES = {
    "exec": ("exec", "usage"),
    "demo": ("demo",),
    "sandbox": ("sandbox", "--port", "0"),
    "slack-http": ("slack",),
    "slack-socket-mode": ("slack",),
    "discord": ("discord",),
    "scheduler": ("scheduler",),
}
# What each process lacks on top of the malformed values (Socket Mode: SLACK_APP_TOKEN set).
LACKING = {
    "exec": (MLC_MISSING,),
    "demo": (),
    "sandbox": (),
    "slack-http": (MLC_MISSING, SLACK_MISSING, SECRET_MISSING),
    "slack-socket-mode": (MLC_MISSING, SLACK_MISSING),
    "discord": (MLC_MISSING, DISCORD_MISSING),
    "scheduler": (MLC_MISSING, NO_PLATFORM),
}

# Two sets of malformed values, one of every kind in each (the DATABASE_URL: garbage, then
# a database the bot does not support), with the start of the line each gets.
MALFORMED = {
    "garbage": (
        {
            "LOG_LEVEL": "loud",
            "MLC_API_URL": "mylivechat.com/v1/api.ashx",
            "MLC_API_TIMEOUT": "soon",
            "MLC_BOT_TZ": "Mars/Olympus_Mons",
            "DATABASE_URL": f"bot:{DB_PASSWORD}@db.internal/bot",
            "SLACK_API_URL": "slack.com/api",
            "SLACK_APP_ID": "my-app",
            "PORT": "http",
            "DISCORD_GUILD_IDS": "my-server",
        },
        (
            "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not 'loud'",
            "MLC_API_URL must be an http:// or https:// URL such as"
            " https://www.mylivechat.com/v1/api.ashx, not 'mylivechat.com/v1/api.ashx'",
            "MLC_API_TIMEOUT must be a number of seconds such as 15 or 2.5, not 'soon'",
            "MLC_BOT_TZ must be a time zone name such as Europe/Berlin or UTC,"
            " not 'Mars/Olympus_Mons'",
            "DATABASE_URL must look like sqlite:///mlc-bot.db or"
            " postgresql://user:password@host:5432/dbname",
            "SLACK_API_URL must be an http:// or https:// URL such as https://slack.com/api/,"
            " not 'slack.com/api'",
            "SLACK_APP_ID must be your Slack app's id",
            "PORT must be a port number from 1 to 65535, not 'http'",
            "DISCORD_GUILD_IDS must be comma-separated numeric guild ids",
        ),
    ),
    "unsupported": (
        {
            "LOG_LEVEL": "verbose",
            "MLC_API_URL": f"ftp://bot:{DB_PASSWORD}@files.example/api",
            "MLC_API_TIMEOUT": "0",
            "MLC_BOT_TZ": "GMT+2",
            "DATABASE_URL": f"mysql://bot:{DB_PASSWORD}@db.internal/bot",
            "SLACK_API_URL": "http://",
            "SLACK_APP_ID": "a0123",
            "PORT": "65536",
            "DISCORD_GUILD_IDS": "123,-5",
        },
        (
            "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not 'verbose'",
            "MLC_API_URL must be an http:// or https:// URL such as"
            " https://www.mylivechat.com/v1/api.ashx, not 'ftp://...'",
            "MLC_API_TIMEOUT must be positive, not '0'",
            "MLC_BOT_TZ must be a time zone name such as Europe/Berlin or UTC, not 'GMT+2'",
            "DATABASE_URL names mysql://, which mlc-bot does not support: use SQLite or"
            " PostgreSQL (sqlite:///mlc-bot.db or postgresql://user:password@host:5432/dbname;"
            " postgres:// works too)",
            "SLACK_API_URL must be an http:// or https:// URL such as https://slack.com/api/,"
            " not 'http://'",
            "SLACK_APP_ID must be your Slack app's id",
            "PORT must be a port number from 1 to 65535, not '65536'",
            "DISCORD_GUILD_IDS must be comma-separated numeric guild ids",
        ),
    ),
}


@pytest.mark.parametrize("values", sorted(MALFORMED))
@pytest.mark.parametrize("process", list(PROCESSES))
async def test_every_malformed_value_is_reported_at_once_with_what_is_missing(
    home: Path, process: str, values: str
) -> None:
    malformed, lines = MALFORMED[values]
    env = _env(home, **malformed)
    if process == "slack-socket-mode":
        env["SLACK_APP_TOKEN"] = APP_TOKEN
    run = await _mlc_bot(*PROCESSES[process], env=env, cwd=home)
    assert_stopped_in_lines(run, (*lines, *LACKING[process]), secrets=(DB_PASSWORD, APP_TOKEN))


# -- platforms that refuse or cannot be reached -----------------------------------------------


class GuildlessDiscord(FakeDiscord):
    """Discord as it answers a bot that is not in the guilds it syncs commands to."""

    def _answer(self, method: str, path: str, body: Any) -> web.Response:
        if "/guilds/" in path:
            # discord.py decodes a body only when Content-Type is exactly application/json.
            body = json.dumps({"code": 50001, "message": "Missing Access"}).encode()
            return web.Response(body=body, status=403, headers={"Content-Type": "application/json"})
        return super()._answer(method, path, body)


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(bot_token=SLACK_TOKEN, app_token=APP_TOKEN) as fake:
        yield fake


@pytest.fixture
async def discord_api() -> AsyncIterator[FakeDiscord]:
    fake = GuildlessDiscord()
    fake.token = DISCORD_TOKEN
    async with fake:
        yield fake


@pytest.fixture
def places(
    slack: FakeSlack, discord_api: FakeDiscord, closed_port: int, busy_port: int, home: Path
) -> dict[str, str]:
    closed = f"http://127.0.0.1:{closed_port}"
    return {
        "slack": slack.url,
        "closed_slack": f"{closed}/api/",
        "discord": discord_api.url,
        "gateway": discord_api.gateway_url,
        "closed_discord": f"{closed}/api/v10",
        "closed_gateway": f"ws://127.0.0.1:{closed_port}/gateway",
        "busy_port": str(busy_port),
        "free_port": str(_free_port()),
        "database": f"sqlite:///{home / 'bot.db'}",
    }


SLACK_HTTP = {
    "MLC_API_TOKEN": "mlc_unused_token",
    "SLACK_BOT_TOKEN": SLACK_TOKEN,
    "SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99e1c2d3f4a5",
    "SLACK_API_URL": "{slack}",
    "PORT": "{free_port}",
}
SLACK_SOCKET = {
    "MLC_API_TOKEN": "mlc_unused_token",
    "SLACK_BOT_TOKEN": SLACK_TOKEN,
    "SLACK_APP_TOKEN": APP_TOKEN,
    "SLACK_API_URL": "{slack}",
    "PORT": "{free_port}",
}
DISCORD = {
    "MLC_API_TOKEN": "mlc_unused_token",
    "DISCORD_TOKEN": DISCORD_TOKEN,
    "MLC_TEST_DISCORD_API": "{discord}",
    "MLC_TEST_DISCORD_GATEWAY": "{gateway}",
}
SCHEDULER = {"MLC_API_TOKEN": "mlc_unused_token", "DATABASE_URL": "{database}"}

WRONG_SLACK = "xoxb-9999-revoked-token"
WRONG_APP = "xapp-1-A0001-9999-revokedapptoken"
WRONG_DISCORD = "revoked-discord-token-0d9e"
SLACK_REFUSED = "Slack refused SLACK_BOT_TOKEN (invalid_auth): copy the Bot User OAuth Token"
SLACK_UNREACHABLE = "Could not reach Slack's Web API (ClientConnectorError); check the network"
DISCORD_REFUSED = "Discord did not accept DISCORD_TOKEN"
DISCORD_UNREACHABLE = "Could not reach Discord (ClientConnectorError); check the network."

PLATFORM_CASES: dict[str, tuple[tuple[str, ...], dict[str, str], str]] = {
    "slack-http, token refused": (
        ("slack",),
        {**SLACK_HTTP, "SLACK_BOT_TOKEN": WRONG_SLACK},
        SLACK_REFUSED,
    ),
    "slack-http, Slack unreachable": (
        ("slack",),
        {**SLACK_HTTP, "SLACK_API_URL": "{closed_slack}"},
        SLACK_UNREACHABLE,
    ),
    "slack-http, port in use": (
        ("slack",),
        {**SLACK_HTTP, "PORT": "{busy_port}"},
        "PORT {busy_port} is in use by another program: stop it, or set PORT to a free port",
    ),
    "slack-socket-mode, bot token refused": (
        ("slack",),
        {**SLACK_SOCKET, "SLACK_BOT_TOKEN": WRONG_SLACK},
        SLACK_REFUSED,
    ),
    "slack-socket-mode, app token refused": (
        ("slack",),
        {**SLACK_SOCKET, "SLACK_APP_TOKEN": WRONG_APP},
        "Slack refused SLACK_APP_TOKEN (invalid_auth): create an app-level token with"
        " connections:write",
    ),
    "slack-socket-mode, Slack unreachable": (
        ("slack",),
        {**SLACK_SOCKET, "SLACK_API_URL": "{closed_slack}"},
        SLACK_UNREACHABLE,
    ),
    "discord, token refused": (
        ("discord",),
        {**DISCORD, "DISCORD_TOKEN": WRONG_DISCORD},
        DISCORD_REFUSED,
    ),
    "discord, Discord unreachable": (
        ("discord",),
        {**DISCORD, "MLC_TEST_DISCORD_API": "{closed_discord}"},
        DISCORD_UNREACHABLE,
    ),
    "discord, gateway unreachable": (
        ("discord",),
        {**DISCORD, "MLC_TEST_DISCORD_GATEWAY": "{closed_gateway}"},
        "Could not connect to Discord's gateway (ClientConnectorError); check the network.",
    ),
    "discord, guild sync refused": (
        ("discord",),
        {**DISCORD, "DISCORD_GUILD_IDS": "123456789012345678"},
        "Discord refused to sync /mlc to the servers in DISCORD_GUILD_IDS (403 Missing Access)",
    ),
    "scheduler, Slack token refused": (
        ("scheduler",),
        {**SCHEDULER, "SLACK_BOT_TOKEN": WRONG_SLACK, "SLACK_API_URL": "{slack}"},
        SLACK_REFUSED,
    ),
    "scheduler, Slack unreachable": (
        ("scheduler",),
        {**SCHEDULER, "SLACK_BOT_TOKEN": SLACK_TOKEN, "SLACK_API_URL": "{closed_slack}"},
        SLACK_UNREACHABLE,
    ),
    "scheduler, Discord token refused": (
        ("scheduler",),
        {**SCHEDULER, **DISCORD, "DISCORD_TOKEN": WRONG_DISCORD},
        "Discord did not accept DISCORD_TOKEN; digests cannot be posted to Discord.",
    ),
    "scheduler, Discord unreachable": (
        ("scheduler",),
        {**SCHEDULER, **DISCORD, "MLC_TEST_DISCORD_API": "{closed_discord}"},
        DISCORD_UNREACHABLE,
    ),
}


@pytest.mark.parametrize("case", list(PLATFORM_CASES))
async def test_a_platform_that_refuses_or_is_out_of_reach_stops_the_start_in_one_line(
    home: Path, places: dict[str, str], case: str
) -> None:
    args, values, expected = PLATFORM_CASES[case]
    env = _env(home, **{name: value.format(**places) for name, value in values.items()})

    run = await _mlc_bot(*args, env=env, cwd=home)

    secrets = (SLACK_TOKEN, WRONG_SLACK, APP_TOKEN, WRONG_APP, DISCORD_TOKEN, WRONG_DISCORD)
    assert_stopped_in_lines(run, (expected.format(**places),), secrets=secrets, logs=True)


async def test_socket_mode_that_cannot_open_its_websocket_stops_in_one_line(
    home: Path, places: dict[str, str], slack: FakeSlack, closed_port: int
) -> None:
    slack.reply_with("apps.connections.open", {"ok": True, "url": f"ws://127.0.0.1:{closed_port}/"})
    env = _env(home, **{name: value.format(**places) for name, value in SLACK_SOCKET.items()})

    run = await _mlc_bot("slack", env=env, cwd=home)

    assert_stopped_in_lines(
        run,
        (
            "Could not open Slack's Socket Mode connection (ClientConnectorError);"
            " check the network.",
        ),
        secrets=(SLACK_TOKEN, APP_TOKEN),
        logs=True,
    )


# -- retries that would log tracebacks --------------------------------------------------------


async def test_a_retried_connection_logs_one_line_not_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sdk_log = logging.getLogger("tests.fake_sdk")
    attempts = ConnectionAttempts(sdk_log, "Attempting a reconnect", "failed (%s); retrying")
    attempts.attach()
    try:
        try:
            raise ConnectionRefusedError(111, "Connect call failed")
        except OSError:
            # What discord.py does on each failed gateway connection.
            sdk_log.exception("Attempting a reconnect in %.2fs", 1.5)
    finally:
        attempts.detach()

    (record,) = caplog.records
    assert record.levelname == "WARNING" and record.exc_info is None
    assert caplog.text.strip().endswith("failed (ConnectionRefusedError); retrying")
    assert "Traceback" not in caplog.text


async def test_the_first_failed_attempt_ends_the_wait_for_the_connection() -> None:
    sdk_log = logging.getLogger("tests.fake_sdk")
    attempts = ConnectionAttempts(sdk_log, "Failed to connect", "failed (%s)")
    attempts.attach()

    async def connecting_forever() -> None:
        while True:
            try:
                raise TimeoutError
            except TimeoutError:
                sdk_log.exception("Failed to connect; retrying")
            await asyncio.sleep(0.01)

    try:
        failure = await attempts.first(connecting_forever())
    finally:
        attempts.detach()
    assert isinstance(failure, TimeoutError)


# -- the database -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("database", "reason"),
    [
        (f"postgresql://bot:{DB_PASSWORD}@127.0.0.1:{{port}}/bot", "Connect call failed"),
        ("sqlite:///{home}/no/such/folder/bot.db", "unable to open database file"),
    ],
    ids=["postgresql-refused", "sqlite-no-folder"],
)
async def test_a_database_the_scheduler_cannot_open_stops_it_in_one_line(
    home: Path, slack: FakeSlack, closed_port: int, database: str, reason: str
) -> None:
    url = database.format(port=closed_port, home=home)
    env = _env(
        home,
        MLC_API_TOKEN="mlc_unused_token",
        SLACK_BOT_TOKEN=SLACK_TOKEN,
        SLACK_API_URL=slack.url,
        DATABASE_URL=url,
    )
    run = await _mlc_bot("scheduler", env=env, cwd=home)

    shown = url.replace(DB_PASSWORD, "***")
    assert_stopped_in_lines(
        run, (f"cannot open the database {shown} ({reason}",), secrets=(DB_PASSWORD,), logs=True
    )
    assert "check DATABASE_URL and that the database is running." in run.err


# -- .env -------------------------------------------------------------------------------------


async def test_a_dotenv_file_in_the_working_directory_is_read(
    home: Path, sandbox: SandboxServer
) -> None:
    (home / ".env").write_text(
        f"# the sandbox\nMLC_API_URL={sandbox.url}\nMLC_API_TOKEN={sandbox.tokens.site_a_write}\n"
    )
    run = await _mlc_bot("exec", "usage", env=_env(home), cwd=home)

    assert run.status == 0, run.err
    assert "AI usage" in run.out


async def test_a_real_environment_variable_wins_over_dotenv(
    home: Path, sandbox: SandboxServer
) -> None:
    (home / ".env").write_text(
        f"MLC_API_URL={sandbox.url}\nMLC_API_TOKEN=mlc_revoked_token_from_dotenv\n"
    )
    env = _env(home, MLC_API_TOKEN=sandbox.tokens.site_a_write)

    run = await _mlc_bot("exec", "usage", env=env, cwd=home)

    assert run.status == 0, run.err
    assert "AI usage" in run.out
    assert sandbox.count(resource="usage") == 1


async def test_a_dotenv_line_that_is_not_a_setting_stops_the_start(home: Path) -> None:
    (home / ".env").write_text("MLC_API_TOKEN=mlc_x\nthis line is junk\nPORT=3000\n")
    run = await _mlc_bot("exec", "usage", env=_env(home), cwd=home)

    assert_stopped_in_lines(run, (".env line 2 is not NAME=value",))


async def test_the_example_file_copied_as_dotenv_loads_and_names_what_to_fill_in(
    home: Path,
) -> None:
    shutil.copy(REPO / ".env.example", home / ".env")
    run = await _mlc_bot("slack", env=_env(home), cwd=home)

    assert_stopped_in_lines(run, (MLC_MISSING, SLACK_MISSING, SECRET_MISSING))


async def test_exec_with_the_example_dotenv_and_real_variables_prints_the_reply_alone(
    home: Path, sandbox: SandboxServer
) -> None:
    shutil.copy(REPO / ".env.example", home / ".env")  # its MLC_API_URL is the real service
    env = _env(home, MLC_API_URL=sandbox.url, MLC_API_TOKEN=sandbox.tokens.site_a_write)

    run = await _mlc_bot("exec", "usage", env=env, cwd=home)

    assert run.status == 0, run.err
    assert "AI usage" in run.out and run.err == ""


# -- --version --------------------------------------------------------------------------------


async def test_version_prints_the_installed_version(home: Path) -> None:
    run = await _mlc_bot("--version", env=_env(home), cwd=home)

    assert run.status == 0, run.err
    assert run.out == f"mlc-bot {version('mlc-bot')}\n"
