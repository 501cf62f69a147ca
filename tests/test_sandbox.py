"""The sandbox MyLiveChat API: strict auth, scopes, site isolation, limits, errors and faults."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import re
import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from bot.sandbox import SandboxServer
from bot.sandbox.server import ListenError, serve_forever
from tests.fakes.webhook_receiver import WebhookReceiver

NOW = datetime(2026, 4, 25, 10, 0, tzinfo=UTC)
ISO_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def parse_iso(value: str) -> datetime:
    assert ISO_RE.match(value), value
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


@pytest.fixture
async def sbx() -> AsyncIterator[SandboxServer]:
    async with SandboxServer(rate_limit=1000, now=NOW) as server:
        yield server


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as c:
        yield c


class Api:
    """A tiny caller for the sandbox endpoint."""

    def __init__(self, sbx: SandboxServer, client: httpx.AsyncClient) -> None:
        self.sbx = sbx
        self.client = client

    async def __call__(
        self,
        method: str,
        resource: str | None,
        token: str | None,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        **params: Any,
    ) -> httpx.Response:
        query = {k: str(v) for k, v in params.items()}
        if resource is not None:
            query["resource"] = resource
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if content is not None:
            headers["Content-Type"] = "application/json"
            return await self.client.request(
                method, self.sbx.url, params=query, headers=headers, content=content
            )
        return await self.client.request(
            method, self.sbx.url, params=query, headers=headers, json=json_body
        )


@pytest.fixture
def call(sbx: SandboxServer, client: httpx.AsyncClient) -> Api:
    return Api(sbx, client)


def data(resp: httpx.Response) -> Any:
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["ok"] is True
    assert body["request_id"] == resp.headers["X-MLC-Request-Id"]
    return body["data"]


def error(resp: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["ok"] is False
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert body["error"]["request_id"] == resp.headers["X-MLC-Request-Id"]
    return body["error"]


# --- envelope, auth, scopes ------------------------------------------------------------------


async def test_ping_envelope_request_ids_and_cors(call: Api, sbx: SandboxServer) -> None:
    first = await call("GET", "ping", sbx.tokens.site_a_read)
    second = await call("GET", "ping", sbx.tokens.site_a_read)
    assert data(first)["pong"] is True
    assert parse_iso(data(first)["time_utc"]) - NOW < timedelta(minutes=1)
    ids = {first.headers["X-MLC-Request-Id"], second.headers["X-MLC-Request-Id"]}
    assert len(ids) == 2 and all(i.startswith("req_") for i in ids)
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    assert first.headers["Content-Type"].startswith("application/json")


async def test_whoami_introspects_without_leaking_the_token(call: Api, sbx: SandboxServer) -> None:
    token = sbx.tokens.site_a_write
    me = data(await call("GET", "whoami", token))
    assert me["site_id"] == sbx.site_a_id
    assert me["scopes"] == ["read", "write"]
    assert token.startswith(me["token_prefix"]) and len(me["token_prefix"]) <= 13
    assert token not in json.dumps(me)
    assert me["request_count"] == 1
    parse_iso(me["created_utc"])
    parse_iso(me["last_used_utc"])
    again = data(await call("GET", "whoami", token))
    assert again["request_count"] == 2
    ro = data(await call("GET", "whoami", sbx.tokens.site_b_read))
    assert ro["scopes"] == ["read"] and ro["site_id"] == sbx.site_b_id
    assert ro["token_id"] != me["token_id"]


async def test_missing_or_unknown_token_is_401(call: Api, sbx: SandboxServer) -> None:
    error(await call("GET", "ping", None), 401, "unauthorized")
    error(await call("GET", "ping", "mlc_sbx_a_rw_" + "0" * 24), 401, "unauthorized")
    resp = await call.client.get(
        sbx.url, params={"resource": "ping"}, headers={"Authorization": sbx.tokens.site_a_read}
    )
    error(resp, 401, "unauthorized")  # no "Bearer " scheme


async def test_query_token_fallback_works_and_is_recorded(
    call: Api, sbx: SandboxServer, client: httpx.AsyncClient
) -> None:
    token = sbx.tokens.site_a_read
    resp = await client.get(sbx.url, params={"resource": "ping", "token": token})
    assert data(resp)["pong"] is True
    await call("GET", "ping", token)
    by_query, by_header = sbx.requests[-2:]
    assert by_query.token == token and by_query.token_in_query is True
    assert by_header.token == token and by_header.token_in_query is False


async def test_read_only_token_cannot_write_even_with_a_bad_body(
    call: Api, sbx: SandboxServer
) -> None:
    ro = sbx.tokens.site_a_read
    before = data(await call("GET", "tags", ro))
    error(await call("POST", "tags", ro, json_body={"name": "new-one"}), 403, "forbidden_scope")
    error(await call("POST", "tags", ro, content=b"{not json"), 403, "forbidden_scope")
    error(
        await call("PATCH", "tags", ro, json_body={"id": before[0]["id"]}), 403, "forbidden_scope"
    )
    error(await call("DELETE", "tags", ro, id=before[0]["id"]), 403, "forbidden_scope")
    error(
        await call("PATCH", "slack_settings", ro, json_body={"events": []}), 403, "forbidden_scope"
    )
    assert data(await call("GET", "tags", ro)) == before


async def test_sites_cannot_see_or_touch_each_others_rows(call: Api, sbx: SandboxServer) -> None:
    a, b = sbx.tokens.site_a_write, sbx.tokens.site_b_write
    tags_a, tags_b = data(await call("GET", "tags", a)), data(await call("GET", "tags", b))
    assert {t["id"] for t in tags_a}.isdisjoint({t["id"] for t in tags_b})
    b_tag = next(t for t in tags_b if t["enabled"])
    a_tag = next(t for t in tags_a if t["enabled"])
    b_session = data(await call("GET", "handoffs", b, limit=1))[0]["session_id"]
    a_session = data(await call("GET", "handoffs", a, limit=1))[0]["session_id"]

    error(
        await call("PATCH", "tags", a, json_body={"id": b_tag["id"], "color": "#000000"}),
        404,
        "not_found",
    )
    error(await call("DELETE", "tags", a, id=b_tag["id"]), 404, "not_found")
    body = {"session_id": a_session, "tag_id": b_tag["id"]}
    error(await call("POST", "apply_tag", a, json_body=body), 404, "not_found")
    body = {"session_id": b_session, "tag_id": a_tag["id"]}
    error(await call("POST", "apply_tag", a, json_body=body), 404, "not_found")
    error(
        await call("DELETE", "apply_tag", a, session_id=a_session, tag_id=b_tag["id"]),
        404,
        "not_found",
    )
    assert data(await call("GET", "transcripts", a, session_id=b_session)) == []
    assert len(data(await call("GET", "transcripts", b, session_id=b_session))) == 1

    sub = data(
        await call(
            "POST",
            "webhook_subscriptions",
            b,
            json_body={"label": "b-hook", "url": "http://127.0.0.1:9/x", "events": "handoff"},
        )
    )
    for method, resource, kwargs in (
        ("PATCH", "webhook_subscriptions", {"json_body": {"id": sub["id"], "label": "x"}}),
        ("DELETE", "webhook_subscriptions", {"id": sub["id"]}),
        ("POST", "rotate_webhook_secret", {"json_body": {"id": sub["id"]}}),
        ("POST", "test_webhook", {"json_body": {"id": sub["id"]}}),
    ):
        error(await call(method, resource, a, **kwargs), 404, "not_found")
    assert data(await call("GET", "webhook_subscriptions", a)) == []
    assert data(await call("GET", "tags", b)) == tags_b  # untouched by site A


# --- rate limit ------------------------------------------------------------------------------


async def test_rolling_window_rate_limit_headers_and_429(client: httpx.AsyncClient) -> None:
    async with SandboxServer(rate_limit=5, window=2.0, now=NOW) as small:
        call = Api(small, client)
        token = small.tokens.site_a_read
        started = time.time()
        remaining = []
        for _ in range(5):
            resp = await call("GET", "ping", token)
            assert resp.status_code == 200
            assert resp.headers["X-RateLimit-Limit"] == "5"
            remaining.append(int(resp.headers["X-RateLimit-Remaining"]))
            reset = resp.headers["X-RateLimit-Reset"]
            assert reset.isdigit() and started + 1 < int(reset) <= started + 4
        assert remaining == [4, 3, 2, 1, 0]

        limited = await call("GET", "ping", token)
        error(limited, 429, "rate_limited")
        assert limited.headers["X-RateLimit-Remaining"] == "0"
        assert limited.headers["X-RateLimit-Limit"] == "5"
        retry_after = limited.headers["Retry-After"]
        assert retry_after.isdigit() and 1 <= int(retry_after) <= 2
        assert small.rate_limited_count == 1

        # Buckets are per token, and errors from a live bucket carry the headers too.
        other = await call("GET", "nope", small.tokens.site_a_write)
        error(other, 404, "unknown_resource")
        assert other.headers["X-RateLimit-Remaining"] == "4"

        await asyncio.sleep(int(retry_after))
        again = await call("GET", "whoami", token)
        # Only the 5 accepted calls and this one count; the 429 did not.
        assert data(again)["request_count"] == 6
        assert small.count(token=token) == 7


# --- routing and validation errors -----------------------------------------------------------


async def test_unknown_resources_and_unsupported_verbs_are_404(
    call: Api, sbx: SandboxServer
) -> None:
    rw = sbx.tokens.site_a_write
    error(await call("GET", None, rw), 404, "unknown_resource")
    error(await call("GET", "chats", rw), 404, "unknown_resource")
    error(await call("GET", "apply_tag", rw), 404, "unknown_resource")
    error(await call("POST", "ping", rw, json_body={}), 404, "unknown_resource")
    error(await call("PUT", "tags", rw, json_body={"name": "x"}), 404, "unknown_resource")


async def test_bodies_must_be_json_objects(call: Api, sbx: SandboxServer) -> None:
    rw = sbx.tokens.site_a_write
    error(await call("POST", "tags", rw, content=b'{"name": "x",'), 400, "bad_request")
    error(await call("POST", "tags", rw, content=b'["vip"]'), 400, "bad_request")
    error(await call("POST", "tags", rw, content=b""), 400, "bad_request")
    error(await call("PATCH", "tags", rw, content=b'"id"'), 400, "bad_request")


async def test_missing_and_bad_fields(call: Api, sbx: SandboxServer) -> None:
    rw = sbx.tokens.site_a_write
    assert error(await call("POST", "tags", rw, json_body={}), 400, "missing_field")
    error(await call("POST", "tags", rw, json_body={"name": 5}), 400, "bad_field")
    err = error(
        await call("POST", "tags", rw, json_body={"name": "x", "color": "red"}), 400, "bad_field"
    )
    assert "#" in err["message"]
    error(
        await call("POST", "tags", rw, json_body={"name": "x", "color": "#12345"}), 400, "bad_field"
    )
    error(await call("PATCH", "tags", rw, json_body={"name": "x"}), 400, "missing_field")
    error(
        await call("POST", "apply_tag", rw, json_body={"session_id": "s_1", "tag_id": "41"}),
        400,
        "bad_field",
    )
    error(await call("DELETE", "tags", rw), 400, "missing_field")
    error(await call("DELETE", "tags", rw, id="abc"), 400, "bad_field")
    error(await call("DELETE", "tags", rw, id=999999), 404, "not_found")


async def test_limit_query_defaults_bounds_and_order(call: Api, sbx: SandboxServer) -> None:
    ro = sbx.tokens.site_a_read
    assert len(data(await call("GET", "transcripts", ro))) == 50
    everything = data(await call("GET", "transcripts", ro, limit=200))
    assert len(everything) > 50
    three = data(await call("GET", "handoffs", ro, limit=3))
    stamps = [parse_iso(h["created_utc"]) for h in three]
    assert len(three) == 3 and stamps == sorted(stamps, reverse=True)
    for bad in ("0", "201", "abc", "-1", "2.5", ""):
        error(await call("GET", "feedback", ro, limit=bad), 400, "bad_field")


# --- tags and apply_tag ----------------------------------------------------------------------


async def test_tag_post_is_idempotent_on_name(call: Api, sbx: SandboxServer) -> None:
    rw = sbx.tokens.site_a_write
    body = {"name": "escalated", "color": "#7C3AED", "description": "Went to tier 2"}
    first = data(await call("POST", "tags", rw, json_body=body))
    assert first["created"] is True and first["color"] == "#7c3aed" and first["enabled"] is True
    again = data(
        await call("POST", "tags", rw, json_body={"name": "Escalated", "color": "#000000"})
    )
    assert again["created"] is False and again["id"] == first["id"]
    assert again["color"] == "#7c3aed"  # the existing row, not an update
    listed = [t for t in data(await call("GET", "tags", rw)) if t["id"] == first["id"]]
    assert listed == [{k: v for k, v in first.items() if k != "created"}]
    # The same name on site B is a different tag with its own id.
    other = data(await call("POST", "tags", sbx.tokens.site_b_write, json_body=body))
    assert other["created"] is True and other["id"] != first["id"]


async def test_tag_patch_is_partial_and_rename_collision_is_409(
    call: Api, sbx: SandboxServer
) -> None:
    rw = sbx.tokens.site_a_write
    tags = {t["name"]: t for t in data(await call("GET", "tags", rw))}
    vip = tags["vip"]
    patched = data(await call("PATCH", "tags", rw, json_body={"id": vip["id"], "color": "#16a34a"}))
    assert patched == {**vip, "color": "#16a34a"}
    err = error(
        await call("PATCH", "tags", rw, json_body={"id": vip["id"], "name": "BILLING"}),
        409,
        "duplicate_name",
    )
    assert "billing" in err["message"]
    renamed = data(
        await call("PATCH", "tags", rw, json_body={"id": vip["id"], "name": "high-value"})
    )
    assert renamed["name"] == "high-value" and renamed["description"] == vip["description"]


async def test_tag_delete_is_soft_and_post_reenables(call: Api, sbx: SandboxServer) -> None:
    rw = sbx.tokens.site_a_write
    tags = data(await call("GET", "tags", rw))
    assert any(not t["enabled"] for t in tags)  # the seed has one soft-deleted tag
    bug = next(t for t in tags if t["name"] == "bug")
    deleted = data(await call("DELETE", "tags", rw, id=bug["id"]))
    assert deleted["id"] == bug["id"] and deleted["enabled"] is False
    after = {t["id"]: t for t in data(await call("GET", "tags", rw))}
    assert after[bug["id"]]["enabled"] is False and len(after) == len(tags)

    session = data(await call("GET", "handoffs", rw, limit=1))[0]["session_id"]
    err = error(
        await call("POST", "apply_tag", rw, json_body={"session_id": session, "tag_id": bug["id"]}),
        400,
        "bad_field",
    )
    assert "disabled" in err["message"]

    revived = data(await call("POST", "tags", rw, json_body={"name": "bug"}))
    assert revived["created"] is False and revived["id"] == bug["id"] and revived["enabled"]


async def test_apply_tag_is_idempotent_and_detach_reports_removed(
    call: Api, sbx: SandboxServer
) -> None:
    rw = sbx.tokens.site_a_write
    tag = next(t for t in data(await call("GET", "tags", rw)) if t["enabled"])
    session = data(await call("GET", "handoffs", rw, limit=5))[4]["session_id"]
    body = {"session_id": session, "tag_id": tag["id"]}
    assert data(await call("POST", "apply_tag", rw, json_body=body)) == {**body, "created": True}
    assert data(await call("POST", "apply_tag", rw, json_body=body)) == {**body, "created": False}
    assert sbx.state.tag_applications == {(sbx.site_a_id, session, tag["id"])}
    error(
        await call("POST", "apply_tag", rw, json_body={**body, "session_id": "s_nope"}),
        404,
        "not_found",
    )
    error(
        await call("POST", "apply_tag", rw, json_body={"tag_id": tag["id"]}), 400, "missing_field"
    )
    assert data(await call("DELETE", "apply_tag", rw, **body)) == {"removed": 1}
    assert data(await call("DELETE", "apply_tag", rw, **body)) == {"removed": 0}
    assert sbx.state.tag_applications == set()


# --- webhook subscriptions -------------------------------------------------------------------


def sig_ok(secret: str, raw: bytes, headers: dict[str, str]) -> bool:
    mac = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return headers["X-MLC-Signature"] == "sha256=" + mac


async def test_webhook_subscription_crud_shows_the_secret_once(
    call: Api, sbx: SandboxServer
) -> None:
    rw = sbx.tokens.site_a_write
    body = {"label": "zapier-prod", "url": "https://hooks.zapier.com/x", "events": "handoff"}
    created = data(await call("POST", "webhook_subscriptions", rw, json_body=body))
    secret = created["secret"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", secret)  # 24 bytes, base64url, no padding
    assert created["secret_prefix"] == secret[:8] and created["events"] == "handoff"
    second = data(
        await call(
            "POST",
            "webhook_subscriptions",
            rw,
            json_body={**body, "label": "both", "events": "handoff, feedback"},
        )
    )
    assert second["events"] == "handoff,feedback" and second["secret"] != secret

    listed = await call("GET", "webhook_subscriptions", rw)
    assert secret not in listed.text and "secret" not in data(listed)[0]
    assert [w["id"] for w in data(listed)] == [created["id"], second["id"]]
    assert data(listed)[0]["secret_prefix"] == secret[:8]
    only_fb = data(await call("GET", "webhook_subscriptions", rw, event="feedback"))
    assert [w["id"] for w in only_fb] == [second["id"]]
    error(await call("GET", "webhook_subscriptions", rw, event="chat"), 400, "bad_field")

    for bad in (
        {"url": "ftp://x.example/hook"},
        {"events": "handoff,chat"},
        {"events": ""},
        {"events": ["handoff"]},
    ):
        error(
            await call("POST", "webhook_subscriptions", rw, json_body={**body, **bad}),
            400,
            "bad_field",
        )
    error(
        await call(
            "POST", "webhook_subscriptions", rw, json_body={"label": "x", "url": "http://a"}
        ),
        400,
        "missing_field",
    )

    patched = data(
        await call(
            "PATCH",
            "webhook_subscriptions",
            rw,
            json_body={"id": created["id"], "enabled": False, "events": "feedback"},
        )
    )
    assert patched["enabled"] is False and patched["events"] == "feedback"
    assert "secret" not in patched and patched["label"] == "zapier-prod"
    gone = data(await call("DELETE", "webhook_subscriptions", rw, id=created["id"]))
    assert gone == {"id": created["id"], "deleted": True}
    assert [w["id"] for w in data(await call("GET", "webhook_subscriptions", rw))] == [second["id"]]
    error(await call("DELETE", "webhook_subscriptions", rw, id=created["id"]), 404, "not_found")


async def test_test_webhook_signs_and_rotation_invalidates_old_secret(
    call: Api, sbx: SandboxServer
) -> None:
    rw = sbx.tokens.site_a_write
    async with WebhookReceiver() as receiver:
        body = {"label": "bot", "url": receiver.url, "events": "handoff,feedback"}
        sub = data(await call("POST", "webhook_subscriptions", rw, json_body=body))
        receiver.secret = sub["secret"]

        result = data(await call("POST", "test_webhook", rw, json_body={"id": sub["id"]}))
        assert result == {
            "id": sub["id"],
            "delivered": True,
            "receiver_status": 200,
            "signature_header": "X-MLC-Signature",
        }
        raw, headers = receiver.deliveries[-1].body, receiver.deliveries[-1].headers
        assert sig_ok(sub["secret"], raw, headers)
        assert headers["Content-Type"].startswith("application/json")
        stamp = parse_iso(headers["X-MLC-Timestamp"])
        assert abs(stamp - datetime.now(UTC)) < timedelta(minutes=1)
        payload = json.loads(raw)
        assert payload["event"] == "test" and payload["id"].startswith("evt_")
        assert payload["site_id"] == sbx.site_a_id and isinstance(payload["data"], dict)
        parse_iso(payload["occurred_utc"])

        rotated = data(await call("POST", "rotate_webhook_secret", rw, json_body={"id": sub["id"]}))
        assert rotated["id"] == sub["id"] and rotated["secret"] != sub["secret"]
        listed = data(await call("GET", "webhook_subscriptions", rw))
        assert listed[0]["secret_prefix"] == rotated["secret"][:8]

        # The receiver still holds the old secret: the next delivery fails verification.
        stale = data(await call("POST", "test_webhook", rw, json_body={"id": sub["id"]}))
        assert stale["delivered"] is False and stale["receiver_status"] == 401
        raw, headers = receiver.deliveries[-1].body, receiver.deliveries[-1].headers
        assert sig_ok(rotated["secret"], raw, headers) and not sig_ok(sub["secret"], raw, headers)
        assert json.loads(raw)["id"] != payload["id"]

        receiver.secret = rotated["secret"]
        deliveries = await sbx.emit_event(sbx.site_a_id, "handoff")
        assert [d.receiver_status for d in deliveries] == [200]
        assert receiver.deliveries[-1].json()["event"] == "handoff"


async def test_test_webhook_reports_unreachable_receiver(call: Api, sbx: SandboxServer) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rw = sbx.tokens.site_a_write
    body = {"label": "dead", "url": f"http://127.0.0.1:{port}/hook", "events": "feedback"}
    sub = data(await call("POST", "webhook_subscriptions", rw, json_body=body))
    result = data(await call("POST", "test_webhook", rw, json_body={"id": sub["id"]}))
    assert result["delivered"] is False and result["receiver_status"] is None


# --- notifier settings -----------------------------------------------------------------------


async def test_notifier_settings_hide_urls_and_enforce_prefixes(
    call: Api, sbx: SandboxServer
) -> None:
    rw = sbx.tokens.site_a_write
    slack = data(await call("GET", "slack_settings", rw))
    real_url = sbx.state.notifiers[(sbx.site_a_id, "slack")].webhook_url
    assert real_url and slack["webhook_url_present"] is True
    assert slack["webhook_url_prefix"].startswith("https://hooks.slack.com/")
    assert real_url not in json.dumps(slack) and len(slack["webhook_url_prefix"]) <= 40
    assert slack["events"] == ["handoff", "feedback"]
    for platform in ("discord", "teams"):
        unset = data(await call("GET", f"{platform}_settings", rw))
        assert unset["platform"] == platform and unset["webhook_url_present"] is False
    b_slack = data(await call("GET", "slack_settings", sbx.tokens.site_b_read))
    assert b_slack["webhook_url_present"] is False

    rejected = {
        "slack_settings": [
            "https://discord.com/api/webhooks/1/x",
            "http://hooks.slack.com/x",
            "https://hooks.slack.com.evil.io/x",
        ],
        "discord_settings": ["https://hooks.slack.com/services/x", "https://discord.com/api/x"],
        "teams_settings": [
            "http://acme.webhook.office.com/x",
            "https://webhook.office.com.evil.io/x",
            "https://evil.io/acme.webhook.office.com/",
        ],
    }
    for resource, urls in rejected.items():
        for url in urls:
            err = error(
                await call("PATCH", resource, rw, json_body={"webhook_url": url}), 400, "bad_field"
            )
            assert "https://" in err["message"]
    accepted = {
        "discord_settings": "https://discordapp.com/api/webhooks/123/abcdefSECRET",
        "teams_settings": "https://acme.webhook.office.com/webhookb2/abc/IncomingWebhook/x",
    }
    for resource, url in accepted.items():
        out = data(
            await call(
                "PATCH", resource, rw, json_body={"webhook_url": url, "events": ["feedback"]}
            )
        )
        assert out["webhook_url_present"] is True and out["events"] == ["feedback"]
        assert url not in json.dumps(out) and url.startswith(out["webhook_url_prefix"][:-3])
    logic = "https://prod-1.westus.logic.azure.com/workflows/abc"
    assert data(await call("PATCH", "teams_settings", rw, json_body={"webhook_url": logic}))

    for events in (["handoff", "chat"], "handoff", [1]):
        error(
            await call("PATCH", "slack_settings", rw, json_body={"events": events}),
            400,
            "bad_field",
        )
    only = data(await call("PATCH", "slack_settings", rw, json_body={"events": ["handoff"]}))
    assert only["events"] == ["handoff"] and only["webhook_url_present"] is True
    assert sbx.state.notifiers[(sbx.site_a_id, "slack")].webhook_url == real_url


# --- visitors --------------------------------------------------------------------------------


async def test_visitor_upsert_and_events(call: Api, sbx: SandboxServer) -> None:
    rw = sbx.tokens.site_a_write
    body = {
        "visitor_key": "u-12345",
        "email": "jane@acme.com",
        "name": "Jane",
        "plan": "pro",
        "attributes": {"seats": 5, "country": "DE"},
    }
    created = data(await call("POST", "visitors", rw, json_body=body))
    assert created["created"] is True and created["event_count"] == 0
    assert created["attributes"] == {"seats": 5, "country": "DE"}
    updated = data(
        await call(
            "POST",
            "visitors",
            rw,
            json_body={"visitor_key": "u-12345", "plan": "business", "attributes": {"seats": 9}},
        )
    )
    assert updated["created"] is False and updated["plan"] == "business"
    assert updated["email"] == "jane@acme.com"
    assert updated["attributes"] == {"seats": 9, "country": "DE"}

    event = {"visitor_key": "u-12345", "event": "viewed_pricing", "properties": {"page": "/p"}}
    assert data(await call("POST", "visitor_event", rw, json_body=event))["event_count"] == 1
    second = data(await call("POST", "visitor_event", rw, json_body=event))
    assert second == {"visitor_key": "u-12345", "event": "viewed_pricing", "event_count": 2}
    newest = data(await call("GET", "visitors", rw, limit=1))[0]
    assert newest["visitor_key"] == "u-12345" and newest["event_count"] == 2

    error(
        await call("POST", "visitor_event", rw, json_body={**event, "visitor_key": "u-0"}),
        404,
        "not_found",
    )
    error(
        await call("POST", "visitor_event", sbx.tokens.site_b_write, json_body=event),
        404,
        "not_found",
    )
    error(
        await call("POST", "visitors", rw, json_body={"visitor_key": "u-1", "email": "nope"}),
        400,
        "bad_field",
    )
    error(
        await call("POST", "visitors", rw, json_body={"visitor_key": "u-1", "attributes": []}),
        400,
        "bad_field",
    )


# --- faults, latency, HEAD/OPTIONS, recording ------------------------------------------------


async def test_injected_500_502_and_slow_faults(call: Api, sbx: SandboxServer) -> None:
    ro = sbx.tokens.site_a_read
    sbx.inject_fault("500")
    err = error(await call("GET", "tags", ro), 500, "internal_error")
    assert err["request_id"].startswith("req_")

    sbx.inject_fault("502", count=2)
    for _ in range(2):
        resp = await call("GET", "tags", ro)
        assert resp.status_code == 502
        assert resp.headers["Content-Type"].startswith("text/html")
        assert resp.headers["X-MLC-Request-Id"].startswith("req_")
        assert "Bad Gateway" in resp.text
        with pytest.raises(json.JSONDecodeError):
            json.loads(resp.text)
    assert data(await call("GET", "tags", ro))  # faults are used up

    sbx.inject_fault("slow", delay=0.4)
    started = time.monotonic()
    assert data(await call("GET", "ping", ro))["pong"] is True
    assert time.monotonic() - started >= 0.4
    assert [r.status for r in sbx.requests] == [500, 502, 502, 200, 200]


async def test_apply_then_faults_apply_the_request_and_lose_its_answer(
    call: Api, sbx: SandboxServer
) -> None:
    rw = sbx.tokens.site_a_write
    sbx.inject_fault("apply-then-garbage")
    garbled = await call("POST", "tags", rw, json_body={"name": "garbled"})
    assert garbled.status_code == 200
    assert garbled.headers["Content-Type"].startswith("text/html")
    assert garbled.headers["X-MLC-Request-Id"].startswith("req_")
    assert garbled.headers["X-RateLimit-Limit"] == "1000", "the app answered, then it was lost"
    with pytest.raises(json.JSONDecodeError):
        json.loads(garbled.text)

    sbx.inject_fault("apply-then-drop")
    with pytest.raises(httpx.RemoteProtocolError):
        await call("POST", "tags", rw, json_body={"name": "dropped"})

    sbx.inject_fault("apply-then-timeout", delay=0.5)
    held = asyncio.create_task(call("POST", "tags", rw, json_body={"name": "held"}))
    for _ in range(500):  # until the handler has run; the answer is still held
        if sbx.state.tag_by_name(sbx.site_a_id, "held") or held.done():
            break
        await asyncio.sleep(0.01)
    assert sbx.state.tag_by_name(sbx.site_a_id, "held") and not held.done()
    assert data(await held)["name"] == "held"

    names = [t.name for t in sbx.state.site_tags(sbx.site_a_id)]
    assert {"garbled", "dropped", "held"} <= set(names), "every one was applied"
    assert [r.status for r in sbx.requests] == [200, 0, 200], "a dropped answer never went out"
    with pytest.raises(ValueError, match="unknown fault kind"):
        sbx.inject_fault("apply-then-maybe")  # type: ignore[arg-type]


async def test_latency_is_settable_at_run_time(call: Api, sbx: SandboxServer) -> None:
    ro = sbx.tokens.site_a_read
    sbx.latency = 0.3
    started = time.monotonic()
    await call("GET", "ping", ro)
    assert time.monotonic() - started >= 0.3
    sbx.latency = 0.0
    await call("GET", "ping", ro)
    assert sbx.requests[-1].status == 200


async def test_head_and_options(call: Api, sbx: SandboxServer) -> None:
    head = await call("HEAD", "tags", sbx.tokens.site_a_read)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["X-RateLimit-Limit"] == "1000"
    error_head = await call("HEAD", "tags", None)
    assert error_head.status_code == 401 and error_head.content == b""

    pre = await call.client.options(
        sbx.url,
        params={"resource": "tags"},
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "PATCH"},
    )
    assert pre.status_code == 204 and pre.content == b""
    assert pre.headers["Access-Control-Allow-Origin"] == "*"
    allowed = {m.strip() for m in pre.headers["Access-Control-Allow-Methods"].split(",")}
    assert allowed == {"GET", "HEAD", "POST", "DELETE", "PATCH", "OPTIONS"}
    assert "Authorization" in pre.headers["Access-Control-Allow-Headers"]


async def test_every_request_is_recorded_in_order(call: Api, sbx: SandboxServer) -> None:
    rw, ro = sbx.tokens.site_a_write, sbx.tokens.site_a_read
    await call("GET", "ping", ro)
    sbx.clear_requests()
    await call("GET", "tags", ro)
    await call("POST", "tags", rw, json_body={"name": "recorded"})
    await call("POST", "tags", ro, json_body={"name": "nope"})
    await call("DELETE", "tags", rw, id=41)
    await call("GET", "ping", None)
    recs = sbx.requests
    assert [(r.method, r.resource, r.status) for r in recs] == [
        ("GET", "tags", 200),
        ("POST", "tags", 200),
        ("POST", "tags", 403),
        ("DELETE", "tags", 200),
        ("GET", "ping", 401),
    ]
    assert recs[1].body == {"name": "recorded"} and recs[1].token == rw
    assert recs[3].query == {"resource": "tags", "id": "41"} and recs[3].body is None
    assert recs[4].token is None and not recs[4].token_in_query
    assert [r.at for r in recs] == sorted(r.at for r in recs)
    assert sbx.count(method="post") == 2
    assert sbx.count(resource="tags", token=rw) == 2
    assert sbx.count(method="GET", resource="ping") == 1
    assert sbx.count(token=sbx.tokens.site_b_write) == 0


# --- seed data and usage ---------------------------------------------------------------------


async def test_usage_projects_site_a_over_plan_and_grows_with_time(
    call: Api, sbx: SandboxServer
) -> None:
    def projection(u: dict[str, Any]) -> float:
        start, end = parse_iso(u["cycle_start_utc"]), parse_iso(u["cycle_end_utc"])
        assert end - start == timedelta(days=30)
        assert timedelta(days=11) < NOW - start < timedelta(days=14)
        return u["cycle_replies"] / (NOW - start).total_seconds() * (end - start).total_seconds()

    a = data(await call("GET", "usage", sbx.tokens.site_a_read))
    b = data(await call("GET", "usage", sbx.tokens.site_b_read))
    assert projection(a) > a["included_replies"] * 1.05
    assert projection(b) < b["included_replies"] * 0.8
    assert a["total_replies"] > a["cycle_replies"] > 0 and a["plan_code"] != b["plan_code"]

    sbx.advance_time(600)
    later = data(await call("GET", "usage", sbx.tokens.site_a_read))
    assert later["cycle_replies"] > a["cycle_replies"]
    assert (
        later["total_replies"] - a["total_replies"] == later["cycle_replies"] - a["cycle_replies"]
    )


async def test_seed_is_realistic_deterministic_and_per_site(call: Api, sbx: SandboxServer) -> None:
    a, b = sbx.tokens.site_a_read, sbx.tokens.site_b_read
    handoffs = data(await call("GET", "handoffs", a, limit=200))
    assert 35 <= len(handoffs) <= 45
    ages = [NOW - parse_iso(h["created_utc"]) for h in handoffs]
    assert ages[0] < timedelta(minutes=15) and max(ages) <= timedelta(days=3)
    assert len({h["reason"] for h in handoffs}) >= 4
    assert len({h["session_id"] for h in handoffs}) == len(handoffs)

    transcripts = data(await call("GET", "transcripts", a, limit=200))
    assert {h["session_id"] for h in handoffs} <= {t["session_id"] for t in transcripts}
    assert max(len(t["messages"]) for t in transcripts) >= 150
    roles = {m["role"] for t in transcripts for m in t["messages"]}
    assert roles == {"visitor", "ai", "agent"}

    feedback = data(await call("GET", "feedback", a, limit=200))
    assert 50 <= len(feedback) <= 70
    assert {f["rating"] for f in feedback} == {1, 2, 3, 4, 5}
    assert any(f["comment"] for f in feedback) and any(f["comment"] is None for f in feedback)
    assert all(NOW - parse_iso(f["created_utc"]) <= timedelta(days=30) for f in feedback)

    visitors = data(await call("GET", "visitors", a, limit=200))
    assert 20 <= len(visitors) <= 30 and all(v["attributes"] for v in visitors)
    starters = data(await call("GET", "conversation_starters", a))
    assert 3 <= len(starters) <= 6

    b_handoffs = data(await call("GET", "handoffs", b, limit=200))
    assert {h["session_id"] for h in handoffs}.isdisjoint({h["session_id"] for h in b_handoffs})
    b_tags = {t["name"] for t in data(await call("GET", "tags", b))}
    assert b_tags != {t["name"] for t in data(await call("GET", "tags", a))}

    async with SandboxServer(now=NOW) as twin, SandboxServer(now=NOW, seed=2) as other:
        assert twin.tokens == sbx.tokens and other.tokens != sbx.tokens
        twin_api = Api(twin, call.client)
        assert data(await twin_api("GET", "handoffs", a, limit=200)) == handoffs
        assert data(await twin_api("GET", "feedback", a, limit=200)) == feedback


async def test_serve_forever_prints_the_env_lines(capsys: pytest.CaptureFixture[str]) -> None:
    task = asyncio.create_task(serve_forever(port=0, rate_limit=10))
    out = ""
    try:
        for _ in range(250):
            await asyncio.sleep(0.02)
            out += capsys.readouterr().out
            if "MLC_API_TOKEN_SITE_B=" in out:
                break
        env = dict(line.split("=", 1) for line in out.strip().splitlines())
        assert list(env) == [
            "MLC_API_URL",
            "MLC_API_TOKEN",
            "MLC_API_TOKEN_READONLY",
            "MLC_API_TOKEN_SITE_B",
        ]
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1/api\.ashx", env["MLC_API_URL"])
        async with httpx.AsyncClient(timeout=5) as c:

            async def whoami(token: str) -> dict[str, Any]:
                resp = await c.get(
                    env["MLC_API_URL"],
                    params={"resource": "whoami"},
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert resp.headers["X-RateLimit-Limit"] == "10"
                return data(resp)

            rw, ro = await whoami(env["MLC_API_TOKEN"]), await whoami(env["MLC_API_TOKEN_READONLY"])
            b = await whoami(env["MLC_API_TOKEN_SITE_B"])
        assert rw["scopes"] == ["read", "write"] and ro["scopes"] == ["read"]
        assert rw["site_id"] == ro["site_id"] != b["site_id"] and b["scopes"] == ["read", "write"]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_serve_forever_on_a_busy_port_raises_a_one_line_listen_error(
    sbx: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    busy = int(sbx.base_url.rsplit(":", 1)[1])
    with pytest.raises(ListenError) as raised:
        await asyncio.wait_for(serve_forever(port=busy), timeout=10)
    assert str(raised.value) == (
        f"port {busy} on 127.0.0.1 is in use; pick another with --port N (0 picks a free one)"
    )
    assert capsys.readouterr().out == "", "no env lines for a sandbox that never started"
    async with httpx.AsyncClient(timeout=5) as c:
        assert (await c.get(sbx.url, params={"resource": "ping"})).status_code == 401


async def test_serve_forever_on_an_impossible_port_or_host_raises_a_listen_error() -> None:
    with pytest.raises(ListenError, match=r"^--port must be 0-65535$"):
        await asyncio.wait_for(serve_forever(port=70000), timeout=10)
    # TEST-NET-1 (RFC 5737): never an address of this machine.
    with pytest.raises(ListenError, match=r"^cannot listen on 192\.0\.2\.1 port 0: "):
        await asyncio.wait_for(serve_forever("192.0.2.1", 0), timeout=10)
