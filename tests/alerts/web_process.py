"""``mlc-bot web`` as the crash tests run it: the real parts, short leases and polls.

``python -m tests.alerts.web_process`` reads the same environment as ``mlc-bot web`` plus:

- ``MLC_TEST_LEASE``: seconds the alert worker holds a row it routes, posts or reminds;
- ``MLC_TEST_POLL``: seconds between the worker's looks for waiting work;
- ``MLC_TEST_DISCORD_API``: the fake Discord's REST base URL (discord.py has no setting
  for it, so this process points its ``Route.BASE`` there).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from datetime import timedelta

from bot.config import Settings
from bot.processes.signals import stop_requested
from bot.processes.web import WebParts
from tests.processes import child_settings

log = logging.getLogger("mlc_bot.web")


async def serve(settings: Settings, lease: timedelta, poll: float) -> int:
    parts = WebParts.build(settings)
    parts.alert_lease, parts.alert_poll = lease, poll
    try:
        await parts.start()
        log.info("web process on :%s serving %s", parts.web.port, ", ".join(parts.running))
        with stop_requested() as stopping:
            await stopping.wait()
    finally:
        await parts.stop()
    return 0


def main() -> int:
    return asyncio.run(serve(*child_settings()))


if __name__ == "__main__":
    sys.exit(main())
