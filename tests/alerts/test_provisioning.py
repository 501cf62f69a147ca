"""The webhook subscription the rules need: created by the first rule, reused, narrowed and
deleted as rules go; its secret kept encrypted; what an admin is told when the bot cannot
keep one. Commands arrive as signed Slack slash commands. On SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from bot.alerts.secrets import new_key
from bot.sandbox import SandboxServer
from bot.storage.schema import webhook_secrets
from commands.alerts.service import SUBSCRIPTION_LABEL
from tests.fakes.slack_api import FakeSlack
from tests.slack.views import buttons_of, text_of

from .harness import AlertDatabase, free_port, subscription, web_bot


def calls(sandbox: SandboxServer, method: str, resource: str) -> int:
    return sandbox.count(method=method, resource=resource)


async def rule_ids(database: AlertDatabase) -> list[int]:
    async with database.records() as records:
        return [rule.id for rule in await records.rules(any_place=True)]


async def stored_secrets(database: AlertDatabase) -> list[str]:
    async with database.records() as records, records.engine.begin() as conn:
        return list((await conn.execute(select(webhook_secrets.c.secret))).scalars())


async def test_the_first_rule_provisions_the_subscription_and_later_ones_reuse_it(
    sandbox: SandboxServer, slack: FakeSlack, database: AlertDatabase
) -> None:
    async with web_bot(sandbox, slack, database) as bot:
        first = await bot.command("alerts add handoff")
        shown = text_of(first.blocks)
        assert "created the MyLiveChat webhook subscription" in shown
        assert "Test delivery" in shown and "received (HTTP 200)" in shown
        sub = subscription(sandbox)
        assert sub.label == SUBSCRIPTION_LABEL and sub.events == ["handoff"]
        assert sub.url == bot.receiver_url and sub.enabled
        assert calls(sandbox, "POST", "webhook_subscriptions") == 1
        assert calls(sandbox, "POST", "test_webhook") == 1

        second = await bot.command("alerts add handoff --reason billing", channel="C_BILLING")
        assert "created the" not in text_of(second.blocks)
        assert calls(sandbox, "POST", "webhook_subscriptions") == 1  # reused, not another
        assert calls(sandbox, "PATCH", "webhook_subscriptions") == 0  # nothing to change
        assert calls(sandbox, "POST", "rotate_webhook_secret") == 0
        assert len(sandbox.state.webhooks) == 1

        await bot.command("alerts add feedback --max-rating 2")
        assert subscription(sandbox).events == ["feedback", "handoff"]  # widened in place
        assert subscription(sandbox).id == sub.id
        handoff, billing, feedback = await rule_ids(database)

        narrowed = await bot.command(f"alerts remove {feedback}")
        assert "now delivers: handoff" in text_of(narrowed.blocks)
        assert subscription(sandbox).events == ["handoff"]
        await bot.command(f"alerts remove {billing}")
        assert subscription(sandbox).events == ["handoff"]  # a handoff rule is left

        last = await bot.command(f"alerts remove {handoff}")
        assert "subscription was deleted from MyLiveChat" in text_of(last.blocks)
        assert subscription(sandbox) is None
        assert calls(sandbox, "DELETE", "webhook_subscriptions") == 1
        assert await stored_secrets(database) == []  # no secret kept for nothing

        again = await bot.command("alerts add handoff")  # starting over creates one again
        assert "created the MyLiveChat webhook subscription" in text_of(again.blocks)
        assert len(sandbox.state.webhooks) == 1


async def test_an_existing_subscription_of_ours_is_reused_with_a_new_secret(
    sandbox: SandboxServer, slack: FakeSlack, database: AlertDatabase
) -> None:
    """A subscription labelled for alerts whose secret the bot does not have (say, its
    database was replaced): reused, and its secret rotated so the bot can verify it."""
    async with web_bot(sandbox, slack, database) as bot:
        await bot.command(f"webhooks add {bot.receiver_url} --events feedback")
        (made,) = sandbox.state.webhooks.values()
        made.label = SUBSCRIPTION_LABEL
        before = made.secret
        reply = await bot.command("alerts add handoff")
        assert "received (HTTP 200)" in text_of(reply.blocks)
        (sub,) = sandbox.state.webhooks.values()
        assert sub.id == made.id and sub.events == ["handoff"] and sub.secret != before


@pytest.mark.parametrize(
    ("missing", "says"),
    [
        ("key", ["MLC_BOT_SECRET_KEY is not set", "`mlc-bot keygen`"]),
        ("url", ["set MLC_BOT_PUBLIC_URL", "/mlc/webhooks"]),
    ],
)
async def test_without_a_key_or_a_public_url_alerts_add_refuses_and_says_what_to_set(
    sandbox: SandboxServer,
    slack: FakeSlack,
    database: AlertDatabase,
    missing: str,
    says: list[str],
) -> None:
    async with web_bot(
        sandbox, slack, database, secret_key=None if missing == "key" else "new",
        public_url=missing != "url",
    ) as bot:  # fmt: skip
        for command in ("alerts add handoff", "alerts add feedback"):
            reply = await bot.command(command)
            for words in says:
                assert words in reply.text, reply.text
        assert sandbox.count(resource="webhook_subscriptions") == 0  # nothing was asked
        assert await rule_ids(database) == []  # and no rule kept that would never fire
        listed = await bot.command("alerts list")
        assert listed.text.startswith("No alert rules")


def database_files_holding(folder: Path, needle: bytes) -> list[Path]:
    """The SQLite database's files (with its -wal and -shm) that contain ``needle``."""
    files = list(folder.glob("alerts.db*"))
    assert files, "no database file"
    return [f for f in files if needle in f.read_bytes()]


async def test_the_secret_is_stored_encrypted(
    sandbox: SandboxServer, slack: FakeSlack, database: AlertDatabase, tmp_path: Path
) -> None:
    key = new_key()
    async with web_bot(sandbox, slack, database, secret_key=key) as bot:
        await bot.command("alerts add handoff")
        raw = subscription(sandbox).secret
        (stored,) = await stored_secrets(database)
        assert raw not in stored
        assert Fernet(key.encode()).decrypt(stored.encode()).decode() == raw
    if database.kind == "sqlite":
        assert database_files_holding(tmp_path, raw.encode()) == []


async def test_a_changed_key_is_logged_once_and_deliveries_are_refused_until_rotated(
    sandbox: SandboxServer,
    slack: FakeSlack,
    database: AlertDatabase,
    caplog: pytest.LogCaptureFixture,
) -> None:
    old_key, new, port = new_key(), new_key(), free_port()
    async with web_bot(sandbox, slack, database, secret_key=old_key, port=port) as bot:
        await bot.command("alerts add handoff")
    caplog.set_level("INFO", logger="mlc_bot")
    # The same process restarted (same address) with another key.
    async with web_bot(sandbox, slack, database, secret_key=new, port=port) as bot:
        for _ in range(3):
            (delivery,) = await sandbox.emit_event(sandbox.site_a_id, "handoff")
            assert delivery.receiver_status == 401
        await bot.settled()
        assert bot.posts() == []
        assert caplog.text.count("does not decrypt with MLC_BOT_SECRET_KEY") == 1
        assert "alerts rotate" in caplog.text

        rotated = await bot.command("alerts rotate")
        assert rotated.text.startswith("Alert secret rotated")
        (delivery,) = await sandbox.emit_event(sandbox.site_a_id, "handoff")
        assert delivery.receiver_status == 200
        await bot.settled()
        assert len(bot.posts()) == 1
    for key in (old_key, new):
        assert key not in caplog.text


def _answer_lost(sandbox: SandboxServer, kind: str, *, after: int) -> None:
    """MyLiveChat applies the next write and loses its answer; ``after`` requests go first."""
    sandbox.clear_requests()
    for _ in range(after):
        sandbox.inject_fault("slow", delay=0)
    sandbox.inject_fault(kind, delay=0)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["apply-then-garbage", "apply-then-drop"])
async def test_a_first_rule_whose_subscription_answer_was_lost_keeps_nothing_and_runs_again(
    sandbox: SandboxServer, slack: FakeSlack, database: AlertDatabase, kind: str
) -> None:
    async with web_bot(sandbox, slack, database) as bot:
        _answer_lost(sandbox, kind, after=1)  # the GET that looks for ours goes through
        lost = text_of((await bot.command("alerts add handoff")).blocks)
        assert "cannot tell whether the subscription was created" in lost
        assert "No rule was kept" in lost and "`alerts add handoff` again is safe" in lost
        assert "failed" not in lost.lower()
        assert await rule_ids(database) == []
        (made,) = sandbox.state.webhooks.values()  # it was created: its secret never seen

        again = text_of((await bot.command("alerts add handoff")).blocks)
        assert "received (HTTP 200)" in again  # the bot verifies MyLiveChat's deliveries
        (sub,) = sandbox.state.webhooks.values()  # found by its label, not made twice
        assert sub.id == made.id and calls(sandbox, "POST", "rotate_webhook_secret") == 1
        assert len(await rule_ids(database)) == 1


async def test_a_rotation_whose_answer_was_lost_says_rotate_again_and_that_works(
    sandbox: SandboxServer, slack: FakeSlack, database: AlertDatabase
) -> None:
    async with web_bot(sandbox, slack, database) as bot:
        await bot.command("alerts add handoff")
        _answer_lost(sandbox, "apply-then-garbage", after=2)  # whoami, then ours looked up
        reply = await bot.command("alerts rotate")
        lost = text_of(reply.blocks)
        assert "cannot tell whether the secret was rotated" in lost
        assert "Rotate again now (`alerts rotate`)" in lost and "failed" not in lost.lower()
        assert "Rotate again" in buttons_of(reply.blocks)
        (attempt,) = await sandbox.emit_event(sandbox.site_a_id, "handoff")
        assert attempt.receiver_status == 401  # signed with a secret the bot never saw

        assert "Alert secret rotated" in text_of((await bot.command("alerts rotate")).blocks)
        (attempt,) = await sandbox.emit_event(sandbox.site_a_id, "handoff")
        assert attempt.delivered and attempt.receiver_status == 200
        await bot.settled()
        assert len(bot.posts()) == 1


async def test_a_removal_mylivechat_did_not_confirm_still_removes_the_rule_and_says_so(
    sandbox: SandboxServer, slack: FakeSlack, database: AlertDatabase
) -> None:
    async with web_bot(sandbox, slack, database) as bot:
        await bot.command("alerts add handoff")
        (rule,) = await rule_ids(database)
        _answer_lost(sandbox, "apply-then-drop", after=1)  # the DELETE of the last rule's
        shown = text_of((await bot.command(f"alerts remove {rule}")).blocks)
        assert f"Alert rule #{rule} removed" in shown
        assert "cannot tell whether the subscription changed" in shown
        assert "no channel gets this rule's alerts" in shown
        assert await rule_ids(database) == []
        await sandbox.emit_event(sandbox.site_a_id, "handoff")  # whatever MyLiveChat sends
        await bot.settled()
        assert bot.posts() == []
