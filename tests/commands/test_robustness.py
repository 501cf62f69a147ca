"""No input ever produces a traceback, and API failures become replies with a request id."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.mylivechat import MyLiveChatClient
from bot.sandbox import SandboxServer
from bot.secrets import REGISTRY
from commands.cache import SiteCache
from commands.catalog import default_catalog
from commands.context import Caller, Context, Surface
from commands.dispatch import Dispatcher
from commands.render import render_json, render_text
from commands.reply import Failure, Reply

from .conftest import Run

_NAMES = [c.name for c in default_catalog()]
_WORDS = st.one_of(
    st.sampled_from(["--limit", "--events", "--color", "--public", "--", "-", "--attr", "vip"]),
    st.sampled_from(["0", "-1", "999999999999999999999", "#zzzzzz", "a=b", "=", "s_1", "1"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12),
)
COMMAND_TEXT = st.one_of(
    st.text(max_size=60),
    st.builds(
        lambda name, words: " ".join([name, *words]),
        st.sampled_from(_NAMES),
        st.lists(_WORDS, max_size=5),
    ),
)


@pytest.fixture
async def fast_api(sandbox: SandboxServer) -> AsyncIterator[MyLiveChatClient]:
    """Site A's client with quick retries, so fault tests stay fast."""
    async with MyLiveChatClient(
        sandbox.tokens.site_a_write, base_url=sandbox.url, backoff=0.01, timeout=0.5
    ) as client:
        yield client


def _assert_friendly(reply: Reply) -> None:
    assert isinstance(reply, Reply)
    assert reply.failure is not Failure.INTERNAL, reply.text
    text = render_text(reply)
    render_json(reply)
    assert "Traceback" not in text and 'File "' not in text


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=COMMAND_TEXT)
async def test_arbitrary_text_never_raises_out_of_the_dispatcher(run: Run, text: str) -> None:
    # `run` shares one sandbox across examples: commands may change it, which is fine here.
    reply = await run(text)

    _assert_friendly(reply)


async def test_server_error_on_a_write_shows_request_id_and_is_not_retried(
    run: Run, fast_api: MyLiveChatClient, sandbox: SandboxServer, site: SiteCache
) -> None:
    await site.whoami(fast_api)  # the write check is cached, so the fault hits the write
    sandbox.inject_fault("slow", delay=0)  # the read of the visitor as it is goes through
    sandbox.inject_fault("500", count=1)

    reply = await run("visitor set u-5 --plan pro", client=fast_api)

    assert reply.failure is Failure.API and reply.exit_status == 1
    assert reply.error_code == "internal_error"
    assert "internal error" in reply.text and "request id" in reply.text
    shown = render_text(reply)
    assert reply.request_id and f"Request id: {reply.request_id}" in shown
    assert "Error code: internal_error" in shown
    assert sandbox.count(method="POST", resource="visitors") == 1


async def test_proxy_error_page_on_a_read_is_explained_after_retries(
    run: Run, fast_api: MyLiveChatClient, sandbox: SandboxServer
) -> None:
    sandbox.inject_fault("502", count=3)

    reply = await run("handoffs", client=fast_api)

    assert reply.failure is Failure.API
    assert "HTTP 502" in reply.text and reply.request_id
    assert sandbox.count(resource="handoffs") == 3


async def test_a_read_that_recovers_on_retry_just_works(
    run: Run, fast_api: MyLiveChatClient, sandbox: SandboxServer
) -> None:
    sandbox.inject_fault("500", count=1)

    reply = await run("usage", client=fast_api)

    assert reply.ok


async def test_slow_api_becomes_a_timeout_reply(run: Run, sandbox: SandboxServer) -> None:
    async with MyLiveChatClient(
        sandbox.tokens.site_a_write, base_url=sandbox.url, timeout=0.2, max_retries=0
    ) as impatient:
        sandbox.inject_fault("slow", count=1, delay=1.0)

        reply = await run("starters", client=impatient)

    assert reply.failure is Failure.API and reply.error_code == "timeout"
    assert "did not answer in time" in reply.text


async def test_ping_reports_the_rate_limit_wait_apart_from_the_round_trip() -> None:
    async with SandboxServer(rate_limit=1, window=2.0) as server:
        client = MyLiveChatClient(server.tokens.site_a_write, base_url=server.url)
        async with client:
            ctx = Context(
                api=client,
                caller=Caller("U1", platform_admin=True),
                surface=Surface("console"),
                secrets=REGISTRY,
            )
            await Dispatcher().run_text("ping", ctx)
            reply = await Dispatcher().run_text("ping", ctx)
    fields = {f.name: f.value for f in reply.fields}
    waited = int(fields["Waited for the rate limit"].removesuffix(" s"))
    # The wait (a window of 2 s) is reported apart from, not inside, the round trip.
    assert reply.ok and waited >= 1
    assert int(fields["Round trip"].removesuffix(" ms")) < waited * 1000
