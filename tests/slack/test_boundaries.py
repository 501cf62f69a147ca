"""Requests from elsewhere, and requests Slack would never send: refused before any work.

Everything here is real HTTP into the running Slack server, signed with the real signing
secret where the case needs it, with the sandbox and the fake Slack counting what ran.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from urllib.parse import parse_qsl

import pytest

from adapters.slack.server import SlackServer
from adapters.slack.workspace import NOT_SET_UP_HERE
from bot.config import Settings
from bot.sandbox import SandboxServer
from tests.fakes.slack_api import FakeSlack
from tests.slack.conftest import SIGNING_SECRET, nothing_ran, serving, settle
from tests.slack.payloads import SlackSender, app_mention, block_actions, sign, slash_command
from tests.slack.views import text_of

REFUSED = "refused a Slack"


def _refusal_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if REFUSED in r.getMessage()]


# --- another workspace, org or app ------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"team_id": "T0OTHER"},
        {"enterprise_id": "E0ORG"},
    ],
    ids=["other-workspace", "enterprise"],
)
async def test_a_slash_command_from_elsewhere_runs_nothing(
    sender: SlackSender,
    server: SlackServer,
    sandbox: SandboxServer,
    slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
    overrides: dict[str, str],
) -> None:
    caplog.set_level(logging.INFO)
    url = slack.response_url()
    body = slash_command(
        "tags add intruder", user_id="U_ADMIN", channel_id="C1", response_url=url, **overrides
    )
    sent = await sender.post(body, response_url=url)
    assert sent.response.status_code == 200
    assert NOT_SET_UP_HERE in sent.response.text
    await nothing_ran(server, sandbox, slack)
    assert len(_refusal_lines(caplog)) == 1


async def test_a_command_for_another_app_is_refused_when_the_app_id_is_set(
    sandbox: SandboxServer,
    slack: FakeSlack,
    make_settings: Callable[..., Settings],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    async with serving(make_settings(slack_app_id="A0APP"), slack) as (server, sender):
        url = slack.response_url()
        body = slash_command(
            "usage", user_id="U_ADMIN", channel_id="C1", response_url=url, app_id="A0EVIL"
        )
        refused = await sender.post(body, response_url=url)
        await nothing_ran(server, sandbox, slack)
        assert NOT_SET_UP_HERE in refused.response.text
        ours = await sender.command("usage")  # the configured app still works
        await settle(server)
    assert ours.response.status_code == 200
    assert sandbox.count(resource="usage") == 1
    assert len(_refusal_lines(caplog)) == 1


async def test_a_button_click_from_another_workspace_runs_nothing(
    sender: SlackSender, server: SlackServer, sandbox: SandboxServer, slack: FakeSlack
) -> None:
    url = slack.response_url()
    action = {
        "type": "button",
        "action_id": "mlc.run.1",
        "block_id": "b1",
        "value": "tags add intruder",
        "text": {"type": "plain_text", "text": "Run"},
    }
    body = block_actions(
        action, user_id="U_ADMIN", channel_id="C1", response_url=url, team_id="T0OTHER"
    )
    sent = await sender.post(body, response_url=url)
    assert sent.response.status_code == 200
    assert sent.response.text == ""
    await nothing_ran(server, sandbox, slack)


async def test_a_mention_from_another_workspace_runs_nothing(
    sender: SlackSender, server: SlackServer, sandbox: SandboxServer, slack: FakeSlack
) -> None:
    body = app_mention(
        "<@U0BOT> tags add intruder",
        user_id="U_ADMIN",
        channel_id="C1",
        ts="1700000100.000200",
        team_id="T0OTHER",
    )
    sent = await sender.post(body, content_type="application/json")
    assert sent.response.status_code == 200
    await nothing_ran(server, sandbox, slack)


# --- malformed requests -----------------------------------------------------------------------


def _signed_headers(body: str, content_type: str) -> dict[str, str]:
    return {"Content-Type": content_type, **sign(SIGNING_SECRET, body)}


@pytest.mark.parametrize(
    ("timestamp", "signature"),
    [
        ("abc", None),
        ("1.5e9", None),
        ("", None),
        ("-5", None),
        (None, "v0=ünïcödé"),
        (None, "v0=" + "g" * 64),
        (None, ""),
    ],
    ids=["letters", "float", "blank", "negative", "non-ascii-sig", "non-hex-sig", "empty-sig"],
)
async def test_malformed_signature_headers_get_401_without_a_traceback(
    sender: SlackSender,
    server: SlackServer,
    sandbox: SandboxServer,
    slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
    timestamp: str | None,
    signature: str | None,
) -> None:
    caplog.set_level(logging.DEBUG)
    url = slack.response_url()
    body = slash_command("usage", user_id="U_ADMIN", channel_id="C1", response_url=url)
    headers = _signed_headers(body, "application/x-www-form-urlencoded")
    if timestamp is not None:
        headers["X-Slack-Request-Timestamp"] = timestamp
    if signature is not None:
        headers["X-Slack-Signature"] = signature
    encoded = {k: v.encode("utf-8") for k, v in headers.items()}
    response = await sender.client.post(sender.events_url, content=body, headers=encoded)
    assert response.status_code == 401
    await nothing_ran(server, sandbox, slack)
    _assert_one_short_line(caplog)


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("token=x&team_id=T0TEAM&command=%2Fmlc&text=usage", "application/json", 400),
        ("[1, 2, 3]", "application/json", 400),
        ('{"type": "event_callback"', "application/json", 400),
        ("payload=%7Bnot-json", "application/x-www-form-urlencoded", 400),
        ("payload=%5B1%5D", "application/x-www-form-urlencoded", 400),
        ("command=%2Fmlc&text=usage", "text/plain", 415),
    ],
    ids=["form-as-json", "json-array", "truncated-json", "bad-payload", "array-payload", "text"],
)
async def test_a_body_slack_would_not_send_gets_a_4xx_without_a_traceback(
    sender: SlackSender,
    server: SlackServer,
    sandbox: SandboxServer,
    slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
    body: str,
    content_type: str,
    status: int,
) -> None:
    caplog.set_level(logging.DEBUG)
    response = await sender.client.post(
        sender.events_url, content=body, headers=_signed_headers(body, content_type)
    )
    assert response.status_code == status
    await nothing_ran(server, sandbox, slack)
    _assert_one_short_line(caplog)


async def test_a_body_that_is_not_utf8_gets_400(
    sender: SlackSender, server: SlackServer, sandbox: SandboxServer, slack: FakeSlack
) -> None:
    raw = b"command=%2Fmlc&text=\xff\xfe"
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        **sign(SIGNING_SECRET, raw.decode("latin-1")),
    }
    response = await sender.client.post(sender.events_url, content=raw, headers=headers)
    assert response.status_code == 400
    await nothing_ran(server, sandbox, slack)


def _assert_one_short_line(caplog: pytest.LogCaptureFixture) -> None:
    ours = [r for r in caplog.records if r.name.startswith("mlc_bot")]
    assert len(ours) <= 1, [r.getMessage() for r in ours]
    assert not any(r.exc_info or r.exc_text for r in caplog.records)
    assert not any(r.levelno >= logging.ERROR for r in caplog.records)
    assert all(len(r.getMessage()) < 200 for r in ours)


# --- every word reaches the core --------------------------------------------------------------

# Words Bolt's own body parsing and middleware look for, and (below) every key of the
# form bodies Slack sends.
_LOOKED_FOR = (
    "payload",
    "payload_sent",
    "token",
    "team_id",
    "enterprise_id",
    "api_app_id",
    "command",
    "text",
    "response_url",
    "trigger_id",
    "user_id",
    "channel_id",
    "ssl_check",
    "type",
    "url_verification",
    "challenge",
    "event",
    "event_callback",
    "block_actions",
    "is_enterprise_install",
    "{",
    "[",
    "payload={}",
    "ssl_check=1",
    "&",
    "=",
)
_FORM_KEYS = tuple(
    key
    for key, _ in parse_qsl(
        slash_command("x", user_id="U", channel_id="C", response_url="https://x", enterprise_id="E")
    )
)
RESERVED_WORDS = tuple(dict.fromkeys(_LOOKED_FOR + _FORM_KEYS))


@pytest.mark.parametrize("word", RESERVED_WORDS)
async def test_slash_text_with_any_reserved_word_reaches_the_core(
    sender: SlackSender, server: SlackServer, slack: FakeSlack, word: str
) -> None:
    sent = await sender.command(f"help {word}")
    assert sent.response.status_code == 200
    await settle(server)
    (reply,) = slack.responses_to(sent.response_url)
    text = text_of(reply.blocks)
    # The core answered: help for an unknown topic names what was asked.
    assert "There is no command" in text
    assert word.split("=")[0].strip("{[") in json.dumps(reply.body)


async def test_visitor_event_named_payload_sent_is_recorded(
    sender: SlackSender, server: SlackServer, sandbox: SandboxServer
) -> None:
    sent = await sender.command("visitor event u-1 payload_sent payload=1")
    assert sent.response.status_code == 200
    await settle(server)
    (recorded,) = [r for r in sandbox.requests if r.resource == "visitor_event"]
    assert recorded.body["event"] == "payload_sent"
    assert recorded.body["properties"] == {"payload": 1}
