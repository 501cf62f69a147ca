"""Writes whose answer is lost: read back once, say what happened, never "failed, try again".

The sandbox applies the request and then loses its answer ("apply-then-timeout", "-garbage",
"-drop"), or fails before applying it ("slow" past the client's timeout, "500", "502"). The
client has a short timeout so a held answer is given up on quickly.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from bot.mylivechat import MyLiveChatClient
from bot.sandbox import SandboxServer
from bot.sandbox.state import WebhookSubscription
from commands.cache import SiteCache
from commands.render import render_json, render_text
from commands.reply import Failure, Kind, Reply
from tests.fakes.webhook_receiver import WebhookReceiver

from .conftest import Run

APPLIED_THEN_LOST = ("apply-then-timeout", "apply-then-garbage", "apply-then-drop")
HELD = 30.0  # how long a "slow" or "apply-then-timeout" fault holds the request: past TIMEOUT
TIMEOUT = 1.0  # the client's; long enough for a loaded machine to answer the read-back
SLACK_URL = "https://hooks.slack.com/services/T0001/B0002/s3cr3tPathXYZ"
DISCORD_URL = "https://discord.com/api/webhooks/1234/s3cr3tPathXYZ"


@pytest.fixture
async def lossy(sandbox: SandboxServer, site: SiteCache) -> AsyncIterator[MyLiveChatClient]:
    """Site A's client with a short timeout, its write check and tag list already cached, so
    the next fault hits the command's own requests."""
    async with MyLiveChatClient(
        sandbox.tokens.site_a_write,
        base_url=sandbox.url,
        timeout=httpx.Timeout(TIMEOUT),
        backoff=0.01,
    ) as client:
        await site.whoami(client)
        await site.tags(client)
        yield client


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver() as hook:
        yield hook


def _calls(sandbox: SandboxServer) -> list[tuple[str, str | None]]:
    return [(r.method, r.resource) for r in sandbox.requests]


def _shown(reply: Reply) -> str:
    return render_text(reply)


def _never_says_it_failed(reply: Reply) -> None:
    text = _shown(reply).lower()
    assert "try again" not in text and "failed" not in text, text


def _lost(sandbox: SandboxServer, kind: str, *, after: int = 0) -> None:
    """The answer to the next write is lost; ``after`` reads come first and go through."""
    sandbox.clear_requests()
    for _ in range(after):
        sandbox.inject_fault("slow", delay=0)
    sandbox.inject_fault(kind, delay=HELD)  # type: ignore[arg-type]


async def _add(run: Run, url: str, **client: object) -> int:
    added = await run(f"webhooks add {url} --events handoff", **client)
    assert added.ok, added.text
    return int(next(f.value for f in added.fields if f.name == "Id"))


def _site_a_subs(sandbox: SandboxServer, url: str) -> list[WebhookSubscription]:
    return [
        s
        for s in sandbox.state.webhooks.values()
        if s.site_id == sandbox.site_a_id and s.url == url
    ]


# -- webhooks add ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", APPLIED_THEN_LOST)
async def test_add_created_but_answer_lost_finds_it_and_never_leads_to_a_second(
    run: Run, lossy: MyLiveChatClient, sandbox: SandboxServer, receiver: WebhookReceiver, kind: str
) -> None:
    _lost(sandbox, kind)

    reply = await run(f"webhooks add {receiver.url} --events handoff,feedback", client=lossy)

    (created,) = _site_a_subs(sandbox, receiver.url)
    assert _calls(sandbox) == [("POST", "webhook_subscriptions"), ("GET", "webhook_subscriptions")]
    assert reply.title == f"Webhook {created.id} created; its secret was not shown"
    assert f"MyLiveChat created it (id {created.id}) but its answer was lost" in reply.text
    assert f"`webhooks rotate {created.id}` issues a new one" in reply.text
    assert "Do not add it again" in _shown(reply)
    assert reply.kind is Kind.WARNING and reply.failure is Failure.UNKNOWN
    assert reply.exit_status == 1 and not reply.sensitive
    _never_says_it_failed(reply)
    assert created.secret not in render_json(reply)

    # Following the reply's advice gives a secret that verifies, and still one subscription.
    (rotate,) = reply.actions
    rotated = await run(rotate.command, client=lossy)
    receiver.secret = re.search(r"Secret: `([^`]+)`", rotated.text).group(1)  # type: ignore[union-attr]
    tested = await run(f"webhooks test {created.id}", client=lossy)
    assert rotated.ok and tested.ok and receiver.accepted
    assert len(_site_a_subs(sandbox, receiver.url)) == 1


@pytest.mark.parametrize(
    ("kind", "advice"),
    [
        # No answer at all: MyLiveChat may still be working on it, so look again first.
        ("slow", "type `webhooks` in a minute, and add it again only if it is still missing"),
        # The API's own error envelope: it had finished, and nothing was made.
        ("500", "You can run the command again."),
    ],
)
async def test_add_not_created_says_so(
    run: Run, lossy: MyLiveChatClient, sandbox: SandboxServer, kind: str, advice: str
) -> None:
    _lost(sandbox, kind)

    reply = await run("webhooks add https://example.com/hook --events handoff", client=lossy)

    assert _site_a_subs(sandbox, "https://example.com/hook") == []
    assert _calls(sandbox) == [("POST", "webhook_subscriptions"), ("GET", "webhook_subscriptions")]
    assert reply.title == "Webhook not created" and reply.failure is Failure.API
    assert "reading it back shows it was not created" in reply.text and advice in reply.text
    assert reply.exit_status == 1


async def test_add_does_not_take_an_identical_old_subscription_for_the_new_one(
    run: Run, lossy: MyLiveChatClient, sandbox: SandboxServer
) -> None:
    url = "https://example.com/hook"
    old_id = await _add(run, url, client=lossy)
    old = sandbox.state.webhooks[old_id]
    old.created_utc -= timedelta(days=1)
    _lost(sandbox, "500")

    reply = await run(f"webhooks add {url} --events handoff", client=lossy)

    assert reply.title == "Webhook not created"
    assert f"An identical subscription already exists (id {old_id})" in reply.text
    assert len(_site_a_subs(sandbox, url)) == 1


async def test_add_when_the_read_back_fails_too_is_unknown_and_says_how_to_check(
    run: Run, lossy: MyLiveChatClient, sandbox: SandboxServer
) -> None:
    _lost(sandbox, "apply-then-garbage")
    sandbox.inject_fault("500", count=3)  # the read-back and both of its retries

    reply = await run("webhooks add https://example.com/hook --events handoff", client=lossy)

    assert reply.title == "Outcome unknown" and reply.failure is Failure.UNKNOWN
    assert reply.kind is Kind.WARNING and reply.exit_status == 1
    assert "reading it back did not work either" in reply.text
    assert "cannot tell whether the subscription was created" in reply.text
    assert "Type `webhooks` to see whether it is there before adding it again" in reply.text
    assert reply.error_code == "bad_response" and reply.request_id
    assert json.loads(render_json(reply))["error"]["kind"] == "unknown"
    _never_says_it_failed(reply)
    assert len(_site_a_subs(sandbox, "https://example.com/hook")) == 1


# -- webhooks edit / delete / rotate / test -------------------------------------------------


@pytest.mark.parametrize("kind", ["apply-then-timeout", "apply-then-garbage"])
async def test_edit_applied_but_answer_lost_is_confirmed_by_reading_back(
    run: Run, lossy: MyLiveChatClient, sandbox: SandboxServer, kind: str
) -> None:
    sub_id = await _add(run, "https://example.com/hook", client=lossy)
    _lost(sandbox, kind, after=1)  # the subscription as it is, read first

    reply = await run(f"webhooks edit {sub_id} --events feedback --enabled no", client=lossy)

    resource = "webhook_subscriptions"
    assert _calls(sandbox) == [("GET", resource), ("PATCH", resource), ("GET", resource)]
    assert reply.ok and reply.title == f"Webhook {sub_id} updated"
    assert reply.table is not None and reply.table.rows[0].cells[3:5] == ("feedback", "paused")
    assert "so the bot read it back: the change was made" in reply.notes[0]
    _never_says_it_failed(reply)


async def test_edit_not_applied_says_not_changed(
    run: Run, lossy: MyLiveChatClient, sandbox: SandboxServer
) -> None:
    sub_id = await _add(run, "https://example.com/hook", client=lossy)
    _lost(sandbox, "500", after=1)

    reply = await run(f"webhooks edit {sub_id} --label renamed", client=lossy)

    assert sandbox.state.webhooks[sub_id].label == "example.com"
    assert reply.title == f"Webhook {sub_id} not changed" and reply.failure is Failure.API
    assert "reading it back shows its label as before" in reply.text
    assert "You can run the command again" in reply.text and reply.request_id
    assert sandbox.count(method="GET", resource="webhook_subscriptions") == 2


@pytest.mark.parametrize(
    ("kind", "deleted"), [("apply-then-garbage", True), ("apply-then-drop", True), ("502", False)]
)
async def test_delete_reads_back_whether_it_is_gone(
    run: Run, lossy: MyLiveChatClient, sandbox: SandboxServer, kind: str, deleted: bool
) -> None:
    sub_id = await _add(run, "https://example.com/hook", client=lossy)
    _lost(sandbox, kind)

    reply = await run(f"webhooks delete {sub_id}", client=lossy)

    assert (sub_id not in sandbox.state.webhooks) is deleted
    assert sandbox.count(method="GET", resource="webhook_subscriptions") == 1
    if deleted:
        assert reply.ok and reply.title == f"Webhook {sub_id} deleted"
        _never_says_it_failed(reply)
    else:
        assert reply.title == f"Webhook {sub_id} not deleted" and reply.failure is Failure.API
        assert "it is still there" in reply.text and "run the command again" in reply.text


async def test_rotate_with_a_lost_answer_says_rotate_again(
    run: Run, lossy: MyLiveChatClient, sandbox: SandboxServer
) -> None:
    sub_id = await _add(run, "https://example.com/hook", client=lossy)
    before = sandbox.state.webhooks[sub_id].secret
    _lost(sandbox, "apply-then-garbage")

    reply = await run(f"webhooks rotate {sub_id}", client=lossy)

    assert sandbox.state.webhooks[sub_id].secret != before, "the rotation happened"
    assert _calls(sandbox) == [("POST", "rotate_webhook_secret")], "no read can settle it"
    assert reply.title == f"Webhook {sub_id}: outcome unknown"
    assert "the previous one may already be void" in reply.text
    assert f"Rotate again (`webhooks rotate {sub_id}`) to get a secret you can see" in reply.text
    assert [a.command for a in reply.actions] == [f"webhooks rotate {sub_id}"]
    assert reply.failure is Failure.UNKNOWN and reply.kind is Kind.WARNING
    _never_says_it_failed(reply)

    again = await run(f"webhooks rotate {sub_id}", client=lossy)
    assert again.ok and sandbox.state.webhooks[sub_id].secret in again.text


async def test_test_with_a_lost_answer_says_it_may_have_been_sent(
    run: Run, lossy: MyLiveChatClient, sandbox: SandboxServer, receiver: WebhookReceiver
) -> None:
    sub_id = await _add(run, receiver.url, client=lossy)
    _lost(sandbox, "apply-then-timeout", after=1)  # whether it is paused, read first

    reply = await run(f"webhooks test {sub_id}", client=lossy)

    assert [d.json()["event"] for d in receiver.deliveries] == ["test"], "it was sent"
    assert _calls(sandbox) == [("GET", "webhook_subscriptions"), ("POST", "test_webhook")]
    assert reply.title == f"Webhook {sub_id}: outcome unknown"
    assert "cannot tell whether the test event was sent" in reply.text
    assert "Check the receiver for an event named `test`" in reply.text
    assert "a slow receiver can make it late" in reply.text
    assert reply.failure is Failure.UNKNOWN and reply.error_code == "timeout"
    _never_says_it_failed(reply)


# -- notify ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "title", "reads_first"),
    [
        (
            f"notify discord set {DISCORD_URL} --events feedback",
            "Discord notifications saved",
            False,
        ),
        # Without --events, the events already chosen are read first (and kept).
        (f"notify discord set {DISCORD_URL}", "Discord notifications saved", True),
        ("notify slack events feedback", "Slack notifications saved", True),
        ("notify slack off", "Slack notifications off", True),
    ],
)
@pytest.mark.parametrize("kind", ["apply-then-garbage", "apply-then-timeout"])
async def test_notify_applied_but_answer_lost_is_confirmed(
    run: Run,
    lossy: MyLiveChatClient,
    sandbox: SandboxServer,
    text: str,
    title: str,
    reads_first: bool,
    kind: str,
) -> None:
    platform = text.split()[1]
    _lost(sandbox, kind, after=int(reads_first))

    reply = await run(text, client=lossy)

    resource = f"{platform}_settings"
    first = [("GET", resource)] if reads_first else []
    assert _calls(sandbox) == [*first, ("PATCH", resource), ("GET", resource)]
    assert reply.ok and reply.title == title
    assert "so the bot read it back: the change was made" in reply.notes[0]
    assert "s3cr3tPathXYZ" not in _shown(reply) + render_json(reply)
    _never_says_it_failed(reply)


@pytest.mark.parametrize(
    ("text", "still", "reads_first"),
    [
        (f"notify slack set {SLACK_URL} --events feedback", "the events handoff, feedback", 0),
        ("notify discord events handoff", "no events", 1),
        ("notify slack off", "a webhook URL set", 1),
    ],
)
async def test_notify_not_applied_says_what_the_settings_still_have(
    run: Run,
    lossy: MyLiveChatClient,
    sandbox: SandboxServer,
    text: str,
    still: str,
    reads_first: int,
) -> None:
    platform = text.split()[1]
    before = sandbox.state.notifiers[(sandbox.site_a_id, platform)]
    before_url, before_events = before.webhook_url, list(before.events)
    _lost(sandbox, "500", after=reads_first)

    reply = await run(text, client=lossy)

    after = sandbox.state.notifiers[(sandbox.site_a_id, platform)]
    assert (after.webhook_url, after.events) == (before_url, before_events)
    assert reply.failure is Failure.API and reply.title.endswith("notifications not changed")
    assert f"reading it back shows the settings still have {still}" in reply.text
    assert "You can run the command again" in reply.text
    assert "s3cr3tPathXYZ" not in _shown(reply)
    assert sandbox.count(method="GET", resource=f"{platform}_settings") == 1 + reads_first


# -- visitors --------------------------------------------------------------------------------


async def test_visitor_set_applied_but_answer_lost_is_confirmed(
    run: Run, lossy: MyLiveChatClient, sandbox: SandboxServer
) -> None:
    _lost(sandbox, "apply-then-timeout", after=1)  # the visitor as it was, read first

    reply = await run("visitor set u-900 --plan pro --attr seats=12", client=lossy)

    saved = sandbox.state.visitors[(sandbox.site_a_id, "u-900")]
    assert (saved.plan, saved.attributes) == ("pro", {"seats": 12})
    assert _calls(sandbox) == [("GET", "visitors"), ("POST", "visitors"), ("GET", "visitors")]
    assert sandbox.requests[2].query["limit"] == "200"
    assert reply.ok and reply.title == "Saved visitor u-900"
    assert {f.name: f.value for f in reply.fields}["Attributes"] == "seats=12"
    _never_says_it_failed(reply)


async def test_visitor_set_not_applied_says_not_saved(
    run: Run, lossy: MyLiveChatClient, sandbox: SandboxServer
) -> None:
    key = sandbox.state.site_visitors(sandbox.site_a_id)[0].visitor_key
    _lost(sandbox, "502", after=1)

    reply = await run(f"visitor set {key} --plan platinum", client=lossy)

    assert sandbox.state.visitors[(sandbox.site_a_id, key)].plan != "platinum"
    assert reply.title == f"Visitor {key} not saved" and reply.failure is Failure.API
    assert "reading it back shows its plan as before" in reply.text
    assert sandbox.count(method="GET", resource="visitors") == 2


async def test_visitor_event_with_a_lost_answer_says_check_before_recording_again(
    run: Run, lossy: MyLiveChatClient, sandbox: SandboxServer
) -> None:
    key = sandbox.state.site_visitors(sandbox.site_a_id)[0].visitor_key
    count = sandbox.state.visitors[(sandbox.site_a_id, key)].event_count
    _lost(sandbox, "apply-then-garbage")

    reply = await run(f"visitor event {key} upgraded plan=pro", client=lossy)

    assert sandbox.state.visitors[(sandbox.site_a_id, key)].event_count == count + 1
    assert _calls(sandbox) == [("POST", "visitor_event")], "no read on the happy path"
    assert reply.title == "Outcome unknown" and reply.failure is Failure.UNKNOWN
    assert f"the event `upgraded` was recorded for `{key}`; it may have been" in reply.text
    assert "with `visitors` before recording it again" in reply.text
    _never_says_it_failed(reply)


# -- tags ------------------------------------------------------------------------------------


async def test_tags_edit_applied_but_answer_lost_is_confirmed(
    run: Run, lossy: MyLiveChatClient, sandbox: SandboxServer
) -> None:
    _lost(sandbox, "apply-then-drop")

    reply = await run("tags edit vip --color #16A34A --description VIPs", client=lossy)

    (vip,) = [t for t in sandbox.state.site_tags(sandbox.site_a_id) if t.name == "vip"]
    assert (vip.color.lower(), vip.description) == ("#16a34a", "VIPs")
    assert _calls(sandbox) == [("PATCH", "tags"), ("GET", "tags")]
    assert reply.ok and reply.title == "Updated tag vip"
    _never_says_it_failed(reply)


async def test_tags_edit_not_applied_says_not_changed(
    run: Run, lossy: MyLiveChatClient, sandbox: SandboxServer
) -> None:
    _lost(sandbox, "500")

    reply = await run("tags edit vip --name very-important", client=lossy)

    assert "very-important" not in [t.name for t in sandbox.state.site_tags(sandbox.site_a_id)]
    assert reply.title.startswith("Tag vip") and reply.title.endswith("not changed")
    assert "reading it back shows its name as before" in reply.text
    assert reply.failure is Failure.API and reply.request_id
    assert sandbox.count(method="GET", resource="tags") == 1


@pytest.mark.parametrize(
    ("text", "resource", "what"),
    [
        ("tags add escalated", "tags", "the tag was created"),
        ("tags delete refund", "tags", "the tag was deleted"),
        ("tag {session} vip", "apply_tag", "the session got the tag"),
        ("untag {session} vip", "apply_tag", "the tag was taken off the session"),
    ],
)
async def test_idempotent_writes_lost_every_time_say_running_again_is_safe(
    run: Run,
    lossy: MyLiveChatClient,
    sandbox: SandboxServer,
    session_id: str,
    text: str,
    resource: str,
    what: str,
) -> None:
    sandbox.clear_requests()
    sandbox.inject_fault("apply-then-garbage", count=3)  # the request and both retries

    reply = await run(text.format(session=session_id), client=lossy)

    assert sandbox.count(resource=resource) == 3, "idempotent: the client retried it"
    assert reply.title == "Outcome unknown" and reply.failure is Failure.UNKNOWN
    assert f"cannot tell whether {what}" in reply.text
    assert "Running the same command again is safe" in reply.text
    _never_says_it_failed(reply)

    again = await run(text.format(session=session_id), client=lossy)
    assert again.ok, again.text


async def test_an_idempotent_write_whose_first_answer_is_lost_just_works(
    run: Run, lossy: MyLiveChatClient, sandbox: SandboxServer
) -> None:
    _lost(sandbox, "apply-then-garbage")

    reply = await run("tags add escalated", client=lossy)

    assert reply.ok and sandbox.count(method="POST", resource="tags") == 2
    assert [t.name for t in sandbox.state.site_tags(sandbox.site_a_id)].count("escalated") == 1
