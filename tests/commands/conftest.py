"""Helpers for the command tests: run command text as a user would, count API writes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from bot.sandbox import SandboxServer
from commands.cache import SiteCache
from commands.dispatch import Dispatcher
from commands.reply import Reply

# The digests' database fixture (SQLite, and a PostgreSQL schema per test), for digest ids.
from tests.digests.conftest import database  # noqa: F401

WRITE_METHODS = ("POST", "PATCH", "DELETE")

Run = Callable[..., Awaitable[Reply]]


def writes_sent(sandbox: SandboxServer) -> int:
    """How many POST/PATCH/DELETE requests reached the sandbox."""
    return sum(sandbox.count(method=m) for m in WRITE_METHODS)


def site_a_sessions(sandbox: SandboxServer) -> list[str]:
    """Site A's handoff session ids, newest first (from the seed, without an API call)."""
    rows = [h for h in sandbox.state.handoffs if h.site_id == sandbox.site_a_id]
    rows.sort(key=lambda h: h.created_utc, reverse=True)
    return [h.session_id for h in rows]


@pytest.fixture
def site() -> SiteCache:
    """One site cache per test, shared by every command the test runs (as in an adapter)."""
    return SiteCache()


@pytest.fixture
def run(dispatcher: Dispatcher, make_context, site: SiteCache) -> Run:  # type: ignore[no-untyped-def]
    """``await run("tags add vip", admin=False)``: the reply to command text."""

    async def run_text(text: str, **context: object) -> Reply:
        context.setdefault("site", site)
        return await dispatcher.run_text(text, make_context(**context))

    return run_text


@pytest.fixture
def session_id(sandbox: SandboxServer) -> str:
    return site_a_sessions(sandbox)[0]
