"""Secrets stay out of reprs and of what the demo echoes."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bot.config import Settings
from bot.mylivechat import WebhookSubscription

DATABASE_PASSWORD = "hunter2-db-password"
RECEIVER = "https://hooks.example.com/catch/123/s3cr3t-path"
SLACK_HOOK = "https://hooks.slack.com/services/T000/B000/XXXXSECRET"


def test_settings_repr_hides_the_database_password() -> None:
    settings = Settings.from_env(
        {"DATABASE_URL": f"postgresql://bot:{DATABASE_PASSWORD}@db.internal:5432/mlc"}
    )
    shown = repr(settings)
    assert DATABASE_PASSWORD not in shown
    assert "postgresql://bot:***@db.internal:5432/mlc" in shown
    assert settings.database_url.endswith("@db.internal:5432/mlc")  # the value itself is intact


def test_settings_repr_keeps_a_url_without_password() -> None:
    shown = repr(Settings.from_env({"DATABASE_URL": "sqlite:///data/mlc.db"}))
    assert "sqlite:///data/mlc.db" in shown


def test_webhook_subscription_repr_hides_the_receiver_url() -> None:
    sub = WebhookSubscription.from_api(
        {"id": 3, "label": "zap", "url": RECEIVER, "secret": "s" * 32}
    )
    shown = repr(sub)
    assert RECEIVER not in shown and "s3cr3t" not in shown
    assert "zap" in shown and sub.url == RECEIVER


async def test_piped_demo_echoes_no_webhook_url(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLC_", "LOG_LEVEL"))}
    env.update(HOME=str(tmp_path), PYTHONUNBUFFERED="1")
    lines = f"notify slack set {SLACK_HOOK}\nwebhooks add {RECEIVER} --events handoff\nexit\n"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "demo",
        "--no-scheduler",
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(lines.encode()), timeout=60)
    shown = out.decode() + err.decode()
    assert proc.returncode == 0, shown
    assert "XXXXSECRET" not in shown and "s3cr3t-path" not in shown
    assert "/mlc notify slack set https://hooks.slack.com/" in shown  # the echo is still there
    assert "/mlc webhooks add https://hooks.example.com/…" in shown


def test_settings_repr_hides_a_password_in_any_url() -> None:
    settings = Settings.from_env(
        {
            "MLC_API_URL": "https://api-user:apipw1@api.example.com/v1/api.ashx",
            "MLC_BOT_PUBLIC_URL": "https://bot:pubpw2@bot.example.com",
            "REDIS_URL": "redis://:redispw3@cache.internal:6379/0",
        }
    )
    shown = repr(settings)
    for password in ("apipw1", "pubpw2", "redispw3"):
        assert password not in shown
    assert "https://bot:***@bot.example.com" in shown
