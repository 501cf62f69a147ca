"""`--json` is data: every command's output matches the schema it declares, strictly.

Every example of every declared command (a new command is covered by declaring it) runs
against the sandbox and its JSON is validated with pydantic in strict mode against the
command's ``data`` TypedDict, extra keys refused: integers must be integers, timestamps
ISO 8601 UTC, no display strings. A few runs go through a real ``mlc-bot exec`` process.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import re
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic
import pytest
import typing_extensions

from adapters.webhooks.receiver import add_routes as receiver_routes
from bot.alerts.secrets import new_key
from bot.alerts.worker import AlertWorker
from bot.compose import build_core, build_inbox
from bot.config import Settings
from bot.sandbox import SandboxServer
from bot.secrets import Secret
from bot.storage.lazy import LazyDatabase
from bot.web import WebServer
from commands.catalog import default_catalog
from commands.context import Caller, Context, Surface
from commands.core import Core
from commands.parser import parse
from commands.reference import command_reference
from commands.render import render_json
from commands.reply import Reply
from commands.spec import Command, Source, command
from tests.fakes.webhook_receiver import WebhookReceiver

from .conftest import site_a_sessions

CATALOG = default_catalog()


class _Posted:
    """A poster that keeps what it was given (``alerts test`` posts a sample)."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []

    async def post(self, channel: object, reply: Reply, *, key: str | None = None) -> str:
        self.replies.append(reply)
        return str(len(self.replies))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


EXAMPLES = [(cmd.name, example) for cmd in CATALOG for example in cmd.examples]
ADMIN = Caller("U_SCRIPT", name="script", platform_admin=True)
# Digest commands run in a Slack channel: what `exec` needs for them is another matter.
CHANNEL = Surface("slack", channel_id="C_JSON", workspace_id="T_JSON")


def _object_types(schema: Any, seen: set[Any]) -> None:
    """Every TypedDict reachable from ``schema`` (its fields, their items, unions...)."""
    if typing_extensions.is_typeddict(schema):
        if schema in seen:
            return
        seen.add(schema)
        for hint in typing_extensions.get_type_hints(schema, include_extras=True).values():
            _object_types(hint, seen)
        return
    for arg in typing_extensions.get_args(schema):
        _object_types(arg, seen)


@functools.cache
def adapter(schema: Any) -> pydantic.TypeAdapter[Any]:
    """A strict validator for ``schema`` that also refuses keys it does not declare."""
    found: set[Any] = set()
    _object_types(schema, found)
    for typed_dict in found:
        pydantic.with_config(pydantic.ConfigDict(extra="forbid"))(typed_dict)
    return pydantic.TypeAdapter(schema)


def check_data(name: str, data: Any) -> None:
    """``data`` as ``name`` declares it (pydantic's errors name the field otherwise)."""
    cmd = CATALOG.get(name)
    assert cmd is not None, name
    adapter(cmd.data).validate_python(data, strict=True)


@dataclass
class World:
    """A sandbox with something of everything a command example can name."""

    sandbox: SandboxServer
    core: Core
    receiver: WebhookReceiver
    session_id: str
    tag_id: int
    webhook_id: int
    digest_id: int
    visitor_key: str
    rule_id: int = 0
    alert_id: int = 0

    async def run(self, text: str) -> Reply:
        ctx: Context = self.core.context(ADMIN, CHANNEL)
        return await self.core.dispatcher.run_text(text, ctx)

    async def json(self, text: str) -> dict[str, Any]:
        """The reply to ``text`` as `--json` prints it, parsed."""
        return json.loads(render_json(await self.run(text)))

    def invocation(self, cmd: Command, example: str) -> str:
        """``example`` with its ids replaced by ids that exist in this sandbox."""
        args = parse(example, CATALOG).args
        text = example
        for param in cmd.params:
            if param.name not in args:
                continue
            real = self._real(cmd, param.name, param.complete, args[param.name])
            if real is None:
                continue
            word = re.compile(rf"(?<![\w#-])#?{re.escape(str(args[param.name]))}(?![\w-])")
            assert len(word.findall(text)) == 1, f"cannot tell which word of {example!r} to replace"
            text = word.sub(str(real), text)
        return text

    def _real(self, cmd: Command, name: str, source: Source | None, value: Any) -> Any:
        if source is Source.SESSION:
            return self.session_id
        if source is Source.TAG and str(value).isdigit():
            return self.tag_id
        if source is Source.WEBHOOK:
            return self.webhook_id
        if cmd.path[0] == "digest" and name == "id":
            return self.digest_id
        if cmd.path[0] == "alerts" and name == "id":
            return self.alert_id if cmd.path[-1] in ("claim", "release") else self.rule_id
        if name == "visitor_key":
            return self.visitor_key
        return None


@pytest.fixture
async def world(sandbox: SandboxServer, tmp_path: Path) -> AsyncIterator[World]:
    port = _free_port()
    settings = Settings(
        api_url=sandbox.url,
        api_token=Secret(sandbox.tokens.site_a_write),
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        public_url=f"http://127.0.0.1:{port}",
        secret_key=Secret(new_key()),
        port=port,
    )
    database = LazyDatabase(settings.database_url)
    core = build_core(settings, database=database, posters={"slack": _Posted()})
    alert_worker = AlertWorker(database, {})
    inbox = build_inbox(settings, database, wake=alert_worker.wake)
    assert inbox is not None
    web = WebServer(port, host="127.0.0.1")
    receiver_routes(web.app, inbox)
    await web.start()
    async with WebhookReceiver() as receiver:
        sub = await core.api.create_webhook_subscription(
            url=receiver.url, events=["handoff"], label="json test"
        )
        assert sub.id is not None and sub.secret
        receiver.secret = sub.secret
        tags = await core.api.list_tags()
        vip = next(t for t in tags if t.name == "vip")
        sessions = [s for s in site_a_sessions(sandbox) if s in sandbox.state.transcripts]
        visitor = (await core.api.list_visitors(limit=1))[0]
        assert visitor.visitor_key
        world = World(
            sandbox, core, receiver, sessions[0], vip.id or 0, sub.id, 0, visitor.visitor_key
        )
        added = await world.run("digest add feedback --at 07:15 --tz Europe/Berlin")
        assert added.ok and added.data is not None, added.text
        world.digest_id = added.data["digest"]["id"]
        rule = await world.run("alerts add handoff")
        assert rule.ok and rule.data is not None, rule.text
        world.rule_id = rule.data["rule"]["id"]
        await sandbox.emit_event(sandbox.site_a_id, "handoff")
        await alert_worker.run_once()  # routes it: the alert exists (nothing posts here)
        world.alert_id = 1
        try:
            yield world
        finally:
            await web.stop()
            await core.aclose()


@pytest.mark.parametrize(("name", "example"), EXAMPLES, ids=[f"{n}: {e}" for n, e in EXAMPLES])
async def test_every_example_prints_data_that_matches_its_declared_schema(
    world: World, name: str, example: str
) -> None:
    cmd = CATALOG.get(name)
    assert cmd is not None
    text = world.invocation(cmd, example)

    out = await world.json(text)
    again = await world.json(text)  # often the "nothing to do" answer: already tagged...

    assert out["ok"] is True, (text, out)
    assert out["command"] == name
    check_data(name, out["data"])
    assert isinstance(out["title"], str) and isinstance(out["notes"], list)
    if again["ok"]:
        check_data(name, again["data"])
    else:  # e.g. deleting what the first run deleted
        assert set(again["error"]) == {"kind", "code", "message", "request_id"}, again


def test_every_command_has_a_documented_schema() -> None:
    reference = command_reference()
    for cmd in CATALOG:
        assert f"### `{cmd.name}`\n" in reference, f"{cmd.name} has no data section"
    assert "| `assigned_to` | string or null |" in reference
    assert "| `created_utc` | string (ISO 8601 UTC) or null |" in reference
    assert "| `next_run_utc` | string (ISO 8601 UTC) or null |" in reference


def test_a_command_without_a_data_schema_is_refused_when_declared() -> None:
    async def handler(ctx: Context) -> Reply:
        return Reply(title="hi")

    with pytest.raises(TypeError, match="needs data=, a TypedDict"):
        command("hello", help="Say hello.", examples=["hello"])(handler)
    with pytest.raises(TypeError, match="needs data=, a TypedDict"):
        command("hello", help="Say hello.", examples=["hello"], data=dict)(handler)


# -- the values are the API's, not what the screen shows ----------------------------------


async def test_numbers_ids_and_times_are_typed_and_missing_is_null(world: World) -> None:
    usage = (await world.json("usage"))["data"]
    api = await world.core.api.get_usage()
    assert usage["total_replies"] == api.total_replies and isinstance(usage["total_replies"], int)
    assert usage["cycle_replies"] == api.cycle_replies > 1000  # 2322377, not "2,322,377"
    assert api.cycle_start_utc is not None
    assert usage["cycle_start_utc"] == api.cycle_start_utc.isoformat().replace("+00:00", "Z")
    assert isinstance(usage["percent_used"], float) and isinstance(usage["projected_replies"], int)

    handoffs = (await world.json("handoffs --limit 25"))["data"]
    waiting = [h for h in handoffs["handoffs"] if h["assigned_to"] is None]
    assert handoffs["waiting"] == len(waiting) > 0  # null, not "waiting"
    assert all(isinstance(h["id"], int) for h in handoffs["handoffs"])

    tags = (await world.json("tags"))["data"]["tags"]
    assert {"id": world.tag_id, "name": "vip"}.items() <= next(
        t for t in tags if t["name"] == "vip"
    ).items()

    digests = (await world.json("digest list"))["data"]["digests"]
    assert [d["id"] for d in digests] == [world.digest_id]  # an integer, not "#1"
    assert digests[0]["at"] == "07:15" and digests[0]["timezone"] == "Europe/Berlin"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT0[56]:15:00Z", digests[0]["next_run_utc"])


async def test_feedback_average_and_distribution_are_numbers(world: World) -> None:
    data = (await world.json("feedback --limit 200"))["data"]
    rows = [
        f
        for f in world.sandbox.state.feedback
        if world.sandbox.state.sessions.get(f.session_id) == world.sandbox.site_a_id
    ]
    rated = [f.rating for f in rows if f.rating is not None]

    spread = data["distribution"]
    assert set(spread) == {"1", "2", "3", "4", "5"}
    assert sum(spread.values()) == data["count"] == len(rated)
    assert spread["5"] == rated.count(5)
    assert data["average"] == round(sum(rated) / len(rated), 2)
    assert all(1 <= c["rating"] <= 5 and c["comment"] for c in data["comments"])


async def test_a_transcript_carries_its_messages(world: World) -> None:
    data = (await world.json(f"transcript {world.session_id} --last 2"))["data"]
    chat = world.sandbox.state.transcripts[world.session_id]

    transcript = data["transcript"]
    assert transcript["session_id"] == world.session_id
    assert transcript["message_count"] == len(chat.messages)
    assert [m["text"] for m in transcript["messages"]] == [m.text for m in chat.messages[-2:]]
    assert data["messages_not_shown"] == len(chat.messages) - 2


async def test_empty_lists_keep_their_shape(world: World) -> None:
    state = world.sandbox.state
    state.handoffs.clear()
    state.transcripts.clear()
    state.feedback.clear()
    state.starters.clear()
    state.visitors.clear()
    state.webhooks.clear()
    state.tags.clear()
    world.core.site.drop_tags()
    await world.run(f"digest remove {world.digest_id}")

    for text in ("handoffs", "transcripts", "feedback", "starters", "visitors", "webhooks"):
        out = await world.json(text)
        assert out["ok"] is True, out
        check_data(text, out["data"])
    assert (await world.json("tags"))["data"] == {"tags": [], "deleted_not_shown": 0}
    assert (await world.json("digest list"))["data"] == {"digests": []}
    feedback = (await world.json("feedback"))["data"]
    assert feedback["average"] is None and feedback["distribution"]["3"] == 0


async def test_a_feedback_digest_now_is_typed_too(world: World) -> None:
    out = await world.json("digest now feedback")

    assert out["ok"] is True
    check_data("digest now", out["data"])
    digest = out["data"]["feedback"]
    assert out["data"]["kind"] == "feedback" and "usage" not in out["data"]
    assert sum(digest["distribution"].values()) == digest["count"]


# -- secrets: one field, one reply ----------------------------------------------------------


async def test_a_created_or_rotated_secret_is_its_own_field_and_nowhere_else(
    world: World,
) -> None:
    created = render_json(await world.run(f"webhooks add {world.receiver.url} --events feedback"))
    rotated = render_json(await world.run(f"webhooks rotate {world.webhook_id}"))

    for printed in (created, rotated):
        secret = json.loads(printed)["data"]["secret"]
        assert isinstance(secret, str) and len(secret) >= 20
        assert printed.count(secret) == 1, "the secret appears once, as data.secret"
    new_id = json.loads(created)["data"]["webhook"]["id"]
    stored = world.sandbox.state.webhooks[new_id].secret
    assert json.loads(created)["data"]["secret"] == stored
    assert world.receiver.url not in created  # only the receiver's origin
    assert (
        json.loads(created)["data"]["webhook"]["receiver_origin"]
        == world.receiver.url.split("/hook")[0]
    )

    listing = await world.json("webhooks")
    assert "secret" not in json.dumps(listing["data"]).replace("secret_prefix", "")


# -- failures are JSON too, with the exit status --------------------------------------------


async def test_failures_are_an_error_object(world: World) -> None:
    unknown = await world.json("tag s_missing vip")
    assert unknown["ok"] is False and unknown["command"] == "tag"
    error = unknown["error"]
    assert error["kind"] == "api" and error["code"] == "not_found"
    assert error["request_id"].startswith("req_") and "MyLiveChat" in error["message"]

    typo = await world.json("tgas")
    assert typo["ok"] is False and typo["command"] is None
    assert typo["error"]["kind"] == "usage" and "Did you mean `tags`?" in typo["error"]["message"]

    world.receiver.ok_status = 500
    world.receiver.secret = "not-the-secret"  # the receiver refuses the signature: 401
    refused = await world.json(f"webhooks test {world.webhook_id}")
    assert refused["ok"] is False and refused["error"]["code"] == "not_delivered"
    assert refused["data"]["delivered"] is False and refused["data"]["receiver_status"] == 401
    check_data("webhooks test", refused["data"])


# -- through a real `mlc-bot exec` process ----------------------------------------------------


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLC_", "LOG_LEVEL"))}
    env.update(HOME=str(home), PYTHONUNBUFFERED="1", **extra)
    return env


async def _exec(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "exec",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@pytest.fixture
def exec_env(sandbox: SandboxServer, tmp_path: Path) -> dict[str, str]:
    return _env(
        tmp_path,
        MLC_API_URL=sandbox.url,
        MLC_API_TOKEN=sandbox.tokens.site_a_write,
        DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}",
    )


@pytest.mark.parametrize("text", ["usage", "handoffs --limit 3", "tags --all", "whoami"])
async def test_mlc_bot_exec_json_prints_the_typed_data(exec_env: dict[str, str], text: str) -> None:
    status, out, err = await _exec(text, "--json", env=exec_env)

    assert status == 0, err
    printed = json.loads(out)
    name = parse(text, CATALOG).command.name
    assert printed["ok"] is True and printed["command"] == name
    check_data(name, printed["data"])


async def test_mlc_bot_exec_json_failures_keep_their_exit_status(
    exec_env: dict[str, str], tmp_path: Path
) -> None:
    refused = await _exec("tag s_missing vip", "--json", env=exec_env)
    not_understood = await _exec("tgas", "--json", env=exec_env)
    no_token = await _exec("usage", "--json", env=_env(tmp_path))
    no_text = await _exec("--json", env=exec_env)

    for (status, out, err), expected, kind in (
        (refused, 1, "api"),
        (not_understood, 2, "usage"),
        (no_token, 2, "config"),
        (no_text, 2, "usage"),
    ):
        assert status == expected, err
        printed = json.loads(out)  # JSON on stdout, whatever went wrong
        assert printed["ok"] is False and printed["error"]["kind"] == kind, printed
        assert "Traceback" not in err
    assert "MLC_API_TOKEN is not set" in json.loads(no_token[1])["error"]["message"]
    assert json.loads(no_token[1])["error"]["code"] == "config"


async def test_mlc_bot_exec_json_digest_commands_are_json_either_way(
    exec_env: dict[str, str],
) -> None:
    """Digests from `exec` may need `--channel`: either the typed data, or a JSON refusal."""
    for text in ("digest list", "digest now usage"):
        status, out, err = await _exec(text, "--json", env=exec_env)

        printed = json.loads(out)
        name = parse(text, CATALOG).command.name
        if printed["ok"]:
            assert status == 0, err
            check_data(name, printed["data"])
        else:
            assert status in (1, 2) and printed["error"]["message"], printed
