"""The digest commands, run through the dispatcher as every adapter runs them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from adapters.console.exec import DEMO_CHANNEL, console_context
from bot.compose import build_core
from bot.config import Settings
from bot.mylivechat import MyLiveChatClient
from bot.sandbox import SandboxServer
from bot.secrets import REGISTRY, Secret
from bot.storage import DigestStore, LazySubscriptionStore
from commands.context import Caller, Context, Policy, Surface
from commands.digests.service import DigestService
from commands.dispatch import Dispatcher
from commands.markup import channel_ref
from commands.reply import Failure, Kind, Reply

from .conftest import FakeClock

RunText = Callable[..., Awaitable[Reply]]


@pytest.fixture
def run(
    store: DigestStore, site_api: MyLiveChatClient, clock: FakeClock, dispatcher: Dispatcher
) -> RunText:
    service = DigestService(store, clock=clock)

    async def run_text(
        text: str,
        *,
        admin: bool = True,
        channel: str | None = "C1",
        workspace: str | None = "T1",
        platform: str = "slack",
        timezone: str | None = None,
        default_timezone: str = "UTC",
        database: bool = True,
    ) -> Reply:
        ctx = Context(
            api=site_api,
            caller=Caller("U_ME", platform_admin=admin),
            surface=Surface(platform, channel, workspace, timezone=timezone),
            secrets=REGISTRY,
            policy=Policy(default_timezone=default_timezone),
            clock=clock,
            digests=service if database else None,
        )
        return await dispatcher.run_text(text, ctx)

    return run_text


async def test_add_uses_the_workspace_zone_and_list_shows_the_next_run_there(run: RunText) -> None:
    reply = await run("digest add usage", timezone="Europe/Berlin")
    assert reply.ok and reply.title == "Usage digest scheduled"
    assert "weekdays at 09:00 Europe/Berlin" in reply.text
    fields = {f.name: f.value for f in reply.fields}
    assert fields["Digest"] == "#1" and fields["Next run"] == "Thu 2026-04-23 09:00 CEST"

    reply = await run(
        "digest add feedback --at 17:30 --days mon,fri", default_timezone="Asia/Tokyo"
    )
    assert reply.ok and "mon,fri at 17:30 Asia/Tokyo" in reply.text

    listing = await run("digest list", admin=False, channel="C9")
    assert listing.ok and listing.table is not None
    rows = [row.cells for row in listing.table.rows]
    assert rows == [
        (
            "#1",
            "usage",
            channel_ref("C1"),
            "weekdays at 09:00 Europe/Berlin",
            "Thu 2026-04-23 09:00 CEST",
            "active",
        ),
        (
            "#2",
            "feedback",
            channel_ref("C1"),
            "mon,fri at 17:30 Asia/Tokyo",
            "Fri 2026-04-24 17:30 JST",
            "active",
        ),
    ]
    assert all(not row.actions for row in listing.table.rows)  # buttons only for admins


async def test_adding_the_same_digest_twice_keeps_one(run: RunText, store: DigestStore) -> None:
    await run("digest add usage --tz Europe/Berlin --days daily")
    again = await run("digest add usage --tz europe/berlin --days mon-sun")
    assert again.ok and again.title == "Already scheduled as #1"
    assert len(await store.list_all()) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("digest add usage --tz Europe/Berln", "Did you mean `Europe/Berlin`"),
        ("digest add usage --at 25:00", "Use 24-hour HH:MM, e.g. 09:00"),
        ("digest add usage --at 9am", "Did you mean `09:00`?"),
        ("digest add usage --days wekdays", "Did you mean `weekdays`"),
        ("digest add usag", "Did you mean `usage`"),
        ("digest remove first", "must be a whole number"),
    ],
)
async def test_bad_input_says_what_to_type(
    run: RunText, store: DigestStore, text: str, expected: str
) -> None:
    reply = await run(text)
    assert reply.failure is Failure.USAGE
    assert expected in reply.text and "Usage: `digest " in reply.text
    assert await store.list_all() == []


async def test_changing_digests_is_for_admins_and_listing_for_everyone(run: RunText) -> None:
    for text in ("digest add usage", "digest pause 1", "digest resume 1", "digest remove 1"):
        reply = await run(text, admin=False)
        assert reply.failure is Failure.DENIED, text
    assert (await run("digest list", admin=False)).ok
    assert (await run("digest now usage", admin=False)).ok  # read-only, like `usage`


async def test_pause_resume_and_remove_stay_within_the_workspace(
    run: RunText, store: DigestStore
) -> None:
    await run("digest add usage")
    other = await run("digest pause 1", workspace="T_OTHER")
    assert other.failure is Failure.INPUT and "no digest #1 in this workspace" in other.text
    assert (await run("digest list", workspace="T_OTHER")).title == "No digests yet"

    paused = await run("digest pause 1")
    assert paused.ok and "digest resume 1" in paused.text
    listing = await run("digest list")
    assert listing.table is not None
    row = listing.table.rows[0]
    assert row.cells[4:] == ("—", "paused")
    assert [a.command for a in row.actions] == ["digest resume 1", "digest remove 1"]

    resumed = await run("digest resume 1")
    assert resumed.ok and "Next run" in {f.name for f in resumed.fields}
    removed = await run("digest remove 1")
    assert removed.ok and "will not be posted again" in removed.text
    assert await store.list_all() == []
    assert (await run("digest remove 1")).failure is Failure.INPUT


async def test_a_channel_paused_because_the_bot_was_removed_says_why(
    run: RunText, store: DigestStore, clock: FakeClock
) -> None:
    await run("digest add feedback")
    await store.set_paused(
        1, True, clock(), reason="the bot can no longer post in the channel (is_archived)"
    )
    listing = await run("digest list")
    assert listing.table is not None
    assert listing.table.rows[0].cells[5] == (
        "paused: the bot can no longer post in the channel (is_archived)"
    )


async def test_digest_now_previews_privately_or_in_the_channel_with_one_call(
    run: RunText,
    site: SandboxServer,
    store: DigestStore,
) -> None:
    site.clear_requests()
    reply = await run("digest now feedback")
    assert reply.ok and reply.private and reply.title == "Feedback digest"
    assert "Preview: scheduled digests are not affected." in reply.notes
    assert site.count(resource="feedback") == 1 and len(site.requests) == 1
    assert await store.deliveries() == []
    public = await run("digest now usage --public")
    assert public.ok and not public.private and public.title.startswith("Usage digest")


async def test_without_the_database_the_commands_say_so(run: RunText) -> None:
    reply = await run("digest list", database=False)
    assert reply.failure is Failure.INPUT and "database" in reply.text


async def test_the_demos_console_counts_as_one_channel(run: RunText) -> None:
    demo = {"platform": "console", "channel": DEMO_CHANNEL, "workspace": None}
    reply = await run("digest add usage", **demo)
    assert reply.ok
    listing = await run("digest list", **demo)
    assert listing.table is not None and listing.table.rows[0].cells[2] == "console (here)"
    elsewhere = await run("digest add usage --channel slack:C1", **demo)
    assert elsewhere.failure is Failure.USAGE and "is for `mlc-bot exec`" in elsewhere.text


async def test_a_bad_default_zone_asks_for_tz(run: RunText) -> None:
    reply = await run("digest add usage", default_timezone="Mars/Olympus")
    assert reply.failure is Failure.INPUT and "--tz" in reply.text
    assert (await run("digest add usage --tz UTC", default_timezone="Mars/Olympus")).ok


async def test_help_lists_the_digest_commands(run: RunText) -> None:
    reply = await run("help digest")
    assert reply.table is not None
    names = [row.cells[0] for row in reply.table.rows]
    assert names == [
        "/mlc digest add",
        "/mlc digest list",
        "/mlc digest remove",
        "/mlc digest pause",
        "/mlc digest resume",
        "/mlc digest now",
    ]


def _sqlite_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


async def test_closing_the_core_closes_the_digest_database(
    site: SandboxServer, tmp_path: Path
) -> None:
    settings = Settings(
        api_url=site.url,
        api_token=Secret(site.tokens.site_a_write),
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
    )
    core = build_core(settings)
    ctx = console_context(core, channel=DEMO_CHANNEL)
    assert (await core.dispatcher.run_text("digest add usage", ctx)).ok
    assert _sqlite_files(tmp_path) == ["bot.db", "bot.db-shm", "bot.db-wal"], "WAL is open"

    await core.aclose()

    assert _sqlite_files(tmp_path) == ["bot.db"], "the last connection closed, WAL folded back"
    with pytest.raises(RuntimeError, match="closed"):
        await core.api.ping()
    reopened = LazySubscriptionStore(settings.database_url)
    try:
        [sub] = await reopened.list_for("console", None)
    finally:
        await reopened.aclose()
        await reopened.aclose()  # twice is fine
    assert sub.kind == "usage"


async def test_doing_nothing_is_said_plainly(run: RunText, store: DigestStore) -> None:
    await run("digest add usage --days daily")
    again = await run("digest add usage --days daily")
    running = await run("digest resume 1")
    await run("digest pause 1")
    paused = await run("digest pause 1")

    assert again.ok and again.title == "Already scheduled as #1"
    assert again.text.endswith("Nothing changed.")
    assert running.ok and running.title == "Already running"
    assert running.text == (
        "Digest #1 is not paused: the usage digest runs daily at 09:00 UTC. Nothing changed."
    )
    assert paused.ok and paused.title == "Already paused" and paused.kind is Kind.INFO
    assert paused.text == "Digest #1 is already paused. Nothing changed."
    assert "`digest resume 1` starts it again." in paused.notes
    [sub] = await store.list_all()
    assert sub.paused


async def test_channel_is_for_exec_only(run: RunText, store: DigestStore) -> None:
    reply = await run("digest add usage --channel slack:C9")

    assert reply.failure is Failure.USAGE and "`--channel` is for `mlc-bot exec`" in reply.text
    assert await store.list_all() == []
