"""Who may run what, and the read-only token path (refused without a write request)."""

from __future__ import annotations

import pytest

from bot.mylivechat import MyLiveChatClient
from bot.sandbox import SandboxServer
from commands.cache import SiteCache
from commands.catalog import default_catalog
from commands.context import Policy
from commands.failures import READ_ONLY_HELP
from commands.reply import Failure
from commands.spec import Command, Permission

from .conftest import Run, writes_sent

# The areas this suite covers (digests have their own tests).
AREAS = {
    f"commands.builtin.{m}"
    for m in ("meta", "tags", "conversations", "insights", "visitors", "webhooks", "notify")
}


def _ours() -> list[Command]:
    return [c for c in default_catalog() if c.handler.__module__ in AREAS]


# One runnable text per write command (values valid enough to pass the parser).
WRITE_TEXTS = {
    "tag": "tag s_1 vip",
    "untag": "untag s_1 vip",
    "tags add": "tags add urgent",
    "tags edit": "tags edit vip --color #000000",
    "tags delete": "tags delete vip",
    "visitor set": "visitor set u-1 --plan pro",
    "visitor event": "visitor event u-1 upgraded",
    "webhooks add": "webhooks add https://example.com/h --events handoff",
    "webhooks edit": "webhooks edit 1 --label x",
    "webhooks delete": "webhooks delete 1",
    "webhooks rotate": "webhooks rotate 1",
    "webhooks test": "webhooks test 1",
    "notify set": "notify slack set https://hooks.slack.com/services/T/B/X",
    "notify events": "notify slack events handoff",
    "notify off": "notify slack off",
}


def test_every_write_command_is_covered_here() -> None:
    declared = {c.name for c in _ours() if c.writes}
    assert declared == set(WRITE_TEXTS)


def test_permissions_follow_the_issue() -> None:
    catalog = default_catalog()
    assert catalog.get("tag").permission is Permission.READ  # type: ignore[union-attr]
    assert catalog.get("untag").permission is Permission.READ  # type: ignore[union-attr]
    for name in ("tags add", "tags edit", "tags delete", "visitor set", "visitor event"):
        assert catalog.get(name).permission is Permission.MEMBER_WRITE, name  # type: ignore[union-attr]
    for cmd in _ours():
        if cmd.path[0] in ("webhooks", "notify") and cmd.writes:
            assert cmd.permission is Permission.ADMIN, cmd.name
        if not cmd.writes:
            assert cmd.permission is Permission.READ, cmd.name


@pytest.mark.parametrize(
    "name", sorted(n for n in WRITE_TEXTS if n.split()[0] in ("webhooks", "notify"))
)
async def test_non_admins_are_refused_admin_commands(
    run: Run, sandbox: SandboxServer, name: str
) -> None:
    reply = await run(WRITE_TEXTS[name], user_id="U_MEMBER", admin=False)

    assert reply.failure is Failure.DENIED and reply.exit_status == 1
    assert f"`{name}` is for admins" in reply.text and "MLC_BOT_ADMINS" in reply.text
    assert len(sandbox.requests) == 0


async def test_admins_by_configuration_may_run_admin_commands(run: Run) -> None:
    reply = await run(
        "notify slack events handoff",
        user_id="U_LEAD",
        admin=False,
        policy=Policy(admins=frozenset({"U_LEAD"})),
    )

    assert reply.ok


async def test_guests_are_refused_member_writes_but_may_tag(
    run: Run, sandbox: SandboxServer, session_id: str
) -> None:
    refused = await run("tags add urgent", user_id="U_GUEST", admin=False, guest=True)
    tagged = await run(f"tag {session_id} vip", user_id="U_GUEST", admin=False, guest=True)

    assert refused.failure is Failure.DENIED and "for team members" in refused.text
    assert tagged.ok
    assert sandbox.count(method="POST", resource="tags") == 0


async def test_configured_members_list_limits_member_writes(run: Run) -> None:
    policy = Policy(members=frozenset({"U_IN"}))

    allowed = await run("visitor set u-9 --plan pro", user_id="U_IN", admin=False, policy=policy)
    refused = await run("visitor set u-9 --plan pro", user_id="U_OUT", admin=False, policy=policy)

    assert allowed.ok
    assert refused.failure is Failure.DENIED and "MLC_BOT_MEMBERS" in refused.text


@pytest.mark.parametrize("name", sorted(WRITE_TEXTS))
async def test_read_only_token_refuses_writes_without_sending_one(
    run: Run, readonly_api: MyLiveChatClient, sandbox: SandboxServer, name: str
) -> None:
    reply = await run(WRITE_TEXTS[name], client=readonly_api)

    assert reply.failure is Failure.DENIED
    assert "read-only" in reply.text and "MLC_API_TOKEN" in reply.text
    assert writes_sent(sandbox) == 0


async def test_read_only_token_costs_one_whoami_for_many_refusals(
    run: Run, readonly_api: MyLiveChatClient, sandbox: SandboxServer
) -> None:
    for text in ("tags add a", "tags add b", "tag s_1 vip"):
        await run(text, client=readonly_api)

    assert len(sandbox.requests) == 1
    assert sandbox.count(resource="whoami") == 1


async def test_read_only_token_still_reads(run: Run, readonly_api: MyLiveChatClient) -> None:
    reply = await run("tags", client=readonly_api)

    assert reply.ok


async def test_forbidden_scope_from_the_api_is_explained_the_same_way(
    run: Run, api: MyLiveChatClient, readonly_api: MyLiveChatClient, sandbox: SandboxServer
) -> None:
    stale = SiteCache()
    await stale.whoami(api)  # believes the token can write (e.g. scopes changed since)

    reply = await run("tags add urgent", client=readonly_api, site=stale)

    assert reply.failure is Failure.DENIED and reply.error_code == "forbidden_scope"
    assert READ_ONLY_HELP in reply.text and reply.request_id
    assert sandbox.count(method="POST", resource="tags") == 1  # the one the API refused
