"""The receiver at ``POST /mlc/webhooks``: what it answers each kind of delivery, and that
only a verified, fresh, new event is ever alerted. On SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from aiohttp import web
from sqlalchemy import func, select, text

from adapters.web import listen
from adapters.webhooks import receiver
from bot.alerts.secrets import EncryptedSecrets, new_key
from bot.alerts.tables import AlertOutbox
from bot.sandbox import SandboxServer
from bot.storage import create_engine
from bot.storage.lazy import LazyDatabase
from bot.storage.schema import alert_events
from commands.alerts.inbox import Inbox
from commands.alerts.service import RECEIVER_PATH
from tests.fakes.slack_api import FakeSlack

from .harness import (
    AlertDatabase,
    WebBot,
    handoff_event,
    signed,
    subscription,
    wait_until,
    web_bot,
)


@pytest.fixture
async def bot(
    sandbox: SandboxServer, slack: FakeSlack, database: AlertDatabase
) -> AsyncIterator[WebBot]:
    async with web_bot(sandbox, slack, database) as running:
        await running.command("alerts add handoff")
        yield running


def secret_of(bot: WebBot) -> str:
    return str(subscription(bot.sandbox).secret)


async def kept_events(database: AlertDatabase) -> int:
    async with database.records() as records, records.engine.begin() as conn:
        return int(await conn.scalar(select(func.count()).select_from(alert_events)) or 0)


async def test_refused_deliveries_answer_401_413_and_keep_nothing(
    bot: WebBot, database: AlertDatabase
) -> None:
    secret = secret_of(bot)
    body, headers = signed(secret, handoff_event())
    forged = signed("not-the-secret", body)[1]
    unsigned = {k: v for k, v in headers.items() if k != "X-MLC-Signature"}
    garbled = headers | {"X-MLC-Signature": "sha256=zz"}
    old = signed(secret, body, sent=datetime.now(UTC) - timedelta(minutes=6))[1]
    ahead = signed(secret, body, sent=datetime.now(UTC) + timedelta(minutes=6))[1]
    undated = {k: v for k, v in headers.items() if k != "X-MLC-Timestamp"}
    for name, case in [
        ("forged", forged),
        ("unsigned", unsigned),
        ("garbled", garbled),
        ("stale", old),
        ("from the future", ahead),
        ("undated", undated),
    ]:
        answer = await bot.deliver(body, case)
        assert (answer.status_code, answer.content) == (401, b""), name

    huge = handoff_event(reason="x" * 1_000_001)
    big_body, big_headers = signed(secret, huge)
    assert (await bot.deliver(big_body, big_headers)).status_code == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it comes
        for _ in range(11):
            yield b" " * 100_000

    streamed = await bot.http.post(bot.receiver_url, content=chunks(), headers=big_headers)
    assert streamed.status_code == 413

    await bot.settled()
    assert await kept_events(database) == 0
    assert bot.posts() == []


async def test_malformed_unknown_and_test_deliveries_are_answered_2xx_and_not_alerted(
    bot: WebBot, database: AlertDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="mlc_bot.alerts")
    secret = secret_of(bot)
    for body in (b"{not json", b"[1, 2]", b'{"event": "handoff"}'):
        answer = await bot.deliver(*signed(secret, body))
        assert answer.status_code == 202, body
    unknown = handoff_event() | {"event": "visitor_typing"}
    assert (await bot.deliver(*signed(secret, unknown))).status_code == 202
    test = handoff_event() | {"event": "test", "data": {"message": "This is a test event."}}
    assert (await bot.deliver(*signed(secret, test))).status_code == 200

    await bot.settled()
    assert await kept_events(database) == 0
    assert bot.posts() == []
    logged = caplog.text
    assert logged.count("ignored a signed webhook delivery that is not an event") == 3
    assert "of unknown kind" in logged and f"{test['id']} verified" in logged


async def test_a_replayed_or_repeated_delivery_is_alerted_once(
    bot: WebBot, database: AlertDatabase
) -> None:
    secret = secret_of(bot)
    event = handoff_event()
    body, headers = signed(secret, event)
    assert (await bot.deliver(body, headers)).status_code == 200
    await bot.settled()
    # The same delivery again (MyLiveChat retrying), and replayed later with a fresh
    # timestamp (the timestamp is not signed): both answered 200, neither alerted.
    assert (await bot.deliver(body, headers)).status_code == 200
    fresh = signed(secret, body, sent=datetime.now(UTC) + timedelta(seconds=90))[1]
    assert (await bot.deliver(body, fresh)).status_code == 200
    await bot.settled()
    assert len(bot.posts()) == 1
    assert await kept_events(database) == 1


async def test_the_sandboxs_own_retried_delivery_is_alerted_once(bot: WebBot) -> None:
    (first,) = await bot.sandbox.emit_event(bot.sandbox.site_a_id, "handoff")
    body, headers = signed(secret_of(bot), first.body)  # what a retry of it sends
    assert (await bot.deliver(body, headers)).status_code == 200
    await bot.settled()
    assert len(bot.posts()) == 1


async def test_a_delivery_that_arrives_in_pieces_is_read_whole(bot: WebBot) -> None:
    body, headers = signed(secret_of(bot), handoff_event(reason="a long story " * 3000))

    async def pieces() -> AsyncIterator[bytes]:  # chunked, no Content-Length
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    answer = await bot.http.post(bot.receiver_url, content=pieces(), headers=headers)
    assert answer.status_code == 200
    await bot.settled()
    assert len(bot.posts()) == 1


@contextlib.asynccontextmanager
async def database_locked(database: AlertDatabase) -> AsyncIterator[None]:
    """Another process holds the database's write lock (SQLite) or a lock on the event
    table (PostgreSQL) while the block runs."""
    if database.kind == "sqlite":
        path = database.url.removeprefix("sqlite:///")
        holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        await asyncio.to_thread(holder.execute, "BEGIN IMMEDIATE")
        try:
            yield
        finally:
            await asyncio.to_thread(holder.execute, "ROLLBACK")
            holder.close()
        return
    engine = create_engine(database.url, **database.options)
    try:
        async with engine.connect() as conn, conn.begin():
            await conn.execute(text("LOCK TABLE alert_events IN EXCLUSIVE MODE"))
            yield
    finally:
        await engine.dispose()


async def test_a_delivery_the_busy_database_cannot_keep_in_time_is_answered_503_and_kept_later(
    bot: WebBot, database: AlertDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="mlc_bot.alerts")
    body, headers = signed(secret_of(bot), handoff_event())
    async with database_locked(database):
        answer = await bot.deliver(body, headers)
        assert answer.status_code == 503 and answer.headers["Retry-After"]
    # The lock is gone: the delivery kept after all is alerted, and MyLiveChat's retry
    # of it is answered 200 as a duplicate.
    await wait_until(lambda: "kept after all" in caplog.text, "the late delivery to be kept")
    assert (await bot.deliver(body, headers)).status_code == 200
    await bot.settled()
    assert len(bot.posts()) == 1
    assert "Traceback" not in caplog.text


async def test_an_unreachable_database_is_answered_503_without_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    unreachable = LazyDatabase("postgresql://postgres@127.0.0.1:9/nowhere")
    app = web.Application()
    receiver.add_routes(
        app, Inbox(EncryptedSecrets(unreachable, new_key()), AlertOutbox(unreachable))
    )
    runner = await listen(app, "127.0.0.1", 0)
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}{RECEIVER_PATH}"
        async with httpx.AsyncClient(timeout=15) as client:
            body, headers = signed("any-secret", handoff_event())
            answer = await client.post(url, content=body, headers=headers)
    finally:
        await runner.cleanup()
        await unreachable.aclose()
    assert answer.status_code == 503
    assert "unavailable" in caplog.text and "Traceback" not in caplog.text
    assert "Error handling request" not in caplog.text


async def test_an_event_the_database_refuses_does_not_take_its_neighbours_down(
    bot: WebBot, database: AlertDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    """Deliveries arriving together are kept in one transaction; one the database refuses
    (PostgreSQL refuses a NUL character in text) fails alone, without a traceback."""
    secret = secret_of(bot)
    good = [handoff_event() for _ in range(3)]
    bad = handoff_event() | {"id": "evt_\u0000nul"}
    huge_site = handoff_event() | {"site_id": 2**40}  # not an integer column's: kept as None
    answers = await asyncio.gather(
        *(bot.deliver(*signed(secret, event)) for event in [*good, bad, huge_site])
    )
    *fine, refused, kept = [a.status_code for a in answers]
    assert fine == [200] * 3 and kept == 200
    if database.kind == "postgresql":
        assert refused == 500
    await bot.settled()
    assert len(bot.posts()) == 4 + (database.kind == "sqlite")
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize(
    ("timestamp", "signature"),
    [
        ("abc", None),
        ("1.5e9", None),
        ("", None),
        ("9999-12-31T23:59:59-12:00", None),
        (None, "sha256=ünïcödé"),
        (None, "sha256=" + "g" * 64),
        (None, ""),
    ],
    ids=["letters", "epoch-float", "blank", "far-future", "non-ascii", "non-hex", "empty"],
)
async def test_malformed_signature_headers_get_401_and_one_short_log_line(
    bot: WebBot,
    database: AlertDatabase,
    caplog: pytest.LogCaptureFixture,
    timestamp: str | None,
    signature: str | None,
) -> None:
    body, headers = signed(secret_of(bot), handoff_event())
    if timestamp is not None:
        headers["X-MLC-Timestamp"] = timestamp
    if signature is not None:
        headers["X-MLC-Signature"] = signature
    caplog.clear()
    caplog.set_level("DEBUG")
    encoded = {name: value.encode() for name, value in headers.items()}
    answer = await bot.http.post(bot.receiver_url, content=body, headers=encoded)

    assert (answer.status_code, answer.content) == (401, b"")
    await bot.settled()
    assert await kept_events(database) == 0 and bot.posts() == []
    ours = [r for r in caplog.records if r.name.startswith("mlc_bot")]
    assert len(ours) <= 1 and all(r.exc_info is None for r in caplog.records)
    assert all("\n" not in r.getMessage() for r in ours)
