"""The API client against the sandbox over real HTTP: every resource, every error."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.mylivechat import (
    APIConnectionError,
    APITimeout,
    AuthError,
    BadRequest,
    Conflict,
    ConnectionFailed,
    ConnectionLost,
    MyLiveChatClient,
    NotFound,
    OutcomeUnknown,
    ScopeError,
    ServerError,
    UndecodableResponse,
)
from bot.sandbox import SandboxServer
from tests.fakes.webhook_receiver import WebhookReceiver


@pytest.fixture
async def site_b(sandbox: SandboxServer) -> AsyncIterator[MyLiveChatClient]:
    async with MyLiveChatClient(sandbox.tokens.site_b_write, base_url=sandbox.url) as client:
        yield client


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver() as r:
        yield r


# -- every read resource --------------------------------------------------------------------


async def test_ping_and_whoami(api: MyLiveChatClient, sandbox: SandboxServer) -> None:
    pong = await api.ping()
    assert pong.pong is True and pong.time_utc is not None
    me = await api.whoami()
    assert me.site_id == sandbox.site_a_id
    assert me.scopes == ["read", "write"] and me.can_write
    assert me.token_prefix and sandbox.tokens.site_a_write.startswith(me.token_prefix)
    assert me.token_prefix != sandbox.tokens.site_a_write
    assert me.request_count and me.request_count >= 2


async def test_read_lists_are_typed(api: MyLiveChatClient) -> None:
    tags = await api.list_tags()
    assert tags and all(t.id and t.name for t in tags)
    assert any(t.enabled is False for t in tags), "the seed has a soft-deleted tag"
    starters = await api.list_conversation_starters()
    assert starters and all(s.text for s in starters)
    handoffs = await api.list_handoffs(limit=5)
    assert len(handoffs) == 5
    times = [h.created_utc for h in handoffs]
    assert times == sorted(times, reverse=True), "newest first"
    assert all(h.session_id and h.reason for h in handoffs)
    visitors = await api.list_visitors(limit=3)
    assert len(visitors) == 3 and all(v.visitor_key for v in visitors)
    feedback = await api.list_feedback(limit=200)
    assert {f.rating for f in feedback} <= {1, 2, 3, 4, 5}
    assert len({f.rating for f in feedback}) >= 4


async def test_transcripts_by_session(api: MyLiveChatClient) -> None:
    handoff = (await api.list_handoffs(limit=1))[0]
    (transcript,) = await api.list_transcripts(session_id=handoff.session_id)
    assert transcript.session_id == handoff.session_id
    roles = {m.role for m in transcript.messages}
    assert roles <= {"visitor", "agent", "ai"} and "visitor" in roles
    assert all(m.at_utc is not None for m in transcript.messages)
    assert await api.list_transcripts(session_id="no-such-session") == []
    assert len(await api.list_transcripts(limit=3)) == 3


async def test_usage_cycle(api: MyLiveChatClient) -> None:
    usage = await api.get_usage()
    assert usage.plan_code and usage.included_replies and usage.included_replies > 0
    assert usage.cycle_start_utc and usage.cycle_end_utc
    assert usage.cycle_start_utc < usage.cycle_end_utc
    assert usage.total_replies is not None and usage.cycle_replies is not None
    assert usage.total_replies >= usage.cycle_replies


async def test_head_checks_without_body(api: MyLiveChatClient, sandbox: SandboxServer) -> None:
    await api.head("tags")
    assert sandbox.count(method="HEAD", resource="tags") == 1
    with pytest.raises(NotFound):
        await api.head("nope")


# -- writes ---------------------------------------------------------------------------------


async def test_tag_lifecycle(api: MyLiveChatClient) -> None:
    created = await api.create_tag("escalated", color="#ff0000", description="needs a lead")
    assert created.created is True and created.id
    again = await api.create_tag("escalated")
    assert again.created is False and again.id == created.id
    edited = await api.update_tag(created.id, color="#00ff00")
    assert edited.color == "#00ff00" and edited.name == "escalated", "PATCH is partial"
    existing = next(t for t in await api.list_tags() if t.id != created.id and t.enabled)
    with pytest.raises(Conflict) as info:
        await api.update_tag(created.id, name=existing.name)
    assert info.value.code == "duplicate_name" and info.value.status == 409
    await api.delete_tag(created.id)
    row = next(t for t in await api.list_tags() if t.id == created.id)
    assert row.enabled is False, "DELETE is a soft delete"


async def test_apply_and_remove_tag(api: MyLiveChatClient) -> None:
    tag = next(t for t in await api.list_tags() if t.enabled)
    session = (await api.list_handoffs(limit=1))[0].session_id
    assert session
    assert (await api.apply_tag(session, tag.id)).created is True  # type: ignore[arg-type]
    assert (await api.apply_tag(session, tag.id)).created is False  # type: ignore[arg-type]
    assert (await api.remove_tag(session, tag.id)).removed == 1  # type: ignore[arg-type]
    assert (await api.remove_tag(session, tag.id)).removed == 0  # type: ignore[arg-type]


async def test_webhook_subscription_lifecycle(
    api: MyLiveChatClient, receiver: WebhookReceiver
) -> None:
    sub = await api.create_webhook_subscription(
        url=receiver.url, events=["handoff", "feedback"], label="ci"
    )
    assert sub.secret and len(sub.secret) >= 32
    assert sub.secret not in repr(sub), "the secret never shows in a repr"
    listed = next(s for s in await api.list_webhook_subscriptions() if s.id == sub.id)
    assert listed.secret is None and listed.secret_prefix == sub.secret[:8]
    assert listed.event_list == ["handoff", "feedback"]
    only_feedback = await api.list_webhook_subscriptions(event="handoff")
    assert any(s.id == sub.id for s in only_feedback)

    receiver.secret = sub.secret
    result = await api.test_webhook(sub.id)  # type: ignore[arg-type]
    assert result.delivered is True and result.receiver_status == 200
    delivery = receiver.deliveries[-1]
    assert delivery.verified and delivery.json()["event"] == "test"
    assert delivery.headers["X-MLC-Timestamp"].endswith("Z")

    rotated = await api.rotate_webhook_secret(sub.id)  # type: ignore[arg-type]
    assert rotated.secret and rotated.secret != sub.secret
    result = await api.test_webhook(sub.id)  # type: ignore[arg-type]
    assert result.receiver_status == 401, "the old secret stops verifying at once"
    receiver.secret = rotated.secret
    assert (await api.test_webhook(sub.id)).receiver_status == 200  # type: ignore[arg-type]

    edited = await api.update_webhook_subscription(sub.id, events="feedback", enabled=False)  # type: ignore[arg-type]
    assert edited.event_list == ["feedback"] and edited.enabled is False
    deleted = await api.delete_webhook_subscription(sub.id)  # type: ignore[arg-type]
    assert deleted.deleted is True
    assert all(s.id != sub.id for s in await api.list_webhook_subscriptions())


async def test_notifier_settings(api: MyLiveChatClient) -> None:
    url = "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX"
    updated = await api.update_notifier_settings("slack", webhook_url=url, events=["handoff"])
    assert updated.webhook_url_present is True and updated.events == ["handoff"]
    shown = await api.get_notifier_settings("slack")
    assert shown.webhook_url_prefix and "XXXXXXXXXXXXXXXX" not in shown.webhook_url_prefix
    with pytest.raises(BadRequest) as info:
        await api.update_notifier_settings("discord", webhook_url="https://example.com/hook")
    assert info.value.code == "bad_field"
    with pytest.raises(BadRequest):
        await api.update_notifier_settings("teams", events=["handoff", "typing"])


async def test_visitors_upsert_and_event(api: MyLiveChatClient) -> None:
    row = await api.upsert_visitor(
        "u-ci-1", email="ci@example.com", plan="pro", attributes={"seats": "5"}
    )
    assert row.created is True and row.plan == "pro"
    again = await api.upsert_visitor("u-ci-1", name="CI")
    assert again.created is False
    event = await api.track_visitor_event("u-ci-1", "signed_up", {"source": "ci"})
    assert event.event == "signed_up" and event.event_count == 1
    with pytest.raises(NotFound):
        await api.track_visitor_event("u-nobody", "signed_up")


# -- errors carry code, status and request id ---------------------------------------------


async def test_bad_token_is_auth_error(sandbox: SandboxServer) -> None:
    async with MyLiveChatClient("mlc_not_a_real_token", base_url=sandbox.url) as client:
        with pytest.raises(AuthError) as info:
            await client.list_tags()
    err = info.value
    assert (err.code, err.status) == ("unauthorized", 401)
    assert err.request_id and err.request_id.startswith("req_")


async def test_read_token_cannot_write(
    readonly_api: MyLiveChatClient, sandbox: SandboxServer
) -> None:
    with pytest.raises(ScopeError) as info:
        await readonly_api.create_tag("nope")
    assert info.value.code == "forbidden_scope" and info.value.status == 403
    assert "nope" not in [t.name for t in await readonly_api.list_tags()]


async def test_other_site_ids_are_not_found(
    api: MyLiveChatClient, site_b: MyLiveChatClient
) -> None:
    theirs = (await site_b.list_tags())[0]
    with pytest.raises(NotFound) as info:
        await api.update_tag(theirs.id, name="mine-now")  # type: ignore[arg-type]
    assert info.value.code == "not_found" and info.value.request_id
    session = (await api.list_handoffs(limit=1))[0].session_id
    with pytest.raises(NotFound):
        await api.apply_tag(session, theirs.id)  # type: ignore[arg-type]
    assert all(t.name != "mine-now" for t in await site_b.list_tags())


async def test_unknown_resource_and_bad_fields(api: MyLiveChatClient) -> None:
    with pytest.raises(NotFound) as info:
        await api.request("GET", "no_such_resource")
    assert info.value.code == "unknown_resource"
    with pytest.raises(BadRequest) as info:
        await api.request("POST", "tags", body={})
    assert info.value.code == "missing_field"
    with pytest.raises(BadRequest) as info:
        await api.create_tag("x", color="purple")
    assert info.value.code == "bad_field"
    with pytest.raises(BadRequest) as info:
        await api.list_handoffs(limit=500)
    assert info.value.code == "bad_field"


async def test_server_error_carries_request_id(
    api: MyLiveChatClient, sandbox: SandboxServer
) -> None:
    sandbox.inject_fault("500", count=10)
    api.backoff = 0.01
    with pytest.raises(ServerError) as info:
        await api.get_usage()
    err = info.value
    assert err.status == 500 and err.code == "internal_error"
    assert err.request_id and err.request_id.startswith("req_")
    assert sandbox.count(method="GET", resource="usage") == 3, "a GET is retried twice"


async def test_non_json_gateway_error(api: MyLiveChatClient, sandbox: SandboxServer) -> None:
    sandbox.inject_fault("502", count=10)
    api.backoff = 0.01
    with pytest.raises(UndecodableResponse) as info:
        await api.list_tags()
    err = info.value
    assert err.status == 502 and err.request_id, "the header's request id survives"
    assert "not JSON" in err.message
    assert isinstance(err, APIConnectionError)


async def test_timeout_and_unreachable(sandbox: SandboxServer) -> None:
    sandbox.inject_fault("slow", count=10, delay=1.0)
    async with MyLiveChatClient(
        sandbox.tokens.site_a_write, base_url=sandbox.url, timeout=0.2, max_retries=1, backoff=0.01
    ) as client:
        with pytest.raises(APITimeout) as info:
            await client.ping()
    assert info.value.code == "timeout"
    async with MyLiveChatClient(
        "mlc_x_unreachable", base_url="http://127.0.0.1:9/v1/api.ashx", max_retries=1, backoff=0.01
    ) as client:
        with pytest.raises(ConnectionFailed) as info:
            await client.ping()
    assert info.value.code == "connection_error"


# -- a write whose answer is lost -------------------------------------------------------------


def test_never_sent_and_answer_lost_are_told_apart_by_class() -> None:
    for cls in (ConnectionFailed, APITimeout, ConnectionLost, UndecodableResponse):
        assert issubclass(cls, APIConnectionError)
    # A lost answer may come from any branch (a timeout, the API's 500): its own branch.
    assert not issubclass(OutcomeUnknown, APIConnectionError | ServerError)
    lost = OutcomeUnknown(
        ServerError("boom", status=500, request_id="req_1"), method="PATCH", resource="tags"
    )
    assert (lost.code, lost.status, lost.request_id) == ("internal_error", 500, "req_1")
    assert "PATCH" in repr(lost) and "tags" in repr(lost) and not lost.may_still_apply


def _impatient(sandbox: SandboxServer) -> MyLiveChatClient:
    """Site A's client with a short timeout and quick retries: a held answer is given up on."""
    return MyLiveChatClient(
        sandbox.tokens.site_a_write, base_url=sandbox.url, timeout=1.0, backoff=0.01
    )


@pytest.mark.parametrize(
    ("fault", "cause"),
    [
        ("apply-then-timeout", APITimeout),
        ("apply-then-drop", ConnectionLost),
        ("apply-then-garbage", UndecodableResponse),
    ],
)
async def test_a_sent_write_whose_answer_is_lost_is_outcome_unknown_and_not_repeated(
    sandbox: SandboxServer, fault: str, cause: type[Exception]
) -> None:
    sandbox.inject_fault(fault, delay=30.0)  # type: ignore[arg-type]
    async with _impatient(sandbox) as client:
        with pytest.raises(OutcomeUnknown) as info:
            await client.create_webhook_subscription(
                url="http://127.0.0.1:9/x", events="handoff", label="lost"
            )
    err = info.value
    assert isinstance(err.cause, cause) and err.__cause__ is err.cause
    assert (err.method, err.resource, err.safe_to_repeat) == (
        "POST",
        "webhook_subscriptions",
        False,
    )
    assert err.code == err.cause.code and err.request_id == err.cause.request_id
    assert err.may_still_apply is (fault != "apply-then-garbage")
    assert sandbox.count(method="POST", resource="webhook_subscriptions") == 1
    assert [s.label for s in sandbox.state.webhooks.values()] == ["lost"], "it was applied"


@pytest.mark.parametrize(
    ("fault", "cause", "may_still_apply"),
    [("500", ServerError, False), ("502", UndecodableResponse, True)],
)
async def test_a_server_error_on_a_write_is_outcome_unknown_too(
    api: MyLiveChatClient,
    sandbox: SandboxServer,
    fault: str,
    cause: type[Exception],
    may_still_apply: bool,
) -> None:
    sandbox.inject_fault(fault)  # type: ignore[arg-type]
    with pytest.raises(OutcomeUnknown) as info:
        await api.create_webhook_subscription(
            url="http://127.0.0.1:9/x", events="handoff", label="once"
        )
    err = info.value
    assert isinstance(err.cause, cause) and err.request_id and err.status == int(fault)
    assert err.may_still_apply is may_still_apply
    assert sandbox.count(method="POST", resource="webhook_subscriptions") == 1
    assert sandbox.state.webhooks == {}, "these faults come before the handler"


@pytest.mark.parametrize(
    ("fault", "cause"),
    [
        ("apply-then-timeout", APITimeout),
        ("apply-then-drop", ConnectionLost),
        ("apply-then-garbage", UndecodableResponse),
    ],
)
async def test_a_read_whose_answer_is_lost_is_retried_and_raises_the_error_itself(
    sandbox: SandboxServer, fault: str, cause: type[Exception]
) -> None:
    sandbox.inject_fault(fault, count=3, delay=30.0)  # type: ignore[arg-type]
    async with _impatient(sandbox) as client:
        with pytest.raises(cause) as info:
            await client.list_tags()
    assert not isinstance(info.value, OutcomeUnknown)
    assert sandbox.count(method="GET", resource="tags") == 3


async def test_an_idempotent_write_whose_answer_is_lost_is_retried(
    sandbox: SandboxServer,
) -> None:
    sandbox.inject_fault("apply-then-garbage")
    async with _impatient(sandbox) as client:
        tag = await client.create_tag("escalated")
    assert tag.name == "escalated" and tag.created is False, "the first attempt made it"
    assert sandbox.count(method="POST", resource="tags") == 2


async def test_an_idempotent_write_lost_on_every_attempt_is_outcome_unknown_safe_to_repeat(
    sandbox: SandboxServer,
) -> None:
    sandbox.inject_fault("apply-then-garbage", count=3)
    async with _impatient(sandbox) as client:
        with pytest.raises(OutcomeUnknown) as info:
            await client.create_tag("escalated")
    err = info.value
    assert err.safe_to_repeat and (err.method, err.resource) == ("POST", "tags")
    assert sandbox.count(method="POST", resource="tags") == 3


async def test_a_definitive_answer_after_a_lost_one_is_raised_as_it_is(
    sandbox: SandboxServer,
) -> None:
    # DELETE apply_tag is idempotent: the retry's 404 says where things stand.
    sandbox.inject_fault("apply-then-timeout", delay=30.0)
    async with _impatient(sandbox) as client:
        with pytest.raises(NotFound):
            await client.remove_tag("no-such-session", 41)
    assert sandbox.count(method="DELETE", resource="apply_tag") == 2


async def test_a_refused_connection_was_never_sent_so_even_a_write_is_retried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="mlc_bot.api")
    async with MyLiveChatClient(
        "mlc_x_unreachable", base_url="http://127.0.0.1:9/v1/api.ashx", backoff=0.01
    ) as client:
        with pytest.raises(ConnectionFailed) as info:
            await client.rotate_webhook_secret(3)
    assert not isinstance(info.value, OutcomeUnknown), "nothing was sent, so nothing happened"
    retries = [r.getMessage() for r in caplog.records if r.name == "mlc_bot.api"]
    assert [m.split(" in ")[0] for m in retries] == [
        "connection_error on POST rotate_webhook_secret; retry 1",
        "connection_error on POST rotate_webhook_secret; retry 2",
    ]


def _client_sending_to(handler: httpx.MockTransport) -> MyLiveChatClient:
    return MyLiveChatClient(
        "mlc_mock_token", base_url="http://mock/v1/api.ashx", transport=handler, backoff=0.01
    )


async def test_a_connect_timeout_was_never_sent_so_even_a_write_is_retried() -> None:
    # Loopback cannot be made to time out a connect reliably, so this one is a mock transport.
    attempts: list[str] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        attempts.append(request.method)
        raise httpx.ConnectTimeout("connect timed out", request=request)

    async with _client_sending_to(httpx.MockTransport(refuse)) as client:
        with pytest.raises(ConnectionFailed):
            await client.create_webhook_subscription(
                url="https://x.example/", events="handoff", label="x"
            )
    assert attempts == ["POST", "POST", "POST"]


@pytest.mark.parametrize(
    ("status", "content_type", "body"),
    [
        (403, "text/html", b"<html>Forbidden by the firewall</html>"),
        (301, "text/html", b"<html>Moved</html>"),
    ],
)
async def test_a_page_that_refused_or_redirected_a_write_is_not_ambiguous(
    status: int, content_type: str, body: bytes
) -> None:
    attempts: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        attempts.append(request.method)
        return httpx.Response(status, content=body, headers={"Content-Type": content_type})

    async with _client_sending_to(httpx.MockTransport(answer)) as client:
        with pytest.raises(UndecodableResponse) as info:
            await client.rotate_webhook_secret(3)
    assert not isinstance(info.value, OutcomeUnknown) and info.value.status == status
    assert attempts == ["POST"]


async def test_a_5xx_without_the_api_envelope_is_a_proxy_not_the_api() -> None:
    def gateway(request: httpx.Request) -> httpx.Response:
        return httpx.Response(504, json={"message": "upstream timed out"})

    async with _client_sending_to(httpx.MockTransport(gateway)) as client:
        with pytest.raises(UndecodableResponse) as read:
            await client.get_usage()
        with pytest.raises(OutcomeUnknown) as write:
            await client.rotate_webhook_secret(3)
    assert read.value.status == 504 and read.value.code == "bad_gateway"
    assert isinstance(write.value.cause, UndecodableResponse) and write.value.may_still_apply


async def test_idempotent_write_and_reads_are_retried(
    api: MyLiveChatClient, sandbox: SandboxServer
) -> None:
    api.backoff = 0.01
    sandbox.inject_fault("500", count=1)
    tag = await api.create_tag("retried")
    assert tag.name == "retried"
    assert sandbox.count(method="POST", resource="tags") == 2
    sandbox.inject_fault("502", count=2)
    assert await api.list_tags()
    assert sandbox.count(method="GET", resource="tags") == 3


# -- rate limit -----------------------------------------------------------------------------


async def test_burst_of_three_windows_gets_no_429() -> None:
    async with SandboxServer(rate_limit=10, window=2.0) as server:
        async with MyLiveChatClient(server.tokens.site_a_write, base_url=server.url) as client:
            results = await asyncio.gather(*(client.ping() for _ in range(30)))
        assert len(results) == 30 and all(r.pong for r in results)
        assert server.rate_limited_count == 0


async def test_tokens_do_not_wait_on_each_other() -> None:
    async with SandboxServer(rate_limit=5, window=3.0) as server:
        a = MyLiveChatClient(server.tokens.site_a_write, base_url=server.url)
        b = MyLiveChatClient(server.tokens.site_b_write, base_url=server.url)
        async with a, b:
            busy = asyncio.gather(*(a.ping() for _ in range(12)))  # needs three windows
            await asyncio.sleep(0.2)
            loop = asyncio.get_running_loop()
            started = loop.time()
            await asyncio.gather(*(b.ping() for _ in range(4)))
            assert loop.time() - started < 1.0, "site B is not held back by site A's budget"
            await busy
        assert server.rate_limited_count == 0


async def test_a_budget_spent_elsewhere_waits_instead_of_failing() -> None:
    async with SandboxServer(rate_limit=4, window=2.0) as server:
        token = server.tokens.site_a_write
        async with httpx.AsyncClient() as other_process:
            for _ in range(4):
                await other_process.get(
                    server.url,
                    params={"resource": "ping"},
                    headers={"Authorization": f"Bearer {token}"},
                )
        async with MyLiveChatClient(token, base_url=server.url) as client:
            results = await asyncio.gather(*(client.ping() for _ in range(6)))
        assert all(r.pong for r in results)
        # Only the first, blind request could be refused: the limiter learns from it.
        assert server.rate_limited_count <= 1


# -- secrets ----------------------------------------------------------------------------------


async def test_token_never_in_logs_errors_or_reprs(
    sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = sandbox.tokens.site_a_write
    sandbox.inject_fault("500", count=3)
    errors: list[Exception] = []
    async with MyLiveChatClient(token, base_url=sandbox.url, backoff=0.01) as client:
        assert token not in repr(client)
        for call in (client.list_tags, client.get_usage, lambda: client.request("GET", "nope")):
            try:
                await call()
            except Exception as exc:
                errors.append(exc)
    assert errors
    for exc in errors:
        assert token not in str(exc) and token not in repr(exc)
    for record in caplog.records:
        assert token not in record.getMessage()
    assert all(not r.token_in_query for r in sandbox.requests), "never the token= fallback"
    assert all(r.token == token for r in sandbox.requests)


# -- tolerant parsing -----------------------------------------------------------------------


def _client_answering(payload: object, status: int = 200) -> MyLiveChatClient:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=payload, headers={"X-MLC-Request-Id": "req_mock"})

    return MyLiveChatClient(
        "mlc_mock_token", base_url="http://mock/v1/api.ashx", transport=httpx.MockTransport(handler)
    )


async def test_lists_as_items_object_or_bare_array() -> None:
    wrapped = {"ok": True, "data": {"items": [{"id": 1, "name": "vip", "surprise": True}]}}
    async with _client_answering(wrapped) as client:
        (tag,) = await client.list_tags()
    assert (tag.id, tag.name, tag.color) == (1, "vip", None)
    bare = {"ok": True, "data": [{"id": "2", "rating": 4}]}
    async with _client_answering(bare) as client:
        (row,) = await client.list_feedback()
    assert (row.id, row.rating, row.comment) == (2, 4, None)


async def test_missing_and_mistyped_fields_become_none() -> None:
    payload = {
        "ok": True,
        "data": {
            "cycle_replies": "12",
            "included_replies": "lots",
            "cycle_start_utc": "not a date",
            "new_field": {"x": 1},
        },
    }
    async with _client_answering(payload) as client:
        usage = await client.get_usage()
    assert usage.cycle_replies == 12
    assert usage.included_replies is None and usage.cycle_start_utc is None
    assert usage.plan_code is None


async def test_error_request_id_from_header_when_body_has_none() -> None:
    async with _client_answering({"ok": False, "error": {"code": "not_found"}}, 404) as client:
        with pytest.raises(NotFound) as info:
            await client.list_tags()
    assert info.value.request_id == "req_mock"


async def test_ping_round_trip_leaves_out_the_wait_for_the_rate_limit() -> None:
    async with SandboxServer(rate_limit=2, window=2.0) as server:
        client = MyLiveChatClient(server.tokens.site_a_write, base_url=server.url)
        async with client:
            await client.ping()
            await client.ping()
            loop = asyncio.get_running_loop()
            started = loop.time()
            third = await client.ping()  # the window is spent: the limiter holds it back
            total = loop.time() - started
    assert total >= 1.0, "the third ping had to wait for the window"
    assert third.round_trip is not None and third.round_trip < 0.5
    assert server.rate_limited_count == 0
