"""Shared fixtures: a real sandbox on 127.0.0.1 and clients and contexts bound to it."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from bot.logs import QUIET_LOGGERS
from bot.mylivechat import MyLiveChatClient
from bot.sandbox import SandboxServer
from bot.secrets import REGISTRY
from commands.cache import SiteCache
from commands.context import Caller, Context, Policy, Surface
from commands.dispatch import Dispatcher
from tests.databases import database_url  # noqa: F401  (a fixture)
from tests.processes import processes  # noqa: F401  (a fixture)
from tests.redis_server import RedisServer, need_redis, need_redis_server

# `mlc-bot` reads .env from its working directory; a developer's own .env in the checkout
# must not reach the processes the tests start (tests/test_startup_errors.py tests .env).
os.environ["PYTHON_DOTENV_DISABLED"] = "1"


@pytest.fixture(autouse=True)
def _work_in_a_temporary_directory(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Relative paths (the default ``sqlite:///mlc-bot.db``, a ``.env``) land in a fresh
    directory, never in the checkout, and no test sees another's."""
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """configure_logging changes process-wide state; put it back for the next test."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, saved in levels.items():
        logging.getLogger(name).setLevel(saved)


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxServer]:
    """A fresh sandbox per test, with a budget large enough not to slow tests down."""
    async with SandboxServer(rate_limit=1000, window=60.0) as server:
        yield server


@pytest.fixture
async def api(sandbox: SandboxServer) -> AsyncIterator[MyLiveChatClient]:
    """Site A's read,write client."""
    async with MyLiveChatClient(sandbox.tokens.site_a_write, base_url=sandbox.url) as client:
        yield client


@pytest.fixture
async def readonly_api(sandbox: SandboxServer) -> AsyncIterator[MyLiveChatClient]:
    async with MyLiveChatClient(sandbox.tokens.site_a_read, base_url=sandbox.url) as client:
        yield client


ContextFactory = Callable[..., Context]


@pytest.fixture
def make_context(api: MyLiveChatClient) -> ContextFactory:
    """Build a command context; defaults to an admin at the console on site A."""

    def build(
        *,
        client: MyLiveChatClient | None = None,
        user_id: str = "U_ADMIN",
        admin: bool = True,
        guest: bool = False,
        platform: str = "console",
        channel_id: str | None = "C_TEST",
        policy: Policy | None = None,
        site: SiteCache | None = None,
    ) -> Context:
        return Context(
            api=client or api,
            caller=Caller(user_id=user_id, name=user_id, platform_admin=admin, guest=guest),
            surface=Surface(platform=platform, channel_id=channel_id),
            secrets=REGISTRY,
            policy=policy or Policy(),
            site=site or SiteCache(),
        )

    return build


@pytest.fixture
def dispatcher() -> Dispatcher:
    return Dispatcher()


@pytest.fixture
def redis_url() -> str:
    """The machine's Redis; skips with the reason when unreachable (fails under
    MLC_REQUIRE_REDIS=1). Tests share it: keep to keys of your own."""
    return need_redis()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A redis-server of the test's own, started; the test may kill it and start it again."""
    server = RedisServer(need_redis_server())
    server.start()
    yield server
    server.kill()
