"""``mlc_bot_digests_total``: each run counted once by how it went, on SQLite and PostgreSQL."""

from __future__ import annotations

from adapters.console.poster import ConsolePoster
from bot.metrics import Metrics
from bot.mylivechat import MyLiveChatClient
from bot.sandbox import SandboxServer
from bot.scheduler.delivery import Outcome
from bot.storage import DigestStore

from .conftest import FakeClock, local, make_scheduler, subscribe

BERLIN = "Europe/Berlin"


async def test_digest_runs_are_counted_by_outcome(
    store: DigestStore,
    site: SandboxServer,
    site_api: MyLiveChatClient,
    clock: FakeClock,
    console: ConsolePoster,
) -> None:
    metrics = Metrics()
    sub = await subscribe(store, local("2026-04-20 12:00", BERLIN), tz=BERLIN)
    scheduler = make_scheduler(store, site_api, clock, {"console": console})
    scheduler.sender.metrics = metrics

    site.inject_fault("500", count=3)  # MyLiveChat fails: a notice is posted instead
    clock.set(local("2026-04-22 09:00:01", BERLIN))
    assert await scheduler.fire(sub.id) is Outcome.FAILED
    clock.set(local("2026-04-23 09:00:01", BERLIN))
    assert await scheduler.fire(sub.id) is Outcome.POSTED
    assert await scheduler.fire(sub.id) is Outcome.DUPLICATE

    def count(outcome: str) -> float | None:
        return metrics.registry.get_sample_value("mlc_bot_digests_total", {"outcome": outcome})

    assert (count("failed"), count("posted"), count("duplicate")) == (1, 1, 1)
    assert count("skipped") is None
