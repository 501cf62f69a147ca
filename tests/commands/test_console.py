"""`mlc-bot exec` and `mlc-bot demo`, run as a user would: a real process, a real sandbox."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import io
import json
import os
import pty
import re
import select
import signal
import socket
import stat
import struct
import subprocess
import sys
import termios
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from adapters.console.repl import PROMPT
from bot.config import Settings
from bot.mylivechat import MyLiveChatClient
from bot.processes.demo import DemoSession, run_demo
from bot.sandbox import SandboxServer
from commands.catalog import default_catalog
from commands.reply import Reply

HEAVY = ("slack_bolt", "slack_sdk", "discord", "aiohttp", "apscheduler", "sqlalchemy")


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLC_", "LOG_LEVEL"))}
    env.update(HOME=str(home), PYTHONUNBUFFERED="1", **extra)
    return env


async def _mlc_bot(
    *args: str, env: dict[str, str], stdin: bytes | None = None
) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin), timeout=30)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@pytest.fixture
def exec_env(sandbox: SandboxServer, tmp_path: Path) -> dict[str, str]:
    return _env(tmp_path, MLC_API_URL=sandbox.url, MLC_API_TOKEN=sandbox.tokens.site_a_write)


async def test_exec_prints_the_reply_and_exits_0(exec_env: dict[str, str]) -> None:
    status, out, err = await _mlc_bot("exec", "usage", env=exec_env)

    assert status == 0, err
    assert "AI usage: business plan" in out and "included replies used" in out


async def test_exec_json_prints_the_reply_as_data(exec_env: dict[str, str]) -> None:
    status, out, _ = await _mlc_bot("exec", "tags", "--json", env=exec_env)

    reply = json.loads(out)
    assert status == 0 and reply["ok"] is True and reply["command"] == "tags"
    vip = next(t for t in reply["data"]["tags"] if t["name"] == "vip")
    assert isinstance(vip["id"], int) and vip["color"] == "#7c3aed"


async def test_exec_exits_1_when_the_api_refuses(exec_env: dict[str, str]) -> None:
    status, out, err = await _mlc_bot("exec", "webhooks delete 999999", env=exec_env)

    assert status == 1
    assert "MyLiveChat found nothing like that" in err and "Request id: req_" in err
    assert out == ""


async def test_exec_exits_1_when_the_bot_refuses_a_read_only_token(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    env = _env(tmp_path, MLC_API_URL=sandbox.url, MLC_API_TOKEN=sandbox.tokens.site_a_read)

    status, _, err = await _mlc_bot("exec", "tags add urgent", env=env)

    assert status == 1 and "read-only" in err
    assert sandbox.count(method="POST") == 0


async def test_exec_exits_2_on_a_usage_error(exec_env: dict[str, str]) -> None:
    status, _, err = await _mlc_bot("exec", "tgas", env=exec_env)

    assert status == 2 and "Did you mean `tags`?" in err


async def test_exec_without_a_token_is_a_clean_message_and_exit_2(tmp_path: Path) -> None:
    status, out, err = await _mlc_bot("exec", "usage", env=_env(tmp_path))

    assert status == 2 and out == ""
    assert "MLC_API_TOKEN is not set" in err and "mlc-bot demo" in err
    assert "Traceback" not in err


async def test_exec_imports_no_chat_sdk_server_or_database(exec_env: dict[str, str]) -> None:
    script = (
        "import json, sys\n"
        "from bot.cli import main\n"
        "status = main(['exec', 'ping'])\n"
        f"heavy = sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))\n"
        "print(json.dumps({'status': status, 'heavy': heavy}))\n"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, env=exec_env, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()

    result = json.loads(out.decode().splitlines()[-1])
    assert result == {"status": 0, "heavy": []}


async def test_demo_runs_piped_commands_on_its_own_sandbox(tmp_path: Path) -> None:
    lines = b"usage\nhelp tag\ntag nope vip\nexit\nping\n"

    status, out, err = await _mlc_bot("demo", env=_env(tmp_path), stdin=lines)

    assert status == 0, err
    assert "MyLiveChat bot demo" in out and "seeded with data" in out
    assert "/mlc usage\n" in out and "AI usage: business plan" in out
    assert "Usage:" in out and "`/mlc tag <session_id> <tag ...>`" in out
    assert "There is no chat session `nope` on this site." in out
    assert "/mlc ping" not in out  # nothing runs after exit
    assert "Traceback" not in out + err


async def test_demo_ends_cleanly_at_end_of_input(tmp_path: Path) -> None:
    status, out, _ = await _mlc_bot("demo", env=_env(tmp_path), stdin=b"tags\n")

    assert status == 0 and "Tags (7)" in out


async def test_demo_starts_and_stops_background_jobs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("whoami\nexit\n"))
    events: list[str] = []

    async def digest_job(session: DemoSession):  # type: ignore[no-untyped-def]
        reply = await session.core.dispatcher.run_text("usage", session.context)
        await session.post(Reply(title="Scheduled digest", text=reply.title))
        events.append("started")

        async def stop() -> None:
            events.append("stopped")

        return stop

    status = await run_demo(Settings(), background=[digest_job])
    skipped = await run_demo(Settings(), scheduler=False, background=[digest_job])

    out = capsys.readouterr().out
    assert (status, skipped) == (0, 0)
    assert events == ["started", "stopped"]
    assert "Scheduled digest\nAI usage: business plan" in out
    assert "Token label:   acme-support" in out


async def test_demo_survives_a_background_job_that_fails_to_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("ping\n"))

    async def broken(session: DemoSession) -> None:
        raise RuntimeError("no database")

    status = await run_demo(Settings(), background=[broken])

    out = capsys.readouterr().out
    assert status == 0
    assert "! broken did not start (RuntimeError)" in out and "MyLiveChat is reachable" in out


async def test_ctrl_c_stops_a_slow_command_and_the_console_goes_on(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    read_end, write_end = os.pipe()
    monkeypatch.setattr(sys, "stdin", os.fdopen(read_end, "r"))

    async def slow_api(session: DemoSession) -> None:
        session.sandbox.latency = 5.0

    async def type_and_interrupt() -> None:
        os.write(write_end, b"usage\n")
        await asyncio.sleep(0.5)
        os.kill(os.getpid(), signal.SIGINT)
        await asyncio.sleep(0.2)
        os.write(write_end, b"exit\n")

    typist = asyncio.create_task(type_and_interrupt())
    status = await run_demo(Settings(), background=[slow_api])
    await typist
    os.close(write_end)

    out = capsys.readouterr().out
    assert status == 0
    assert "/mlc usage\n(interrupted)" in out and "AI usage" not in out


# -- the demo at a terminal: a pseudo-terminal that is its controlling terminal, as in a shell --


def _take_the_terminal() -> None:  # pragma: no cover - runs in the child before exec
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class _Terminal:
    """`mlc-bot demo` typed at a terminal: Ctrl-C is the terminal's, not a signal we send."""

    def __init__(self, home: Path, *, columns: int | None = None) -> None:
        self.master, slave = pty.openpty()
        if columns is not None:
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
        env = {k: v for k, v in _env(home, TERM="dumb").items() if k not in ("COLUMNS", "LINES")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "demo", "--no-scheduler"],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
            preexec_fn=_take_the_terminal,
        )
        os.close(slave)
        self.out = ""

    def wait_for(self, text: str, *, times: int = 1, timeout: float = 20) -> str:
        """Read until ``text`` has appeared ``times`` times in all output; return the output."""
        deadline = time.monotonic() + timeout
        while self.out.count(text) < times:
            left = deadline - time.monotonic()
            assert left > 0, f"no {text!r} (x{times}) in:\n{self.out}"
            ready, _, _ = select.select([self.master], [], [], min(left, 0.1))
            if ready:
                try:
                    self.out += os.read(self.master, 65536).decode(errors="replace")
                except OSError:  # the demo closed the terminal
                    assert self.out.count(text) >= times, f"no {text!r} in:\n{self.out}"
        return self.out

    def type(self, keys: str, *, settle: float = 0.3) -> None:
        time.sleep(settle)  # readline is reading by now
        os.write(self.master, keys.encode())

    def wait_exit(self) -> int:
        status = self.proc.wait(timeout=20)
        with contextlib.suppress(AssertionError):
            self.wait_for("\0", timeout=0.5)  # drain what is left
        return status

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[_Terminal]:
    term = _Terminal(tmp_path)
    try:
        term.wait_for("to leave.")
        term.wait_for(PROMPT)
        yield term
    finally:
        term.close()


def test_ctrl_c_at_the_prompt_clears_the_line_and_the_demo_goes_on(terminal: _Terminal) -> None:
    terminal.type("tags ad")
    terminal.type("\x03")  # Ctrl-C with a half-typed line
    terminal.type("ping\r")
    out = terminal.wait_for("MyLiveChat is reachable")

    assert terminal.proc.poll() is None, out
    assert f"{PROMPT}tags ad^C" in out
    assert "needs a fix" not in out  # neither "tags ad" nor "tags adping" ran
    terminal.type("exit\r")
    assert terminal.wait_exit() == 0
    assert "Bye." in terminal.out


def test_ctrl_c_at_the_terminal_still_stops_a_running_command(terminal: _Terminal) -> None:
    with socket.socket() as hanging:  # accepts connections, never answers
        hanging.bind(("127.0.0.1", 0))
        hanging.listen()
        port = hanging.getsockname()[1]
        terminal.type(f"webhooks add http://127.0.0.1:{port}/hook --events handoff\r")
        sub_id = re.search(r"Webhook (\d+) created", terminal.wait_for("created")).group(1)  # type: ignore[union-attr]
        terminal.type(f"webhooks test {sub_id}\r")
        terminal.type("\x03", settle=1.0)
        out = terminal.wait_for("(interrupted)")

    assert "test not delivered" not in out
    terminal.type("exit\r")
    assert terminal.wait_exit() == 0


def test_demo_history_keeps_no_line_with_a_secret(tmp_path: Path) -> None:
    slack_url = "https://hooks.slack.com/services/T000/B000/XXXXsecret"
    history = tmp_path / ".mlc_bot_history"
    history.write_text("tags\nnotify set discord https://discord.com/api/webhooks/1/abc\n")
    term = _Terminal(tmp_path)
    try:
        term.wait_for(PROMPT)
        term.type("ping\r")
        term.wait_for("MyLiveChat is reachable")
        term.type(f"notify slack set {slack_url}\r")
        term.wait_for("Slack notifications saved")
        term.type("webhooks add https://hooks.zapier.com/hooks/catch/1/abc --events handoff\r")
        term.wait_for("created")
        term.type("\x10\x10\r")  # Ctrl-P twice: two lines back in history, then run it
        term.wait_for("Tags (7)")  # "tags": neither secret line was kept in memory
        term.type("exit\r")
        assert term.wait_exit() == 0
    finally:
        term.close()

    saved = history.read_text()
    assert saved.splitlines() == ["tags", "ping", "tags", "exit"]
    assert "hooks." not in saved and "discord.com" not in saved
    assert stat.S_IMODE(history.stat().st_mode) == 0o600


# -- `mlc-bot exec` when MyLiveChat's rate limit is spent --------------------------------------


@pytest.fixture
async def spent(tmp_path: Path) -> AsyncIterator[tuple[SandboxServer, dict[str, str]]]:
    """A sandbox whose token allows one request per 4 seconds, that one already made."""
    async with SandboxServer(rate_limit=1, window=4.0) as sandbox:
        async with MyLiveChatClient(sandbox.tokens.site_a_write, base_url=sandbox.url) as api:
            await api.ping()
        sandbox.clear_requests()
        env = _env(tmp_path, MLC_API_URL=sandbox.url, MLC_API_TOKEN=sandbox.tokens.site_a_write)
        yield sandbox, env


async def test_exec_says_on_stderr_how_long_it_waits_before_waiting(
    spent: tuple[SandboxServer, dict[str, str]],
) -> None:
    sandbox, env = spent
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "exec",
        "ping",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    notice = (await asyncio.wait_for(proc.stderr.readuntil(b"of waiting.)\n"), 30)).decode()
    # Said while it waits: the only request so far is the one MyLiveChat refused.
    assert sandbox.rate_limited_count == 1 and sandbox.count(resource="ping") == 1
    out, err = await asyncio.wait_for(proc.communicate(), 30)

    assert re.search(r"`ping` waits its turn: about [1-4] s\.", notice), notice
    assert "`mlc-bot exec --no-wait` fails at once" in notice
    assert proc.returncode == 0 and "MyLiveChat is reachable" in out.decode()
    assert "WARNING" not in notice + err.decode()  # the notice, not a log line
    assert sandbox.count(resource="ping") == 2


async def test_exec_no_wait_fails_at_once_with_exit_1(
    spent: tuple[SandboxServer, dict[str, str]],
) -> None:
    sandbox, env = spent

    status, out, err = await _mlc_bot("exec", "ping", "--no-wait", env=env)
    as_json = await _mlc_bot("exec", "usage", "--no-wait", "--json", env=env)

    assert status == 1 and out == ""
    assert re.search(r"MyLiveChat's rate limit is spent; try again in [1-4] s\.", err), err
    assert "nothing was sent to MyLiveChat and nothing changed" in err
    assert "Queued" not in err
    assert as_json[0] == 1 and json.loads(as_json[1])["error"]["code"] == "rate_limit_spent"
    # Only the probes MyLiveChat refused: neither command was sent again after waiting.
    assert sandbox.count() == sandbox.rate_limited_count == 2


# -- what the console shows: whole help lines, replies and posts only ------------------------


def test_help_at_a_narrow_terminal_wraps_every_description_and_cuts_none(
    tmp_path: Path,
) -> None:
    term = _Terminal(tmp_path, columns=64)
    try:
        term.wait_for(PROMPT)
        term.type("help\r")
        out = term.wait_for("Type `help <command>`")
        term.type("exit\r")
        assert term.wait_exit() == 0
    finally:
        term.close()

    table = out[out.index("command ") : out.index("Type `help <command>`")]
    lines = [line.rstrip() for line in table.replace("\r", "").splitlines() if line.strip()]
    assert max(len(line) for line in lines) <= 64
    assert "…" not in table
    # Each command's description, read back down its wrapped column, is whole.
    column = lines[0].index("what it does")
    described: dict[str, str] = {}
    name = ""
    for line in lines[2:]:
        if line[:column].strip():
            name = line[:column].strip()
        described[name] = (described.get(name, "") + " " + line[column:].strip()).strip()
    for cmd in default_catalog():
        assert described[f"/mlc {cmd.name}"] == cmd.summary


async def test_demo_help_through_a_pipe_shows_each_description_whole_on_its_line(
    tmp_path: Path,
) -> None:
    status, out, _ = await _mlc_bot("demo", "--no-scheduler", env=_env(tmp_path), stdin=b"help\n")

    assert status == 0
    for cmd in default_catalog():
        line = next(line for line in out.splitlines() if line.startswith(f"/mlc {cmd.name}  "))
        assert line.endswith(cmd.summary), line


_LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [A-Z]+ ")


async def test_the_demo_console_shows_replies_and_posts_while_its_log_goes_to_a_file(
    tmp_path: Path,
) -> None:
    env = _env(tmp_path, TMPDIR=str(tmp_path))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "demo",
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    banner = (await asyncio.wait_for(proc.stdout.readuntil(b".log\n"), 30)).decode()
    log = Path(re.search(r"The demo's log goes to (\S+\.log)", banner).group(1))  # type: ignore[union-attr]
    assert log.parent == tmp_path

    await asyncio.to_thread(_wait_for_text, log, "digest scheduler started")
    for line in (b"digest add usage\n", b"digest pause 1\n", b"digest resume 1\n"):
        proc.stdin.write(line)
        await proc.stdin.drain()
    # The scheduler noticed the changes (it logs each job it adds) while the console ran.
    await asyncio.to_thread(_wait_for_text, log, 'Added job "usage digest #1"')
    out, err = await asyncio.wait_for(proc.communicate(b"exit\n"), 30)

    shown = banner + out.decode() + err.decode()
    assert proc.returncode == 0
    assert "Digest #1 paused" in shown and "Digest #1 resumed" in shown
    assert not _LOG_LINE.search(shown), shown
    assert "apscheduler" not in shown and "sandbox listening" not in shown
    assert "apscheduler.scheduler" in await asyncio.to_thread(log.read_text)


def _wait_for_text(path: Path, text: str, timeout: float = 30) -> None:
    """Poll ``path`` until it holds ``text`` (a log file has nothing to wait on)."""
    deadline = time.monotonic() + timeout
    while text not in path.read_text():
        assert time.monotonic() < deadline, f"no {text!r} in {path}:\n{path.read_text()}"
        time.sleep(0.1)
