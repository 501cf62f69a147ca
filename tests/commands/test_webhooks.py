"""The webhooks group, with a real receiver that verifies signatures as the reply says to."""

from __future__ import annotations

import re
import socket
from collections.abc import AsyncIterator

import pytest

from bot.sandbox import SandboxServer
from bot.sandbox import webhooks as sandbox_webhooks
from commands.render import render_json, render_text
from commands.reply import Failure, Kind, Reply
from tests.fakes.webhook_receiver import WebhookReceiver

from .conftest import Run, writes_sent


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver(path="/hooks/mlc/a1b2c3", ok_status=204) as hook:
        yield hook


def _secret(reply: Reply) -> str:
    match = re.search(r"Secret: `([A-Za-z0-9_\-]{20,})`", reply.text)
    assert match, reply.text
    return match.group(1)


def _shows(reply: Reply, text: str) -> bool:
    return text in render_text(reply) or text in render_json(reply)


async def test_add_shows_the_secret_once_privately_with_how_to_verify(
    run: Run, receiver: WebhookReceiver, sandbox: SandboxServer
) -> None:
    reply = await run(f"webhooks add {receiver.url} --events handoff,feedback --label CRM")

    assert reply.ok and reply.sensitive and reply.private
    secret = _secret(reply)
    stored = next(iter(sandbox.state.webhooks.values()))
    assert secret == stored.secret
    assert (stored.label, stored.events) == ("CRM", ["handoff", "feedback"])
    how = " ".join(reply.notes)
    assert "X-MLC-Signature: sha256=" in how and "HMAC-SHA256" in how
    assert "constant time" in how and "X-MLC-Timestamp" in how
    assert not _shows(reply, "/hooks/mlc/a1b2c3")  # the receiver's path may be a secret


async def test_add_cannot_be_made_public(run: Run, receiver: WebhookReceiver) -> None:
    reply = await run(f"webhooks add {receiver.url} --events handoff --public")

    assert reply.failure is Failure.USAGE and "has no option `--public`" in reply.text
    assert "/hooks/mlc/a1b2c3" not in reply.text


async def test_secret_never_appears_outside_its_sensitive_reply(
    run: Run, receiver: WebhookReceiver
) -> None:
    added = await run(f"webhooks add {receiver.url} --events handoff")
    secret = _secret(added)
    sub_id = next(f.value for f in added.fields if f.name == "Id")

    others = [
        await run("webhooks"),
        await run("webhooks --event handoff"),
        await run(f"webhooks edit {sub_id} --label renamed"),
        await run(f"webhooks test {sub_id}"),
        await run("help webhooks add"),
    ]

    for reply in others:
        assert not reply.sensitive
        assert not _shows(reply, secret), reply.title
        assert not _shows(reply, "/hooks/mlc/a1b2c3"), reply.title
    listing = others[0]
    assert listing.table is not None
    assert listing.table.rows[0].cells[5] == secret[:8] + "…"
    assert listing.table.rows[0].cells[2] == receiver.url.split("/hooks")[0] + "/…"


async def test_signed_test_event_reaches_a_receiver_using_the_secret(
    run: Run, receiver: WebhookReceiver
) -> None:
    added = await run(f"webhooks add {receiver.url} --events feedback")
    receiver.secret = _secret(added)
    sub_id = next(f.value for f in added.fields if f.name == "Id")

    reply = await run(f"webhooks test {sub_id}")

    assert reply.ok and reply.kind is Kind.SUCCESS
    assert {f.name: f.value for f in reply.fields}["Receiver answered"] == "HTTP 204"
    assert receiver.accepted[0]["event"] == "test"


async def test_rotate_gives_a_new_secret_and_the_old_one_stops_verifying(
    run: Run, receiver: WebhookReceiver
) -> None:
    added = await run(f"webhooks add {receiver.url} --events handoff")
    receiver.secret = _secret(added)
    sub_id = next(f.value for f in added.fields if f.name == "Id")

    rotated = await run(f"webhooks rotate {sub_id}")
    refused = await run(f"webhooks test {sub_id}")

    assert rotated.ok and rotated.sensitive and rotated.private
    assert _secret(rotated) != receiver.secret
    assert "old secret stopped verifying" in rotated.text
    assert refused.failure is Failure.INPUT and refused.exit_status == 1
    assert refused.kind is Kind.ERROR and refused.title.endswith("test not delivered")
    assert "HTTP 401" in render_text(refused) and "current secret" in refused.text


async def test_test_to_an_unreachable_receiver_says_so(run: Run) -> None:
    added = await run("webhooks add http://127.0.0.1:9/nothing --events handoff")
    sub_id = next(f.value for f in added.fields if f.name == "Id")

    reply = await run(f"webhooks test {sub_id}")

    assert reply.failure is Failure.INPUT and reply.exit_status == 1
    assert reply.kind is Kind.ERROR and "could not be reached" in reply.text


async def test_test_to_a_receiver_that_hangs_does_not_blame_its_url(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox_webhooks, "DELIVERY_TIMEOUT", 0.5)
    with socket.socket() as hanging:  # accepts the connection, never answers
        hanging.bind(("127.0.0.1", 0))
        hanging.listen()
        port = hanging.getsockname()[1]
        added = await run(f"webhooks add http://127.0.0.1:{port}/hook --events handoff")
        sub_id = next(f.value for f in added.fields if f.name == "Id")

        reply = await run(f"webhooks test {sub_id}")

    assert reply.failure is Failure.INPUT and reply.exit_status == 1
    assert "could not be reached or did not answer in time" in reply.text
    assert {f.name: f.value for f in reply.fields}["Receiver answered"] == "no answer"


async def test_test_answered_with_a_server_error_is_a_failure(run: Run) -> None:
    async with WebhookReceiver(ok_status=500) as failing:
        added = await run(f"webhooks add {failing.url} --events handoff")
        failing.secret = _secret(added)
        sub_id = next(f.value for f in added.fields if f.name == "Id")

        reply = await run(f"webhooks test {sub_id}")

    assert failing.accepted  # it arrived, signed, and the receiver said 500
    assert reply.failure is Failure.INPUT and reply.exit_status == 1
    assert "answered HTTP 500; only a 2xx answer counts" in reply.text


async def test_ids_may_be_typed_as_replies_show_them(
    run: Run, receiver: WebhookReceiver, sandbox: SandboxServer
) -> None:
    added = await run(f"webhooks add {receiver.url} --events handoff")
    sub_id = int(next(f.value for f in added.fields if f.name == "Id"))

    reply = await run(f"webhooks delete #{sub_id}")

    assert reply.ok and reply.title == f"Webhook {sub_id} deleted"
    assert sub_id not in sandbox.state.webhooks


async def test_edit_pauses_and_changes_events(
    run: Run, receiver: WebhookReceiver, sandbox: SandboxServer
) -> None:
    added = await run(f"webhooks add {receiver.url} --events handoff")
    sub_id = int(next(f.value for f in added.fields if f.name == "Id"))

    reply = await run(f"webhooks edit {sub_id} --events feedback --enabled no")

    assert reply.ok and reply.table is not None
    assert reply.table.rows[0].cells[3:5] == ("feedback", "paused")
    stored = sandbox.state.webhooks[sub_id]
    assert (stored.events, stored.enabled) == (["feedback"], False)


async def test_edit_needs_a_change_and_valid_events(run: Run, sandbox: SandboxServer) -> None:
    nothing = await run("webhooks edit 3")
    bad_event = await run("webhooks edit 3 --events handof")

    assert nothing.failure is Failure.USAGE and "--label, --url, --events" in nothing.text
    assert bad_event.failure is Failure.USAGE and "Did you mean `handoff`?" in bad_event.text
    assert writes_sent(sandbox) == 0


async def test_delete_removes_the_subscription(
    run: Run, receiver: WebhookReceiver, sandbox: SandboxServer
) -> None:
    added = await run(f"webhooks add {receiver.url} --events handoff")
    sub_id = int(next(f.value for f in added.fields if f.name == "Id"))

    reply = await run(f"webhooks delete {sub_id}")
    again = await run(f"webhooks delete {sub_id}")

    assert reply.ok and sub_id not in sandbox.state.webhooks
    assert again.failure is Failure.API and again.error_code == "not_found" and again.request_id


async def test_another_sites_subscription_is_not_found(
    run: Run, receiver: WebhookReceiver, sandbox: SandboxServer, make_context, dispatcher
) -> None:  # type: ignore[no-untyped-def]
    from bot.mylivechat import MyLiveChatClient

    async with MyLiveChatClient(sandbox.tokens.site_b_write, base_url=sandbox.url) as site_b:
        theirs = await site_b.create_webhook_subscription(
            url=receiver.url, events="handoff", label="theirs"
        )

    reply = await run(f"webhooks rotate {theirs.id}")

    assert reply.failure is Failure.API and reply.error_code == "not_found"
    assert "ids of other sites are not visible" in reply.text
    assert sandbox.state.webhooks[theirs.id].secret == theirs.secret


async def test_add_checks_url_and_events_before_sending(run: Run, sandbox: SandboxServer) -> None:
    no_scheme = await run("webhooks add hooks.example.com/x --events handoff")
    no_events = await run("webhooks add https://example.com/x")
    bad_event = await run("webhooks add https://example.com/x --events handoff,chat")

    assert no_scheme.failure is Failure.USAGE and "must start with https://" in no_scheme.text
    assert no_events.failure is Failure.USAGE and "needs --events" in no_events.text
    assert bad_event.failure is Failure.USAGE and "not 'chat'" in bad_event.text
    assert writes_sent(sandbox) == 0


async def test_id_must_be_a_number(run: Run) -> None:
    reply = await run("webhooks test abc")

    assert reply.failure is Failure.USAGE and "<id> must be a whole number" in reply.text


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/mlc",
        "http://10.0.0.7/mlc",
        "http://localhost.example.com/mlc",
        "https://hooks.example.com:99999/mlc",
    ],
)
async def test_add_takes_http_only_for_this_machine(
    run: Run, sandbox: SandboxServer, url: str
) -> None:
    reply = await run(f"webhooks add {url} --events handoff")

    assert reply.failure is Failure.USAGE, reply.text
    assert writes_sent(sandbox) == 0


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://hooks.example.com/mlc", "https://hooks.example.com/…"),
        ("https://hooks.example.com:8443/mlc", "https://hooks.example.com:8443/…"),
        ("http://localhost:8080/mlc", "http://localhost:8080/…"),
        ("http://127.0.0.5:9/mlc", "http://127.0.0.5:9/…"),
        ("http://[::1]:8080/mlc", "http://[::1]:8080/…"),
    ],
)
async def test_add_takes_https_or_a_local_receiver_and_shows_its_port(
    run: Run, url: str, shown: str
) -> None:
    reply = await run(f"webhooks add {url} --events handoff")

    assert reply.ok, reply.text
    assert {f.name: f.value for f in reply.fields}["Receiver"] == shown


async def test_help_and_refusal_state_the_same_rule(run: Run) -> None:
    help_page = render_text(await run("help webhooks add"))
    refused = await run("webhooks add http://hooks.example.com/mlc --events handoff")

    assert "https:// (http:// only for localhost, 127.0.0.1 or ::1, while testing)" in help_page
    assert "must start with https://" in refused.text and "this machine" in refused.text


async def test_test_of_a_paused_subscription_says_it_is_paused(
    run: Run, receiver: WebhookReceiver
) -> None:
    added = await run(f"webhooks add {receiver.url} --events handoff")
    receiver.secret = _secret(added)
    sub_id = next(f.value for f in added.fields if f.name == "Id")
    await run(f"webhooks edit {sub_id} --enabled no")

    reply = await run(f"webhooks test {sub_id}")

    assert reply.ok and reply.kind is Kind.WARNING
    assert reply.title == f"Webhook {sub_id}: test delivered, but the subscription is paused"
    assert f"`webhooks edit {sub_id} --enabled yes`" in " ".join(reply.notes)
    assert receiver.accepted[0]["event"] == "test"


async def test_edit_with_the_values_it_has_changes_nothing_and_says_so(
    run: Run, receiver: WebhookReceiver, sandbox: SandboxServer
) -> None:
    added = await run(f"webhooks add {receiver.url} --events handoff --label CRM")
    sub_id = next(f.value for f in added.fields if f.name == "Id")
    paused = await run(f"webhooks edit {sub_id} --enabled no")
    assert paused.ok and paused.title == f"Webhook {sub_id} updated"
    sandbox.clear_requests()

    again = await run(f"webhooks edit {sub_id} --enabled no")
    same = await run(f"webhooks edit {sub_id} --label CRM --events handoff")

    assert again.ok and again.title == "Already paused"
    assert again.text == f"Webhook {sub_id} is already paused. Nothing changed."
    assert same.ok and same.title == "Nothing to change"
    assert (
        same.text == f"Webhook {sub_id} already has the label, events asked for. Nothing changed."
    )
    assert writes_sent(sandbox) == 0
