"""The ``mlc-bot`` command line. Each subcommand imports only what it runs.

``mlc-bot exec`` must start fast, so Slack's and Discord's SDKs (and the
sandbox's aiohttp server) are imported inside the subcommands that serve them.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from .config import ConfigError, Required, Settings

__all__ = ["CONFIG_ERROR", "main"]

CONFIG_ERROR = 2
"""The exit status of every configuration error, whichever process it stops."""


class _Version(argparse.Action):
    """``--version``: the installed package's version (read only when asked for)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            shown = version("mlc-bot")
        except PackageNotFoundError:
            shown = "(not installed; run pip install -e .)"
        print(f"mlc-bot {shown}")
        parser.exit()


def _port(text: str) -> int:
    """An argparse type: a TCP port number, 0 meaning "pick a free one"."""
    port = int(text) if text.isascii() and text.isdigit() and len(text) <= 5 else -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be 0-65535, not {text!r}")
    return port


_PACE = re.compile(r"([0-9]{1,6}(?:\.[0-9]{1,3})?)([smh]?)")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600}


def _interval(text: str) -> float:
    """An argparse type: a pace such as 20s, 2m or 90 (seconds), from 1 s to 24 h."""
    match = _PACE.fullmatch(text.strip().lower())
    seconds = float(match[1]) * _UNIT_SECONDS[match[2]] if match else 0
    if not 1 <= seconds <= 86400:
        raise argparse.ArgumentTypeError(
            f"must be a pace such as 20s, 2m or 90 (seconds), from 1s to 24h, not {text!r}"
        )
    return seconds


class _Parser(argparse.ArgumentParser):
    """argparse's parser; with ``json_errors``, a mistake on the command line is a JSON
    error on stdout (for ``mlc-bot exec --json``), with argparse's exit status 2."""

    def __init__(self, *args: Any, json_errors: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.json_errors = json_errors

    def error(self, message: str) -> NoReturn:
        if not self.json_errors:
            super().error(message)
        _print_json_error("usage", f"{self.prog}: {message}")
        self.exit(2)


def _wants_json(argv: Sequence[str]) -> bool:
    """Whether this is ``mlc-bot exec ... --json``: its errors are JSON too."""
    return bool(argv) and argv[0] == "exec" and "--json" in argv[1:]


def _print_json_error(kind: str, message: str) -> None:
    from commands.render import json_error

    print(json_error(kind, kind, message), flush=True)


def _parser(*, json_errors: bool = False) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mlc-bot",
        description="Chat-ops bot for MyLiveChat (Slack, Discord, digests).",
        json_errors=json_errors,
    )
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="zero-config console on an embedded sandbox")
    demo.add_argument("--no-scheduler", action="store_true", help="do not run digests")

    run = sub.add_parser(
        "exec", help='run one command, e.g. mlc-bot exec "usage"', json_errors=json_errors
    )
    run.add_argument("text", help="the command text, as typed after /mlc")
    run.add_argument("--json", action="store_true", help="print the reply as JSON")
    run.add_argument(
        "--no-wait",
        action="store_true",
        help="when MyLiveChat's rate limit is spent, fail at once (exit 1) instead of waiting",
    )

    sandbox = sub.add_parser("sandbox", help="run the MyLiveChat API sandbox")
    sandbox.add_argument(
        "--port", type=_port, default=8765, help="TCP port, 0 picks a free one (default 8765)"
    )
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--rate-limit", type=int, default=60, help="requests per window")
    sandbox.add_argument("--window", type=float, default=60.0, help="window in seconds")
    sandbox.add_argument(
        "--events-every",
        type=_interval,
        metavar="PACE",
        help="emit a handoff or feedback webhook event this often (20s, 2m, 90) to the sites "
        "that have webhook subscriptions (default: only on demand)",
    )

    sub.add_parser("run", help="everything in one process: Slack, Discord, digests and alerts")
    sub.add_parser(
        "web", help="the web process: Slack (when set up), the alert receiver, /healthz on $PORT"
    )
    sub.add_parser("slack", help="the web process, with Slack required (HTTP or Socket Mode)")
    sub.add_parser("keygen", help="print a new MLC_BOT_SECRET_KEY (it encrypts webhook secrets)")

    discord = sub.add_parser("discord", help="connect the Discord bot to the gateway")
    discord.add_argument(
        "--print-commands",
        action="store_true",
        help="print the application commands a sync would send, and exit",
    )

    sub.add_parser("scheduler", help="post scheduled digests")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    as_json = _wants_json(argv)
    args = _parser(json_errors=as_json).parse_args(argv)
    from .config import ConfigError, Settings
    from .envfile import load_env_file
    from .logs import configure_logging

    try:
        load_env_file()
        settings = Settings.from_env(require=_requirements(args))
    except ConfigError as exc:
        return _config_error(exc, as_json=as_json)
    # One command's output should not be interleaved with INFO lines, unless asked for.
    quiet = args.command == "exec" and not settings.log_level_given
    configure_logging("WARNING" if quiet else settings.log_level, settings.log_format)
    try:
        return _run(args, settings)
    except ConfigError as exc:
        return _config_error(exc, as_json=as_json)
    except KeyboardInterrupt:
        return 130


def _requirements(args: argparse.Namespace) -> tuple[Required, ...]:
    """What the subcommand needs set (nothing to describe the Discord commands)."""
    from .config import REQUIREMENTS

    if args.command == "discord" and args.print_commands:
        return ()
    return REQUIREMENTS[args.command]


def _config_error(exc: ConfigError, *, as_json: bool) -> int:
    """Report each problem on a line of its own, secrets redacted (one JSON error on stdout
    for ``exec --json``); the status to exit with."""
    from .secrets import redact

    lines = [redact(" ".join(problem.message.split())) for problem in exc.problems]
    if as_json:
        _print_json_error("config", "\n".join(lines))
        return CONFIG_ERROR
    for line in lines:
        print(f"mlc-bot: {line}", file=sys.stderr)
    return CONFIG_ERROR


def _run(args: argparse.Namespace, settings: Settings) -> int:
    command = args.command
    if command == "exec":
        from .processes.exec import run_exec

        return asyncio.run(run_exec(settings, args.text, as_json=args.json, wait=not args.no_wait))
    if command == "demo":
        from .processes.demo import run_demo

        return asyncio.run(run_demo(settings, scheduler=not args.no_scheduler))
    if command == "sandbox":
        from .sandbox.server import ListenError, serve_forever

        try:
            asyncio.run(
                serve_forever(
                    args.host,
                    args.port,
                    rate_limit=args.rate_limit,
                    window=args.window,
                    events_every=args.events_every,
                )
            )
        except ListenError as exc:
            print(f"mlc-bot: {exc}", file=sys.stderr)
            return CONFIG_ERROR
        return 0
    if command == "slack":
        from .processes.slack import serve

        return asyncio.run(serve(settings))
    if command == "run":
        from .processes.run import run_all

        return asyncio.run(run_all(settings))
    if command == "web":
        from .processes.web import serve as serve_web

        return asyncio.run(serve_web(settings))
    if command == "keygen":
        from .alerts.secrets import new_key

        print(new_key())
        return 0
    if command == "discord":
        from .processes.discord import print_commands, run

        if args.print_commands:
            return print_commands()
        return asyncio.run(run(settings))
    if command == "scheduler":
        from .processes.scheduler import run as run_scheduler

        return asyncio.run(run_scheduler(settings))
    raise AssertionError(command)


if __name__ == "__main__":
    sys.exit(main())
