"""The console's read-run-print loop: line editing, history without secrets, Ctrl-C.

Used by ``mlc-bot demo``. Lines come from a terminal (readline editing and history) or
from a pipe (``printf 'usage\nexit\n' | mlc-bot demo``). Replies and posts (digests,
alerts) print without disturbing what is being typed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from commands.context import Context
from commands.core import Core
from commands.render import render_text
from commands.reply import Reply

from .exec import DEMO_CHANNEL, console_context, show, terminal_width

__all__ = ["ABANDONED", "EXIT_WORDS", "PROMPT", "Console"]

PROMPT = "/mlc "
HISTORY_FILE = Path("~/.mlc_bot_history")
HISTORY_LENGTH = 1000
EXIT_WORDS = frozenset({"exit", "quit", r"\q", ":q"})
ABANDONED = "^C"
"""What Ctrl-C at the prompt appends to the line it abandons (readline shows it, like a shell)."""
# A receiver URL's path may be its secret (replies show only the host): such lines count
# as secret too, besides whatever the secret registry would mask.
_URL_WITH_PATH = re.compile(r"(https?://[^\s/?#]+)[/?#]\S+")


class Console:
    """The read-run-print loop. Lines are read on a daemon thread so the event loop stays free.

    A daemon thread rather than ``asyncio.to_thread``: a pending ``input()`` must not
    keep the process alive (the default executor is joined at shutdown).
    """

    def __init__(self, core: Core, *, interactive: bool) -> None:
        """Commands run as the person at the terminal (an admin) on ``core``."""
        self.core = core
        self.interactive = interactive
        self.context: Context = console_context(core, notify=self.post, channel=DEMO_CHANNEL)
        self._running: asyncio.Task[Reply] | None = None
        self._interrupted = asyncio.Event()
        self._readline: Any = None

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        restore_terminal = self._save_terminal()
        if self.interactive:
            self._readline = await asyncio.to_thread(_setup_readline, self.core)
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGINT, self._on_interrupt)
        try:
            while True:
                line = await self._next_line()
                if line is None:
                    break
                line = line.strip()
                if self.interactive and line.endswith(ABANDONED):
                    continue  # Ctrl-C at the prompt: the line is dropped, a fresh prompt follows
                if not line:
                    continue
                redact = self.core.secrets.redact
                if self._readline is not None:
                    _remember(self._readline, line, redact)
                if not self.interactive:
                    print(f"{PROMPT}{_masked(line, redact)}", flush=True)
                if line.lower() in EXIT_WORDS:
                    break
                reply = await self._run(line)
                if reply is not None:
                    show(reply, stream=sys.stdout)
                    print(flush=True)
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signal.SIGINT)
            if self._readline is not None:
                await asyncio.to_thread(_save_history, self._readline)
            restore_terminal()
            if self.interactive:
                print("Bye.", flush=True)

    async def post(self, reply: Reply) -> None:
        text = render_text(reply, width=terminal_width(sys.stdout))
        print("\n" + text + "\n", flush=True)
        if self.interactive and self._readline is not None:
            # Show the prompt again, with whatever was typed so far.
            sys.stdout.write(PROMPT + self._readline.get_line_buffer())
            sys.stdout.flush()

    async def _run(self, line: str) -> Reply | None:
        self._running = asyncio.ensure_future(self.core.dispatcher.run_text(line, self.context))
        try:
            return await self._running
        except asyncio.CancelledError:
            if self._running.cancelled() and not _current_task_cancelling():
                print("(interrupted)", flush=True)
                return None
            raise
        finally:
            self._running = None

    async def _next_line(self) -> str | None:
        """The next line typed or piped; None at end of input, or on Ctrl-C with piped input."""
        self._interrupted.clear()
        read = asyncio.ensure_future(_read_line(PROMPT if self.interactive else None))
        interrupted = asyncio.ensure_future(self._interrupted.wait())
        try:
            done, _ = await asyncio.wait({read, interrupted}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            interrupted.cancel()
        if read in done:
            return read.result()
        read.cancel()
        print(flush=True)  # end the prompt's line
        return None

    def _on_interrupt(self) -> None:
        """SIGINT stops a running command; at a terminal's prompt it only starts a fresh prompt.

        With readline, Ctrl-C at the prompt is a key, not a signal (see
        :func:`_ctrl_c_as_a_key`), and abandons the line itself. Without readline the
        terminal drops the half-typed line, so a new prompt is all that is left to show.
        With piped input there is no prompt, and SIGINT ends the console.
        """
        if self._running is not None and not self._running.done():
            self._running.cancel()
        elif self.interactive:
            typed = self._readline.get_line_buffer() if self._readline is not None else ""
            sys.stdout.write("\n" + PROMPT + typed)
            sys.stdout.flush()
        else:
            self._interrupted.set()

    def _save_terminal(self) -> Callable[[], None]:
        """Readline may hold the terminal in its own mode when we leave mid-line."""
        if not self.interactive:
            return lambda: None
        try:
            import termios

            fd = sys.stdin.fileno()
            saved = termios.tcgetattr(fd)
        except (ImportError, OSError, ValueError):
            return lambda: None

        def restore() -> None:
            with contextlib.suppress(OSError, termios.error):
                termios.tcsetattr(fd, termios.TCSADRAIN, saved)

        return restore


def _current_task_cancelling() -> bool:
    task = asyncio.current_task()
    return bool(task is not None and task.cancelling())


async def _read_line(prompt: str | None) -> str | None:
    """One line from stdin on a daemon thread; None at end of input."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str | None] = loop.create_future()

    def deliver(value: str | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)

    def read() -> None:
        value: str | None = None
        error: BaseException | None = None
        try:
            if prompt is None:
                raw = sys.stdin.readline()
                value = raw if raw else None
            else:
                value = input(prompt)
        except EOFError:
            value = None
        except Exception as exc:
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop closed while we waited
            loop.call_soon_threadsafe(deliver, value, error)

    threading.Thread(target=read, name="mlc-console-input", daemon=True).start()
    return await future


def _history_path() -> Path:
    return HISTORY_FILE.expanduser()


def _setup_readline(core: Core) -> Any:
    """Line editing, history and command-name completion; None where readline is missing.

    History holds no line with a secret (:func:`_holds_secret`), in memory or on disk:
    lines are added by :func:`_remember`, not by readline itself.
    """
    try:
        import readline
    except ImportError:
        return None
    with contextlib.suppress(OSError):
        readline.read_history_file(_history_path())
    for index in range(readline.get_current_history_length(), 0, -1):
        # Written by an older version, or by hand: drop it before it is written back.
        item = readline.get_history_item(index)
        if item is not None and _holds_secret(item, core.secrets.redact):
            readline.remove_history_item(index - 1)
    readline.set_history_length(HISTORY_LENGTH)
    readline.set_auto_history(False)
    _ctrl_c_as_a_key(readline)
    catalog = core.catalog
    names = sorted({*catalog.names(), "exit"})

    def complete(text: str, state: int) -> str | None:
        matches = [n + " " for n in names if n.startswith(text.lower())]
        return matches[state] if state < len(matches) else None

    readline.set_completer_delims("")
    readline.set_completer(complete)
    readline.parse_and_bind("tab: complete")
    return readline


def _holds_secret(line: str, redact: Callable[[str], str]) -> bool:
    """Whether a typed line holds a secret (a webhook URL, a token) and stays out of history."""
    return redact(line) != line or _URL_WITH_PATH.search(line) is not None


def _masked(line: str, redact: Callable[[str], str]) -> str:
    """``line`` as it may be echoed: secrets redacted, URLs cut to their host."""
    return _URL_WITH_PATH.sub(_url_host, redact(line))


def _url_host(match: re.Match[str]) -> str:
    return match.group(1) + "/…"


def _remember(readline: Any, line: str, redact: Callable[[str], str]) -> None:
    """Add a run line to history, unless it holds a secret or repeats the last one."""
    if _holds_secret(line, redact):
        return
    length = readline.get_current_history_length()
    if length and readline.get_history_item(length) == line:
        return
    readline.add_history(line)


def _ctrl_c_as_a_key(readline: Any) -> None:
    """At the prompt, make Ctrl-C abandon the line and show a fresh prompt, as a shell does.

    While readline reads a line, the terminal's interrupt character is switched off, so
    Ctrl-C reaches readline as a key; it is bound to end the line with ``^C`` and accept
    it, and the console drops such a line. Readline puts the terminal back as it found
    it once the line is read, so Ctrl-C during a running command is SIGINT again.
    """
    if not hasattr(readline, "set_pre_input_hook"):
        return  # e.g. some libedit builds: Ctrl-C stays a signal (see _Console._on_interrupt)
    try:
        import termios

        fd = sys.stdin.fileno()
        disabled = bytes([os.fpathconf(fd, "PC_VDISABLE")])
    except (ImportError, OSError, ValueError):
        return

    def interrupt_key_off() -> None:
        with contextlib.suppress(OSError, termios.error):
            attrs = termios.tcgetattr(fd)
            attrs[6][termios.VINTR] = disabled
            termios.tcsetattr(fd, termios.TCSANOW, attrs)

    readline.parse_and_bind(rf'"\C-c": "\C-e{ABANDONED}\C-j"')
    readline.set_pre_input_hook(interrupt_key_off)


def _save_history(readline: Any) -> None:
    with contextlib.suppress(OSError):
        path = _history_path()
        readline.write_history_file(path)
        os.chmod(path, 0o600)  # commands may hold webhook URLs
