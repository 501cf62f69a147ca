"""handoffs, transcript, transcripts against the sandbox."""

from __future__ import annotations

import re

from bot.sandbox import SandboxServer
from commands.completion import complete
from commands.render import render_text
from commands.reply import Failure

from .conftest import Run, site_a_sessions


async def test_handoffs_lists_newest_first_with_age_and_row_actions(
    run: Run, sandbox: SandboxServer
) -> None:
    reply = await run("handoffs")

    assert reply.ok and reply.table is not None
    assert reply.table.columns == ("session", "visitor", "reason", "agent", "when")
    assert len(reply.table.rows) == 10
    first = reply.table.rows[0]
    assert first.cells[0] == site_a_sessions(sandbox)[0]
    assert re.fullmatch(r"\d+ min ago", first.cells[4])
    labels = [(a.label, a.command, a.pick) for a in first.actions]
    assert labels == [
        ("Transcript", f"transcript {first.cells[0]}", None),
        ("Tag", f"tag {first.cells[0]}", "tag"),
    ]
    assert "waiting for an agent" in reply.text


async def test_handoffs_limit_is_one_request_and_bounded(run: Run, sandbox: SandboxServer) -> None:
    reply = await run("handoffs --limit 3")
    too_many = await run("handoffs --limit 500")

    assert reply.table is not None and len(reply.table.rows) == 3
    assert sandbox.count(method="GET", resource="handoffs") == 1
    assert sandbox.requests[0].query.get("limit") == "3"
    assert too_many.failure is Failure.USAGE
    assert "--limit must be from 1 to 200, not 500" in too_many.text


async def test_handoffs_public_flag_makes_the_reply_visible(run: Run) -> None:
    private = await run("handoffs")
    public = await run("handoffs --public")

    assert private.private is True
    assert public.private is False


async def test_handoffs_seed_session_completion_without_another_call(
    run: Run, sandbox: SandboxServer, make_context, site
) -> None:  # type: ignore[no-untyped-def]
    await run("handoffs --limit 5")
    sandbox.clear_requests()

    choices = await complete("session", make_context(site=site))

    assert [c.value for c in choices] == site_a_sessions(sandbox)[:5]
    assert len(sandbox.requests) == 0


async def test_transcript_shows_roles_authors_and_times(run: Run, session_id: str) -> None:
    reply = await run(f"transcript {session_id}")

    assert reply.ok and reply.title == f"Transcript {session_id}"
    lines = reply.text.splitlines()
    assert lines[0].startswith("Visitor ") and "messages" in lines[0]
    assert re.match(r"^\d\d:\d\d  visitor  .+: .+", lines[2])
    assert any(re.match(r"^\d\d:\d\d  AI       .+: .+", line) for line in lines)
    assert not reply.notes


async def test_long_transcript_is_truncated_with_a_note(run: Run, sandbox: SandboxServer) -> None:
    longest = max(
        (t for t in sandbox.state.transcripts.values() if t.site_id == sandbox.site_a_id),
        key=lambda t: len(t.messages),
    )
    total = len(longest.messages)

    reply = await run(f"transcript {longest.session_id}")
    more = await run(f"transcript {longest.session_id} --last {total}")

    shown = [line for line in reply.text.splitlines()[2:] if line]
    assert len(shown) == 30
    assert longest.messages[-1].text[:40] in shown[-1]
    assert reply.notes == (
        f"{total - 30} earlier messages not shown; "
        f"`transcript {longest.session_id} --last {total}` shows more.",
    )
    assert len([line for line in more.text.splitlines()[2:] if line]) == total
    assert not more.notes


async def test_transcript_of_unknown_session_is_a_friendly_error(run: Run) -> None:
    reply = await run("transcript s_nothere")

    assert reply.failure is Failure.INPUT and reply.exit_status == 1
    assert "There is no chat session `s_nothere` on this site." in reply.text


async def test_transcript_of_another_sites_session_is_not_shown(
    run: Run, sandbox: SandboxServer
) -> None:
    other = next(h for h in sandbox.state.handoffs if h.site_id == sandbox.site_b_id)

    reply = await run(f"transcript {other.session_id}")

    assert reply.failure is Failure.INPUT


async def test_transcript_without_session_shows_usage(run: Run) -> None:
    reply = await run("transcript")

    assert reply.failure is Failure.USAGE
    assert "Example: `transcript s_8f2a91c0d4e1`" in reply.text


async def test_transcripts_lists_recent_sessions_with_actions(
    run: Run, sandbox: SandboxServer
) -> None:
    reply = await run("transcripts --limit 4")

    assert reply.ok and reply.table is not None and len(reply.table.rows) == 4
    row = reply.table.rows[0]
    assert row.cells[4] in ("open", "ended")
    assert row.actions[0].command == f"transcript {row.cells[0]}"
    assert sandbox.count(method="GET", resource="transcripts") == 1
    assert "→ Transcript: transcript" in render_text(reply)


async def test_text_shows_a_pick_action_with_what_is_picked(run: Run) -> None:
    text = render_text(await run("handoffs"))

    tag_line = next(line for line in text.splitlines() if line.startswith("→ Tag: "))
    assert re.fullmatch(r"→ Tag: tag s_\w+ <tag>", tag_line)


async def test_handoffs_waiting_shows_only_the_unassigned_ones(
    run: Run, sandbox: SandboxServer
) -> None:
    seeded = [h for h in sandbox.state.handoffs if h.site_id == sandbox.site_a_id]
    unassigned = {h.session_id for h in seeded if not h.assigned_to}
    assert 0 < len(unassigned) < len(seeded)

    reply = await run("handoffs --waiting")

    assert reply.ok and reply.title == "Handoffs waiting for an agent"
    assert reply.table is not None
    assert {row.cells[0] for row in reply.table.rows} == unassigned
    assert all(row.cells[3] == "waiting" for row in reply.table.rows)
    assert reply.text.startswith(f"{len(unassigned)} handoffs waiting for an agent among")
    assert sandbox.count(resource="handoffs") == 1


async def test_handoffs_waiting_says_so_when_every_one_has_an_agent(
    run: Run, sandbox: SandboxServer
) -> None:
    for handoff in sandbox.state.handoffs:
        handoff.assigned_to = handoff.assigned_to or "Maya"

    reply = await run("handoffs --waiting")

    assert reply.ok and reply.title == "No handoffs waiting" and reply.table is None


async def test_transcripts_show_visitor_names_as_handoffs_do(
    run: Run, sandbox: SandboxServer
) -> None:
    handoffs = await run("handoffs --limit 200")
    transcripts = await run("transcripts --limit 200")

    assert handoffs.table is not None and transcripts.table is not None
    by_session = {row.cells[0]: row.cells[1] for row in handoffs.table.rows}
    listed = {row.cells[0]: row.cells[1] for row in transcripts.table.rows}
    both = set(by_session) & set(listed)
    assert len(both) > 5
    assert {s: listed[s] for s in both} == {s: by_session[s] for s in both}
    named = [h for h in sandbox.state.handoffs if h.visitor_name and h.session_id in both]
    assert named, "the seed names some of them"


async def test_a_transcript_names_its_visitor(run: Run, sandbox: SandboxServer) -> None:
    handoff = next(
        h for h in sandbox.state.handoffs if h.site_id == sandbox.site_a_id and h.visitor_name
    )

    reply = await run(f"transcript {handoff.session_id}")

    assert reply.text.startswith(f"Visitor {handoff.visitor_name} ({handoff.visitor_key}) · ")
