"""How long the biggest replies take to render as Block Kit and as embeds, hostile text in them.

Run: ``.venv/bin/python benchmarks/render.py [--repeat 15]``

Rendering runs on the event loop: escaping every piece of data after it is cut
(``commands.markup``, ``adapters/slack/mrkdwn.py``, ``adapters/discord/markdown.py``) must not
hold it noticeably. The replies are built by the real handlers against a sandbox whose
visitor-written text is hostile everywhere (``tests/inert.seed_hostile``), plus a 500-message
transcript of hostile lines, the longest text a command shows: ``transcript --last 500``,
``handoffs --limit 100``, ``feedback --limit 200 --comments 50``, ``tags``, ``starters``.
Each is rendered ``--repeat`` times for Slack (``render_message``) and Discord
(``render_embeds``); the figure is the best CPU time of one render (``time.process_time``,
so other processes on the host do not count).

Prints one line per reply and platform, and exits 1 unless every render takes under 50 ms of
CPU (the bound: a reply must not hold the loop longer than a Discord defer may take).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.discord.embeds import render_embeds
from adapters.slack.blocks import render_message
from bot.mylivechat import MyLiveChatClient
from bot.sandbox import SandboxServer
from bot.sandbox.state import Message
from bot.secrets import REGISTRY
from commands.cache import SiteCache
from commands.context import Caller, Context, Policy, Surface
from commands.dispatch import Dispatcher
from commands.reply import Reply
from tests.inert import ALL_IN_ONE, HOSTILE, seed_hostile

BOUND_MS = 50.0
COMMANDS = (
    "transcript s_hostile0001 --last 500",
    "handoffs --limit 100",
    "feedback --limit 200 --comments 50",
    "tags",
    "starters",
)


async def build_replies() -> dict[str, Reply]:
    async with SandboxServer(rate_limit=1000, window=60.0) as sandbox:
        seeded = seed_hostile(sandbox)
        transcript = sandbox.state.transcripts[seeded.session_id]
        start = transcript.started_utc
        transcript.messages = [
            Message(
                "visitor",
                f"ZAP **{i}**",
                (HOSTILE[i % len(HOSTILE)] + " " + ALL_IN_ONE)[:280],
                start + timedelta(seconds=i),
            )
            for i in range(500)
        ]
        async with MyLiveChatClient(sandbox.tokens.site_a_write, base_url=sandbox.url) as api:
            for text in HOSTILE:
                if len(text) <= 50:
                    await api.create_tag(text, description=ALL_IN_ONE[:500])
            site = SiteCache()
            replies = {}
            for command in COMMANDS:
                ctx = Context(
                    api=api,
                    caller=Caller("U_ADMIN", platform_admin=True),
                    surface=Surface("slack", "C1", "T1"),
                    secrets=REGISTRY,
                    policy=Policy(),
                    site=site,
                )
                reply = await Dispatcher().run_text(command, ctx)
                if not reply.ok:
                    raise SystemExit(f"{command!r} failed: {reply.title}: {reply.text}")
                replies[command] = reply
            return replies


def best_cpu_ms(render: object, reply: Reply, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        render(reply)  # type: ignore[operator]
        best = min(best, time.process_time() - started)
    return best * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    replies = asyncio.run(build_replies())
    worst = 0.0
    for command, reply in replies.items():
        size = len(reply.text) + sum(
            len(c) for r in (reply.table.rows if reply.table else ()) for c in r.cells
        )
        for name, render in (("slack", render_message), ("discord", render_embeds)):
            ms = best_cpu_ms(render, reply, args.repeat)
            worst = max(worst, ms)
            print(
                f"{command:38} {name:8} {ms:6.1f} ms CPU  ({size:,} characters of text and cells)"
            )
    verdict = "ok" if worst < BOUND_MS else "TOO SLOW"
    print(f"worst {worst:.1f} ms CPU per render; bound {BOUND_MS:.0f} ms: {verdict}")
    return 0 if worst < BOUND_MS else 1


if __name__ == "__main__":
    sys.exit(main())
