"""The sandbox as a webhook sender: new rows, signed deliveries, pace, control endpoint, retries."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import logging
import socket
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from bot.sandbox import SandboxServer
from bot.sandbox.events import EventError, EventGenerator
from bot.sandbox.seed import build_state
from bot.sandbox.server import serve_forever
from bot.sandbox.state import WebhookSubscription
from tests.fakes.webhook_receiver import Delivery, WebhookReceiver

NOW = datetime(2026, 4, 25, 10, 0, tzinfo=UTC)
HANDOFF_KEYS = {
    "id",
    "session_id",
    "visitor_key",
    "visitor_name",
    "reason",
    "assigned_to",
    "created_utc",
}
FEEDBACK_KEYS = {"id", "session_id", "rating", "comment", "created_utc"}


def parse_iso(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def site_rows(sbx: SandboxServer, site_id: int) -> tuple[int, int]:
    """How many handoff and feedback rows the site has."""
    state = sbx.state
    return (
        sum(h.site_id == site_id for h in state.handoffs),
        sum(f.site_id == site_id for f in state.feedback),
    )


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def until(condition: Callable[[], bool]) -> None:
    """Wait for `condition` to hold, checking every 10 ms (30 s at most, only so a hang ends)."""
    for _ in range(3000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


class Api:
    """Site-scoped calls to the sandbox's API, as an integration makes them."""

    def __init__(self, sbx: SandboxServer, client: httpx.AsyncClient) -> None:
        self.sbx = sbx
        self.client = client

    async def __call__(
        self, method: str, resource: str, token: str, body: Any = None, **query: Any
    ) -> Any:
        resp = await self.client.request(
            method,
            self.sbx.url,
            params={"resource": resource, **{k: str(v) for k, v in query.items()}},
            headers={"Authorization": f"Bearer {token}"},
            json=body,
        )
        assert resp.status_code == 200, resp.text
        return resp.json()["data"]

    async def subscribe(
        self, receiver: WebhookReceiver, events: str = "handoff,feedback", token: str = ""
    ) -> dict[str, Any]:
        """Create a subscription for `receiver` and give it the secret, as its owner would."""
        body = {"label": "bot", "url": receiver.url, "events": events}
        created = await self(
            "POST", "webhook_subscriptions", token or self.sbx.tokens.site_a_write, body
        )
        receiver.secret = created["secret"]
        return created


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as c:
        yield c


@pytest.fixture
async def sbx() -> AsyncIterator[SandboxServer]:
    async with SandboxServer(rate_limit=1000, now=NOW, retry_delays=(0.05, 0.1)) as server:
        yield server


@pytest.fixture
def api(sbx: SandboxServer, client: httpx.AsyncClient) -> Api:
    return Api(sbx, client)


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver() as r:
        yield r


@pytest.fixture
def dead_url() -> Iterator[str]:
    """A URL on 127.0.0.1 where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    yield f"http://127.0.0.1:{port}/hook"


# --- the new rows ------------------------------------------------------------------------------


async def test_a_new_handoff_is_listed_with_its_transcript_and_delivered_signed(
    sbx: SandboxServer, api: Api, receiver: WebhookReceiver
) -> None:
    sub = await api.subscribe(receiver)
    rw = sbx.tokens.site_a_write
    before = await api("GET", "handoffs", rw, limit=200)

    emitted = await sbx.emit_new(sbx.site_a_id, "handoff")

    [delivery] = await receiver.wait_for(1)
    payload = delivery.json()
    assert delivery.verified and receiver.verifies(
        delivery.body, delivery.headers["X-MLC-Signature"]
    )
    assert delivery.headers["X-MLC-Signature"].startswith("sha256=")
    assert set(payload) == {"id", "event", "site_id", "occurred_utc", "data"}
    assert payload["id"].startswith("evt_") and payload["event"] == "handoff"
    assert payload["site_id"] == sbx.site_a_id and payload == emitted.payload
    stamp = parse_iso(delivery.headers["X-MLC-Timestamp"])
    assert abs(stamp - datetime.now(UTC)) < timedelta(minutes=1)

    row = payload["data"]
    assert set(row) == HANDOFF_KEYS and row["assigned_to"] is None and row["reason"]
    assert row["visitor_key"] and row["session_id"].startswith("s_")
    after = await api("GET", "handoffs", rw, limit=200)
    assert after[0] == row, "the newest handoff, exactly as the API lists it"
    assert after[1:] == before
    assert parse_iso(row["created_utc"]) >= parse_iso(before[0]["created_utc"])

    [transcript] = await api("GET", "transcripts", rw, session_id=row["session_id"])
    assert transcript["visitor_key"] == row["visitor_key"] and transcript["ended_utc"] is None
    assert transcript["messages"][0]["role"] == "visitor"
    assert transcript["messages"][-1]["role"] == "ai"
    assert "connect you" in transcript["messages"][-1]["text"]
    assert [d.outcome for d in emitted.deliveries] == ["delivered"]
    assert emitted.deliveries[0].subscription_id == sub["id"]


async def test_a_new_feedback_row_is_listed_and_its_session_has_a_transcript(
    sbx: SandboxServer, api: Api, receiver: WebhookReceiver
) -> None:
    await api.subscribe(receiver, events="feedback")
    rw = sbx.tokens.site_a_write

    emitted = await sbx.emit_new(sbx.site_a_id, "feedback")

    [delivery] = await receiver.wait_for(1)
    row = delivery.json()["data"]
    assert delivery.verified and delivery.json()["event"] == "feedback"
    assert set(row) == FEEDBACK_KEYS and row["rating"] in range(1, 6)
    assert row["comment"] is None or isinstance(row["comment"], str)
    assert (await api("GET", "feedback", rw))[0] == row == emitted.row
    [transcript] = await api("GET", "transcripts", rw, session_id=row["session_id"])
    assert transcript["ended_utc"] is not None, "the rated chat is over"
    assert parse_iso(transcript["ended_utc"]) <= parse_iso(row["created_utc"])


async def test_overrides_set_the_row_and_a_bad_one_adds_nothing(
    sbx: SandboxServer, api: Api, receiver: WebhookReceiver
) -> None:
    await api.subscribe(receiver)
    a = sbx.site_a_id
    handoff = await sbx.emit_new(
        a, "handoff", reason="billing dispute", visitor_name="<!channel> *Eve*", assigned_to="Dana"
    )
    assert handoff.row["reason"] == "billing dispute"
    assert (
        handoff.row["visitor_name"] == "<!channel> *Eve*" and handoff.row["assigned_to"] == "Dana"
    )
    rated = await sbx.emit_new(
        a, "feedback", rating=1, comment=None, session_id=handoff.row["session_id"]
    )
    assert (rated.row["rating"], rated.row["comment"]) == (1, None)
    assert rated.row["session_id"] == handoff.row["session_id"], "feedback on the handed-off chat"

    b_session = next(h.session_id for h in sbx.state.handoffs if h.site_id == sbx.site_b_id)
    rows = len(sbx.state.handoffs), len(sbx.state.feedback), len(sbx.state.transcripts)
    bad: list[tuple[str, dict[str, Any], str]] = [
        ("feedback", {"rating": 6}, "from 1 to 5"),
        ("feedback", {"rating": True}, "from 1 to 5"),
        ("feedback", {"stars": 4}, "unknown field(s) stars"),
        ("handoff", {"reason": ""}, "non-empty string"),
        ("handoff", {"visitor_key": None}, "cannot be null"),
        ("handoff", {"session_id": b_session}, "belongs to another site"),
        ("test", {}, "unknown event 'test'"),
    ]
    for event, overrides, message in bad:
        with pytest.raises(EventError) as raised:
            await sbx.emit_new(a, event, **overrides)
        assert message in str(raised.value), (event, overrides)
    with pytest.raises(EventError, match="unknown site"):
        await sbx.emit_new(1, "handoff")
    assert (len(sbx.state.handoffs), len(sbx.state.feedback), len(sbx.state.transcripts)) == rows
    assert len(receiver.deliveries) == 2


async def test_the_same_seed_makes_the_same_rows() -> None:
    def shapes(seed: int) -> list[tuple[Any, ...]]:
        state = build_state(seed, NOW).state
        events = EventGenerator(seed)
        rows = [events.new_row(state, 10000324, e).to_api() for e in ["handoff", "feedback"] * 6]
        return [
            (r.get("visitor_name"), r.get("reason"), r.get("rating"), r.get("comment"))
            for r in rows
        ]

    assert shapes(1) == shapes(1)
    assert shapes(1) != shapes(2)


def test_paced_events_and_ratings_have_a_realistic_spread() -> None:
    state = build_state(1, NOW).state
    site = 10000324
    state.webhooks[1] = WebhookSubscription(
        1, site, "bot", "http://x", ["handoff", "feedback"], True, "s", NOW
    )
    events = EventGenerator(1)
    picks = Counter(events.pick(state) for _ in range(600))
    assert set(picks) == {(site, "handoff"), (site, "feedback")}
    assert 0.58 <= picks[(site, "handoff")] / 600 <= 0.75, "about 2 in 3 are handoffs"

    rows = [events.new_row(state, site, "feedback") for _ in range(400)]
    ratings = Counter(r.rating for r in rows)
    assert set(ratings) == {1, 2, 3, 4, 5} and ratings[5] > ratings[1]
    assert 3.3 <= sum(r.rating for r in rows) / len(rows) <= 4.2
    low = [r for r in rows if r.rating <= 2]
    high = [r for r in rows if r.rating >= 4]
    assert sum(r.comment is not None for r in low) / len(low) > 0.6, "unhappy visitors write"
    assert 0.25 <= sum(r.comment is not None for r in high) / len(high) <= 0.6

    state.webhooks[1].events = ["feedback"]
    assert {events.pick(state) for _ in range(50)} == {(site, "feedback")}
    state.webhooks[1].enabled = False
    assert events.pick(state) is None


# --- who receives ----------------------------------------------------------------------------


async def test_one_event_goes_to_each_subscription_that_wants_it_and_no_other(
    sbx: SandboxServer, api: Api
) -> None:
    async with (
        WebhookReceiver() as both,
        WebhookReceiver() as handoffs_only,
        WebhookReceiver() as feedback_only,
        WebhookReceiver() as disabled,
        WebhookReceiver() as site_b,
    ):
        await api.subscribe(both)
        await api.subscribe(handoffs_only, events="handoff")
        await api.subscribe(feedback_only, events="feedback")
        off = await api.subscribe(disabled)
        await api(
            "PATCH",
            "webhook_subscriptions",
            sbx.tokens.site_a_write,
            {"id": off["id"], "enabled": False},
        )
        await api.subscribe(site_b, token=sbx.tokens.site_b_write)

        emitted = await sbx.emit_new(sbx.site_a_id, "handoff")

        assert [d.outcome for d in emitted.deliveries] == ["delivered", "delivered"]
        ids = {both.accepted[0]["id"], handoffs_only.accepted[0]["id"]}
        assert ids == {emitted.id}, "one event, one id, whoever receives it"
        assert feedback_only.deliveries == disabled.deliveries == site_b.deliveries == []


async def test_a_site_without_subscriptions_still_gets_its_row_but_nothing_is_sent(
    sbx: SandboxServer,
) -> None:
    emitted = await sbx.emit_new(sbx.site_b_id, "feedback")
    assert emitted.deliveries == () and sbx.attempts == []
    assert sbx.state.feedback[0].id == emitted.row["id"]


# --- the pace ----------------------------------------------------------------------------------


async def test_the_pace_emits_on_a_short_interval_and_stops_with_the_server(
    client: httpx.AsyncClient,
) -> None:
    async with WebhookReceiver() as receiver:
        sbx = SandboxServer(rate_limit=1000, now=NOW, events_every=0.05)
        await sbx.start()
        try:
            api = Api(sbx, client)
            await api.subscribe(receiver)
            deliveries = await receiver.wait_for(4)
            listed_handoffs = await api("GET", "handoffs", sbx.tokens.site_a_write, limit=200)
            listed_feedback = await api("GET", "feedback", sbx.tokens.site_a_write, limit=200)
        finally:
            await sbx.stop()
        sent, ticks = len(receiver.deliveries), sbx.pace_ticks

        assert all(d.verified for d in deliveries)
        payloads = [d.json() for d in deliveries]
        assert {p["site_id"] for p in payloads} == {sbx.site_a_id}
        assert len({p["id"] for p in payloads}) == 4
        for p in payloads:
            listed = listed_handoffs if p["event"] == "handoff" else listed_feedback
            assert p["data"] in listed
        await asyncio.sleep(0.3)  # six intervals: a pace still running would have sent more
        assert len(receiver.deliveries) == sent and sbx.pace_ticks == ticks


async def test_the_pace_emits_nothing_for_sites_without_enabled_subscriptions(
    client: httpx.AsyncClient,
) -> None:
    async with (
        WebhookReceiver() as a_receiver,
        WebhookReceiver() as b_receiver,
        SandboxServer(rate_limit=1000, now=NOW, events_every=0.02) as sbx,
    ):
        a_rows, b_rows = site_rows(sbx, sbx.site_a_id), site_rows(sbx, sbx.site_b_id)
        await until(lambda: sbx.pace_ticks >= 5)
        assert (site_rows(sbx, sbx.site_a_id), site_rows(sbx, sbx.site_b_id)) == (a_rows, b_rows)
        assert sbx.attempts == []

        api = Api(sbx, client)
        a_sub = await api.subscribe(a_receiver)
        await api(
            "PATCH",
            "webhook_subscriptions",
            sbx.tokens.site_a_write,
            {"id": a_sub["id"], "enabled": False},
        )
        await api.subscribe(b_receiver, events="feedback", token=sbx.tokens.site_b_write)
        deliveries = await b_receiver.wait_for(3)

        assert {(d.json()["site_id"], d.json()["event"]) for d in deliveries} == {
            (sbx.site_b_id, "feedback")
        }
        assert a_receiver.deliveries == []
        assert site_rows(sbx, sbx.site_a_id) == a_rows


# --- the control endpoint --------------------------------------------------------------------


async def test_the_control_endpoint_emits_over_http_and_is_not_part_of_the_api(
    sbx: SandboxServer, api: Api, client: httpx.AsyncClient
) -> None:
    async with WebhookReceiver(path="/hooks/p4th-s3cret") as receiver:
        await api.subscribe(receiver)
        sbx.clear_requests()
        rw = {"Authorization": f"Bearer {sbx.tokens.site_a_write}"}

        resp = await client.post(
            sbx.events_url,
            headers=rw,
            json={"event": "feedback", "site_id": sbx.site_a_id, "data": {"rating": 2}},
        )

        assert resp.status_code == 200, resp.text
        out = resp.json()["data"]
        assert out["payload"]["event"] == "feedback" and out["payload"]["data"]["rating"] == 2
        [delivery] = out["deliveries"]
        assert delivery["outcome"] == "delivered"
        [attempt] = delivery["attempts"]
        assert (attempt["attempt"], attempt["host"], attempt["status"]) == (1, "127.0.0.1", 200)
        assert "p4th-s3cret" not in resp.text and receiver.secret not in resp.text
        assert receiver.accepted == [out["payload"]]
        assert sbx.state.feedback[0].to_api() == out["payload"]["data"]

        async def refused(headers: dict[str, str], body: Any, status: int, code: str) -> str:
            r = await client.post(sbx.events_url, headers=headers, content=body)
            assert r.status_code == status, r.text
            assert r.json()["error"]["code"] == code
            return str(r.json()["error"]["message"])

        def js(value: Any) -> bytes:
            return json.dumps(value).encode()

        ro = {"Authorization": f"Bearer {sbx.tokens.site_a_read}"}
        rows = len(sbx.state.handoffs), len(sbx.state.feedback)
        await refused({}, js({"event": "handoff"}), 401, "unauthorized")
        await refused(
            {"Authorization": "Bearer mlc_nope"}, js({"event": "handoff"}), 401, "unauthorized"
        )
        await refused(ro, js({"event": "handoff"}), 403, "forbidden_scope")
        other = js({"event": "handoff", "site_id": sbx.site_b_id})
        assert str(sbx.site_a_id) in await refused(rw, other, 403, "forbidden_site")
        await refused(rw, b"{not json", 400, "bad_request")
        await refused(rw, js(["handoff"]), 400, "bad_request")
        await refused(rw, js({}), 400, "missing_field")
        await refused(rw, js({"event": "test"}), 400, "bad_field")
        await refused(rw, js({"event": "handoff", "data": "x"}), 400, "bad_field")
        clash = js({"event": "handoff", "data": {"site_id": sbx.site_b_id, "event": "x"}})
        assert "unknown field(s) event, site_id" in await refused(rw, clash, 400, "bad_field")
        message = await refused(
            rw, js({"event": "feedback", "data": {"rating": 9}}), 400, "bad_field"
        )
        assert "1 to 5" in message
        assert (len(sbx.state.handoffs), len(sbx.state.feedback)) == rows
        assert sbx.requests == [], "control calls are not API requests (no count, no rate limit)"


# --- retries -----------------------------------------------------------------------------------


async def test_a_failing_receiver_gets_retries_with_growing_gaps_until_a_2xx(
    client: httpx.AsyncClient,
) -> None:
    delays = (0.3, 0.6, 1.2)
    async with (
        WebhookReceiver(statuses=[500, 503, 404]) as receiver,
        SandboxServer(rate_limit=1000, now=NOW, retry_delays=delays) as sbx,
    ):
        await Api(sbx, client).subscribe(receiver)

        emitted = await sbx.emit_new(sbx.site_a_id, "handoff")

        [delivery] = emitted.deliveries
        assert [a.status for a in delivery.attempts] == [500], "returns after the first attempt"
        assert delivery.outcome == "retrying"
        assert await emitted.settled() == ["delivered"]

        got = receiver.deliveries
        assert [d.status for d in got] == [500, 503, 404, 200] and all(d.verified for d in got)
        assert {d.body for d in got} == {got[0].body}, "same body, so same event id"
        gaps = [
            later.received_at - earlier.received_at for earlier, later in itertools.pairwise(got)
        ]
        assert all(gap >= delay for gap, delay in zip(gaps, delays, strict=True)), gaps
        stamps = [parse_iso(d.headers["X-MLC-Timestamp"]) for d in got]
        assert stamps == sorted(stamps) and stamps[-1] > stamps[0], "stamped at each attempt"

        assert [(a.number, a.status) for a in sbx.attempts] == [
            (1, 500),
            (2, 503),
            (3, 404),
            (4, 200),
        ]
        assert {a.event_id for a in sbx.attempts} == {emitted.id}
        assert [d.outcome for d in sbx.deliveries] == ["delivered"]


async def test_timeouts_and_refused_connections_are_retried_then_given_up(
    client: httpx.AsyncClient, dead_url: str
) -> None:
    async with (
        WebhookReceiver(answer_delays=[6.0]) as slow,
        SandboxServer(
            rate_limit=1000, now=NOW, retry_delays=(0.05, 0.1), delivery_timeout=1.5
        ) as sbx,
    ):
        api = Api(sbx, client)
        await api.subscribe(slow, events="handoff")
        body = {"label": "gone", "url": dead_url, "events": "handoff"}
        await api("POST", "webhook_subscriptions", sbx.tokens.site_a_write, body)

        emitted = await sbx.emit_new(sbx.site_a_id, "handoff")

        assert await emitted.settled() == ["delivered", "failed"]
        late, gone = emitted.deliveries
        assert [(a.status, a.error) for a in late.attempts] == [(None, "timeout"), (200, None)]
        assert len(gone.attempts) == 3, "the first try and both retries"
        assert all(a.status is None and a.error for a in gone.attempts)
        assert len(slow.deliveries) == 2


async def test_a_rotated_secret_signs_the_retry(client: httpx.AsyncClient) -> None:
    old: dict[str, str] = {}

    async def rotate_once(delivery: Delivery) -> None:
        if not old:
            old["secret"] = receiver.secret
            rotated = await api(
                "POST", "rotate_webhook_secret", sbx.tokens.site_a_write, {"id": sub["id"]}
            )
            receiver.secret = rotated["secret"]

    async with (
        WebhookReceiver(statuses=[500], on_delivery=rotate_once) as receiver,
        SandboxServer(rate_limit=1000, now=NOW, retry_delays=(0.05, 0.1)) as sbx,
    ):
        api = Api(sbx, client)
        sub = await api.subscribe(receiver)

        emitted = await sbx.emit_new(sbx.site_a_id, "feedback")

        assert await emitted.settled() == ["delivered"]
        first, retry = receiver.deliveries
        assert first.verified and retry.verified, "each verified with the secret of its time"
        assert first.body == retry.body
        assert first.headers["X-MLC-Signature"] != retry.headers["X-MLC-Signature"]
        assert retry.headers["X-MLC-Signature"] == signature(receiver.secret, retry.body)
        assert first.headers["X-MLC-Signature"] == signature(old["secret"], first.body)


@pytest.mark.parametrize(
    ("change", "because"),
    [
        ("delete", "subscription deleted"),
        ("disable", "subscription disabled"),
        ("narrow", "subscription no longer wants handoff"),
    ],
)
async def test_a_subscription_deleted_or_disabled_meanwhile_gets_no_retry(
    client: httpx.AsyncClient, change: str, because: str
) -> None:
    async def change_it(delivery: Delivery) -> None:
        rw = sbx.tokens.site_a_write
        if change == "delete":
            await api("DELETE", "webhook_subscriptions", rw, id=sub["id"])
        else:
            patch = {"enabled": False} if change == "disable" else {"events": "feedback"}
            await api("PATCH", "webhook_subscriptions", rw, {"id": sub["id"], **patch})

    async with (
        WebhookReceiver(statuses=[500], on_delivery=change_it) as receiver,
        SandboxServer(rate_limit=1000, now=NOW, retry_delays=(0.05, 0.1)) as sbx,
    ):
        api = Api(sbx, client)
        sub = await api.subscribe(receiver)

        emitted = await sbx.emit_new(sbx.site_a_id, "handoff")

        assert await emitted.settled() == ["cancelled"]
        assert emitted.deliveries[0].cancelled_because == because
        assert len(receiver.deliveries) == 1 and len(sbx.attempts) == 1


async def test_stopping_the_sandbox_cancels_pending_retries(
    client: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    receiver.statuses.append(502)
    sbx = SandboxServer(rate_limit=1000, now=NOW, retry_delays=(60.0,))
    await sbx.start()
    try:
        await Api(sbx, client).subscribe(receiver)
        emitted = await sbx.emit_new(sbx.site_a_id, "handoff")
        assert emitted.deliveries[0].outcome == "retrying"
    finally:
        await sbx.stop()
    assert await emitted.settled() == ["cancelled"]
    assert emitted.deliveries[0].cancelled_because == "sandbox stopped"
    assert len(receiver.deliveries) == 1


async def test_records_and_logs_show_the_receiver_host_never_its_url_or_secret(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with (
        WebhookReceiver(path="/hooks/T0KEN-in-path", statuses=[500, 500]) as receiver,
        SandboxServer(rate_limit=1000, now=NOW, retry_delays=(0.05,)) as sbx,
    ):
        await Api(sbx, client).subscribe(receiver)
        emitted = await sbx.emit_new(sbx.site_a_id, "handoff")
        assert await emitted.settled() == ["failed"]

        # The sandbox's own lines (the fake receiver's access log shows its path, as a real
        # receiver's would).
        logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("bot."))
        shown = " ".join(
            [
                logged,
                repr(emitted),
                repr(sbx.attempts),
                repr(sbx.deliveries),
                repr(sbx.state.webhooks),
                json.dumps(emitted.to_json()),
            ]
        )
        assert "127.0.0.1" in logged and "gave up after 2 attempt(s)" in logged
        assert "T0KEN-in-path" not in shown and receiver.secret not in shown
        assert receiver.secret[:8] not in shown


# --- mlc-bot sandbox -------------------------------------------------------------------------


async def test_serve_forever_with_a_pace_says_so_on_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    task = asyncio.create_task(serve_forever(port=0, events_every=120))
    out = err = ""
    try:
        async with asyncio.timeout(30):
            while "MLC_API_TOKEN_SITE_B=" not in out or "every" not in err:
                await asyncio.sleep(0.02)
                captured = capsys.readouterr()
                out, err = out + captured.out, err + captured.err
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert [line.split("=", 1)[0] for line in out.splitlines()] == [
        "MLC_API_URL",
        "MLC_API_TOKEN",
        "MLC_API_TOKEN_READONLY",
        "MLC_API_TOKEN_SITE_B",
    ]
    assert "every 2 min" in err and "/sandbox/events" in err


async def _mlc_bot(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@pytest.mark.parametrize("pace", ["0", "0.5s", "20x", "25h", "soon"])
async def test_a_bad_pace_is_refused_by_the_parser(pace: str) -> None:
    status, out, err = await _mlc_bot("sandbox", "--port", "0", "--events-every", pace)

    assert status == 2 and out == ""
    assert "argument --events-every: must be a pace such as 20s, 2m or 90 (seconds)" in err
    assert f"not '{pace}'" in err and "Traceback" not in err


async def test_mlc_bot_sandbox_emits_at_the_pace_it_was_given(client: httpx.AsyncClient) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "sandbox",
        "--port",
        "0",
        "--events-every",
        "1s",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    try:
        async with WebhookReceiver() as receiver, asyncio.timeout(60):
            env: dict[str, str] = {}
            for _ in range(4):
                name, value = (await proc.stdout.readline()).decode().strip().split("=", 1)
                env[name] = value
            body = {"label": "bot", "url": receiver.url, "events": "handoff,feedback"}
            resp = await client.post(
                env["MLC_API_URL"],
                params={"resource": "webhook_subscriptions"},
                headers={"Authorization": f"Bearer {env['MLC_API_TOKEN']}"},
                json=body,
            )
            receiver.secret = resp.json()["data"]["secret"]
            deliveries = await receiver.wait_for(2)
    finally:
        proc.terminate()
        _, err = await proc.communicate()
    assert all(d.verified for d in deliveries)
    assert {d.json()["event"] for d in deliveries} <= {"handoff", "feedback"}
    assert "every 1 s" in err.decode() and receiver.secret not in err.decode()
