"""The ``mlc-bot`` command line. Each subcommand imports only what it runs.

``mlc-bot exec`` must start fast, so Slack's and Discord's SDKs (and the
sandbox's aiohttp server) are imported inside the subcommands that serve them.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import Settings

__all__ = ["main"]


def _port(text: str) -> int:
    """An argparse type: a TCP port number, 0 meaning "pick a free one"."""
    port = int(text) if text.isascii() and text.isdigit() and len(text) <= 5 else -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be 0-65535, not {text!r}")
    return port


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlc-bot", description="Chat-ops bot for MyLiveChat (Slack, Discord, digests)."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="zero-config console on an embedded sandbox")
    demo.add_argument("--no-scheduler", action="store_true", help="do not run digests")

    run = sub.add_parser("exec", help='run one command, e.g. mlc-bot exec "usage"')
    run.add_argument("text", help="the command text, as typed after /mlc")
    run.add_argument("--json", action="store_true", help="print the reply as JSON")

    sandbox = sub.add_parser("sandbox", help="run the MyLiveChat API sandbox")
    sandbox.add_argument(
        "--port", type=_port, default=8765, help="TCP port, 0 picks a free one (default 8765)"
    )
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--rate-limit", type=int, default=60, help="requests per window")
    sandbox.add_argument("--window", type=float, default=60.0, help="window in seconds")

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
    args = _parser().parse_args(argv)
    from .config import ConfigError, Settings
    from .logs import configure_logging

    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"mlc-bot: {exc}", file=sys.stderr)
        return 2
    # One command's output should not be interleaved with INFO lines, unless asked for.
    quiet = args.command == "exec" and not settings.log_level_given
    configure_logging("WARNING" if quiet else settings.log_level, settings.log_format)
    try:
        return _run(args, settings)
    except ConfigError as exc:
        print(f"mlc-bot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace, settings: Settings) -> int:
    command = args.command
    if command == "exec":
        from .processes.exec import run_exec

        return asyncio.run(run_exec(settings, args.text, as_json=args.json))
    if command == "demo":
        from .processes.demo import run_demo

        return asyncio.run(run_demo(settings, scheduler=not args.no_scheduler))
    if command == "sandbox":
        from .sandbox.server import ListenError, serve_forever

        try:
            asyncio.run(
                serve_forever(args.host, args.port, rate_limit=args.rate_limit, window=args.window)
            )
        except ListenError as exc:
            print(f"mlc-bot: {exc}", file=sys.stderr)
            return 2
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
