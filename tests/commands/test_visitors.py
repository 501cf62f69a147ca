"""visitors, visitor set, visitor event against the sandbox."""

from __future__ import annotations

from bot.sandbox import SandboxServer
from commands.reply import Failure

from .conftest import Run, writes_sent


async def test_visitors_lists_recent_visitors(run: Run, sandbox: SandboxServer) -> None:
    reply = await run("visitors --limit 5")

    assert reply.ok and reply.table is not None and len(reply.table.rows) == 5
    assert reply.table.columns == ("key", "name", "email", "plan", "last seen", "events")
    assert sandbox.requests[-1].query.get("limit") == "5"


async def test_visitor_set_creates_then_updates_with_typed_attributes(
    run: Run, sandbox: SandboxServer
) -> None:
    created = await run("visitor set u-777 --email jane@acme.com --name Jane Doe --attr seats=12")
    updated = await run("visitor set u-777 --plan pro --attr company=Acme --attr vip=true")

    assert created.ok and created.title == "Created visitor u-777"
    assert updated.ok and updated.title == "Updated visitor u-777"
    stored = sandbox.state.visitors[(sandbox.site_a_id, "u-777")]
    assert (stored.name, stored.email, stored.plan) == ("Jane Doe", "jane@acme.com", "pro")
    assert stored.attributes == {"seats": 12, "company": "Acme", "vip": True}


async def test_visitor_set_with_the_values_it_has_changes_nothing(
    run: Run, sandbox: SandboxServer
) -> None:
    await run("visitor set u-777 --email jane@acme.com --plan pro --attr seats=12 --attr vip=true")

    same = await run("visitor set u-777 --email JANE@acme.com --plan pro --attr seats=12")
    typed = await run("visitor set u-777 --attr vip=1")  # 1 is not true

    assert same.ok and same.title == "Nothing to change"
    assert same.text == (
        "Visitor `u-777` already has the email, plan, attribute seats asked for. Nothing changed."
    )
    assert sandbox.count(method="POST", resource="visitors") == 2
    assert typed.ok and typed.title == "Updated visitor u-777"


async def test_visitor_set_needs_a_field(run: Run, sandbox: SandboxServer) -> None:
    reply = await run("visitor set u-777")

    assert reply.failure is Failure.USAGE
    assert "--email, --name, --plan or --attr" in reply.text
    assert writes_sent(sandbox) == 0


async def test_visitor_set_checks_email_and_attribute_shape_before_sending(
    run: Run, sandbox: SandboxServer
) -> None:
    bad_email = await run("visitor set u-1 --email not-an-email")
    bad_attr = await run("visitor set u-1 --attr seats")

    assert bad_email.failure is Failure.USAGE and "jane@acme.com" in bad_email.text
    assert bad_attr.failure is Failure.USAGE and "key=value pairs" in bad_attr.text
    assert writes_sent(sandbox) == 0


async def test_visitor_event_counts_up_with_properties(run: Run, sandbox: SandboxServer) -> None:
    key = next(
        v.visitor_key
        for (site, _), v in sandbox.state.visitors.items()
        if site == sandbox.site_a_id
    )
    before = sandbox.state.visitors[(sandbox.site_a_id, key)].event_count

    reply = await run(f"visitor event {key} upgraded plan=pro seats=3")

    assert reply.ok and reply.title == "Recorded upgraded"
    assert f"now has {before + 1:,} events" in reply.text
    last = sandbox.state.visitor_events[-1]
    assert last["properties"] == {"plan": "pro", "seats": 3}


async def test_visitor_event_for_unknown_visitor_is_an_api_error(run: Run) -> None:
    reply = await run("visitor event nobody signed-up")

    assert reply.failure is Failure.API and reply.error_code == "not_found"
    assert reply.request_id


async def test_visitor_group_alone_lists_its_subcommands(run: Run) -> None:
    bare = await run("visitor")
    near = await run("visitor sett u-1 --name X")

    assert bare.failure is Failure.USAGE and "`visitor` needs a subcommand: set, event" in bare.text
    assert near.failure is Failure.USAGE and "Did you mean `set`?" in near.text
