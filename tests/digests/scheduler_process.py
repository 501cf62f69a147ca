"""``mlc-bot scheduler`` as the crash tests run it: the real runner, short leases and polls.

``python -m tests.digests.scheduler_process`` reads the same environment as ``mlc-bot
scheduler`` plus:

- ``MLC_TEST_LEASE``: seconds a digest's claim holds without renewal;
- ``MLC_TEST_POLL``: seconds between looks for changes and for expired claims;
- ``MLC_TEST_DISCORD_API``: the fake Discord's REST base URL (discord.py has no setting
  for it, so this process points its ``Route.BASE`` there).
"""

from __future__ import annotations

import asyncio
import sys

from bot.processes.scheduler import run
from tests.processes import child_settings


def main() -> int:
    settings, lease, poll = child_settings()
    return asyncio.run(run(settings, lease=lease, poll_interval=poll))


if __name__ == "__main__":
    sys.exit(main())
