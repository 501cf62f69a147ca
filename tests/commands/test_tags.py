"""tag, untag and the tags group against the sandbox."""

from __future__ import annotations

from bot.mylivechat import MyLiveChatClient
from bot.sandbox import SandboxServer
from commands.render import render_text
from commands.reply import Failure, Kind

from .conftest import Run, writes_sent


async def test_tag_by_name_applies_it_and_says_so(
    run: Run, sandbox: SandboxServer, session_id: str
) -> None:
    reply = await run(f"tag {session_id} VIP")

    assert reply.ok and reply.kind is Kind.SUCCESS
    assert f"Session `{session_id}` is now tagged `vip`" in reply.text
    assert (sandbox.site_a_id, session_id, 41) in sandbox.state.tag_applications
    assert reply.actions[0].command == f"untag {session_id} 41"


async def test_tag_by_id_works_too(run: Run, sandbox: SandboxServer, session_id: str) -> None:
    reply = await run(f"tag {session_id} 42")

    assert reply.ok and "`billing`" in reply.text
    assert (sandbox.site_a_id, session_id, 42) in sandbox.state.tag_applications


async def test_second_tag_costs_exactly_one_request(
    run: Run, sandbox: SandboxServer, session_id: str
) -> None:
    await run(f"tag {session_id} vip")
    sandbox.clear_requests()

    reply = await run(f"tag {session_id} billing")

    assert reply.ok
    assert len(sandbox.requests) == 1
    assert sandbox.count(method="POST", resource="apply_tag") == 1


async def test_tagging_twice_says_already_tagged(run: Run, session_id: str) -> None:
    await run(f"tag {session_id} vip")

    reply = await run(f"tag {session_id} vip")

    assert reply.ok and reply.title == "Already tagged"


async def test_unknown_tag_suggests_near_names_and_how_to_create_it(
    run: Run, sandbox: SandboxServer, session_id: str
) -> None:
    reply = await run(f"tag {session_id} biling")

    assert reply.failure is Failure.INPUT
    assert "There is no tag `biling`" in reply.text
    assert "Did you mean `billing`?" in reply.text
    assert "`tags add biling`" in reply.text
    assert writes_sent(sandbox) == 0


async def test_unknown_tag_refreshes_the_cached_list_once(
    run: Run, api: MyLiveChatClient, sandbox: SandboxServer, session_id: str
) -> None:
    await run(f"tag {session_id} vip")  # warms the cache
    await api.create_tag("made-elsewhere")  # e.g. in the MyLiveChat dashboard
    sandbox.clear_requests()

    reply = await run(f"tag {session_id} made-elsewhere")

    assert reply.ok
    assert sandbox.count(method="GET", resource="tags") == 1


async def test_deleted_tag_cannot_be_applied(
    run: Run, sandbox: SandboxServer, session_id: str
) -> None:
    reply = await run(f"tag {session_id} legacy-promo")

    assert reply.failure is Failure.INPUT
    assert "was deleted" in reply.text and "`tags add legacy-promo`" in reply.text
    assert writes_sent(sandbox) == 0


async def test_swapped_arguments_get_a_usage_hint(run: Run, sandbox: SandboxServer) -> None:
    reply = await run("tag vip s_0000")

    assert reply.failure is Failure.USAGE
    assert "`vip` is a tag, not a session id" in reply.text
    assert "Usage: `tag <session_id> <tag ...>`" in reply.text
    assert writes_sent(sandbox) == 0


async def test_an_unknown_session_gets_the_message_transcript_gives(run: Run) -> None:
    transcript = await run("transcript s_doesnotexist")

    for text in ("tag s_doesnotexist vip", "untag s_doesnotexist vip", "tag s_doesnotexist 42 bug"):
        reply = await run(text)
        assert reply.exit_status == 1, text
        # The same words, and as MyLiveChat refused it, its code and request id.
        assert reply.text.startswith(transcript.text), text
        assert reply.failure is Failure.API and reply.error_code == "not_found", text
        assert reply.request_id and reply.request_id in render_text(reply), text
    assert "There is no chat session `s_doesnotexist` on this site." in transcript.text
    assert "`handoffs` and `transcripts` list recent sessions" in transcript.text


async def test_untag_removes_and_reports_when_nothing_was_there(
    run: Run, sandbox: SandboxServer, session_id: str
) -> None:
    await run(f"tag {session_id} bug")

    removed = await run(f"untag {session_id} bug")
    again = await run(f"untag {session_id} bug")

    assert removed.ok and removed.title == "Tag removed"
    assert (sandbox.site_a_id, session_id, 43) not in sandbox.state.tag_applications
    assert again.ok and again.title == "Not tagged" and again.kind is Kind.INFO
    assert again.text == f"Session `{session_id}` does not have `bug`. Nothing changed."


async def test_tag_without_arguments_shows_usage_and_example(run: Run) -> None:
    reply = await run("tag")

    assert reply.failure is Failure.USAGE and reply.exit_status == 2
    assert "`tag` needs <session_id>" in reply.text
    assert "Example: `tag s_8f2a91c0d4e1 vip`" in reply.text


async def test_tags_lists_enabled_tags_and_counts_the_deleted(run: Run) -> None:
    reply = await run("tags")

    assert reply.ok and reply.table is not None
    names = [row.cells[1] for row in reply.table.rows]
    assert names[:2] == ["vip", "billing"] and "legacy-promo" not in names
    assert any("1 deleted tag not shown" in n for n in reply.notes)


async def test_tags_all_and_the_list_alias_include_deleted_tags(run: Run) -> None:
    reply = await run("tags list --all")

    assert reply.table is not None
    assert "legacy-promo  [deleted]" in [row.cells[1] for row in reply.table.rows]


async def test_tags_add_creates_with_colour_and_description(
    run: Run, sandbox: SandboxServer
) -> None:
    reply = await run("tags add high value --color 16A34A --description Big accounts")

    assert reply.ok and reply.title == "Created tag high value"
    created = next(t for t in sandbox.state.tags.values() if t.name == "high value")
    assert (created.color, created.description) == ("#16a34a", "Big accounts")


async def test_tags_add_existing_name_keeps_it_as_it_was(run: Run, sandbox: SandboxServer) -> None:
    reply = await run("tags add vip --color #000000")

    assert reply.ok and reply.title == "Tag already exists"
    assert reply.text == "The tag `vip` (id 41) already exists: it can be applied. Nothing changed."
    assert any("change them with `tags edit`" in n for n in reply.notes)
    assert sandbox.state.tags[41].color == "#7c3aed"


async def test_deleted_tag_comes_back_with_tags_add_as_the_hint_says(
    run: Run, session_id: str
) -> None:
    refused = await run(f"tag {session_id} legacy-promo")
    restored = await run("tags add legacy-promo")
    tagged = await run(f"tag {session_id} legacy-promo")

    assert "`tags add legacy-promo`" in refused.text
    assert restored.ok and restored.title == "Restored tag legacy-promo"
    assert "was deleted; adding it again brought it back" in restored.text
    assert tagged.ok


async def test_tags_add_drops_the_cached_list_so_the_new_tag_is_usable(
    run: Run, sandbox: SandboxServer, session_id: str
) -> None:
    await run("tags")  # cache warm
    await run("tags add escalated")
    sandbox.clear_requests()

    reply = await run(f"tag {session_id} escalated")

    assert reply.ok
    assert sandbox.count(method="GET", resource="tags") == 1


async def test_bad_colour_is_a_usage_error_without_a_request(
    run: Run, sandbox: SandboxServer
) -> None:
    reply = await run("tags add urgent --color purple")

    assert reply.failure is Failure.USAGE
    assert "--color must be a colour like #7c3aed" in reply.text
    assert writes_sent(sandbox) == 0


async def test_tags_edit_renames_and_recolours(run: Run, sandbox: SandboxServer) -> None:
    reply = await run("tags edit vip --name high-value --color #16a34a")

    assert reply.ok and reply.title == "Updated tag high-value"
    assert (sandbox.state.tags[41].name, sandbox.state.tags[41].color) == (
        "high-value",
        "#16a34a",
    )


async def test_tags_edit_onto_an_existing_name_is_refused_without_a_request(
    run: Run, sandbox: SandboxServer
) -> None:
    reply = await run("tags edit vip --name Billing")

    assert reply.failure is Failure.INPUT
    assert "already a tag called `billing`" in reply.text
    assert sandbox.count(method="PATCH") == 0


async def test_tags_edit_duplicate_name_from_the_api_is_explained(
    run: Run, api: MyLiveChatClient, sandbox: SandboxServer
) -> None:
    await run("tags")  # the cached list does not know the next tag yet
    await api.create_tag("gold")

    reply = await run("tags edit vip --name gold")

    assert reply.failure is Failure.API and reply.error_code == "duplicate_name"
    assert "clashes with something that exists" in reply.text and reply.request_id
    assert sandbox.state.tags[41].name == "vip"


async def test_tags_edit_needs_something_to_change(run: Run, sandbox: SandboxServer) -> None:
    reply = await run("tags edit vip")

    assert reply.failure is Failure.USAGE and "--name, --color or --description" in reply.text
    assert sandbox.count(resource="tags") == 0


async def test_tags_edit_of_another_sites_tag_id_is_not_found(
    run: Run, sandbox: SandboxServer
) -> None:
    reply = await run("tags edit 49 --name mine")  # 49 is site B's "wholesale"

    assert reply.failure is Failure.INPUT and "There is no tag `49`" in reply.text
    assert sandbox.state.tags[49].name == "wholesale"
    assert writes_sent(sandbox) == 0


async def test_tags_delete_soft_deletes(run: Run, sandbox: SandboxServer) -> None:
    reply = await run("tags delete bug")
    again = await run("tags delete bug")

    assert reply.ok and reply.title == "Deleted tag bug"
    assert sandbox.state.tags[43].enabled is False
    assert again.ok and again.title == "Already deleted"
    assert sandbox.count(method="DELETE", resource="tags") == 1


async def test_tags_near_miss_subcommand_gets_did_you_mean(run: Run) -> None:
    reply = await run("tags ad vip")

    assert reply.failure is Failure.USAGE
    assert "`tags` has no subcommand `ad`. Did you mean `add`?" in reply.text


async def test_tag_deleted_elsewhere_refreshes_the_list_after_the_api_refuses(
    run: Run, api: MyLiveChatClient, session_id: str
) -> None:
    await run("tags")  # cached while vip is enabled
    await api.delete_tag(41)  # someone deletes it in the dashboard

    refused_by_api = await run(f"tag {session_id} vip")
    explained = await run(f"tag {session_id} vip")

    assert refused_by_api.failure is Failure.API and refused_by_api.request_id
    assert explained.failure is Failure.INPUT and "was deleted" in explained.text


async def test_tags_add_keeps_backslashes_in_what_is_saved(
    run: Run, sandbox: SandboxServer
) -> None:
    reply = await run(r"tags add win --description C:\temp\new")

    assert reply.ok
    created = next(t for t in sandbox.state.tags.values() if t.name == "win")
    assert created.description == "C:\\temp\\new"


async def test_several_tags_are_applied_one_call_each_with_the_list_cached(
    run: Run, sandbox: SandboxServer, session_id: str
) -> None:
    await run("tags")  # the tag list is cached
    sandbox.clear_requests()

    reply = await run(f"tag {session_id} vip bug")

    assert reply.ok and reply.title == "Tagged"
    assert reply.text == f"Session `{session_id}` is now tagged `vip` and `bug`."
    assert {(sandbox.site_a_id, session_id, 41), (sandbox.site_a_id, session_id, 43)} <= (
        sandbox.state.tag_applications
    )
    calls = [(r.method, r.resource) for r in sandbox.requests if r.resource != "whoami"]
    assert calls == [("POST", "apply_tag")] * 2  # no GET tags: the list was cached
    assert reply.actions[0].command == f"untag {session_id} 41 43"

    undone = await run(reply.actions[0].command)
    assert undone.ok and undone.title == "Tags removed"
    assert undone.text == f"Session `{session_id}` no longer has `vip` and `bug`."
    assert sandbox.count(method="DELETE", resource="apply_tag") == 2


async def test_several_tags_say_which_were_there_already(
    run: Run, sandbox: SandboxServer, session_id: str
) -> None:
    await run(f"tag {session_id} bug")

    mixed = await run(f"tag {session_id} vip bug")
    again = await run(f"tag {session_id} bug vip 41")

    assert mixed.ok and mixed.text == (
        f"Session `{session_id}` is now tagged `vip`; it already had `bug`."
    )
    assert mixed.actions[0].command == f"untag {session_id} 41"
    assert again.ok and again.title == "Already tagged" and again.kind is Kind.INFO
    assert again.text == f"Session `{session_id}` already has `bug` and `vip`. Nothing changed."


async def test_a_tag_name_with_spaces_is_taken_whole(
    run: Run, sandbox: SandboxServer, session_id: str
) -> None:
    await run("tags add high value")
    tag_id = next(t.id for t in sandbox.state.tags.values() if t.name == "high value")

    reply = await run(f"tag {session_id} high value vip")

    assert reply.ok and "`high value` and `vip`" in reply.text
    assert (sandbox.site_a_id, session_id, tag_id) in sandbox.state.tag_applications


async def test_one_unknown_tag_among_several_changes_nothing(
    run: Run, sandbox: SandboxServer, session_id: str
) -> None:
    reply = await run(f"tag {session_id} vip biling")

    assert reply.failure is Failure.INPUT
    assert "There is no tag `biling`" in reply.text and "Did you mean `billing`?" in reply.text
    assert writes_sent(sandbox) == 0


async def test_a_failure_after_some_tags_says_exactly_what_was_done(
    run: Run, sandbox: SandboxServer, session_id: str
) -> None:
    await run("tags")  # cached while bug is enabled
    sandbox.state.tags[43].enabled = False  # then bug is deleted in the dashboard

    reply = await run(f"tag {session_id} vip bug billing")

    assert reply.failure is Failure.API and reply.request_id
    assert reply.text.splitlines() == [
        f"Session `{session_id}` is now tagged `vip`.",
        "`bug` was not applied: MyLiveChat did not accept the request: "
        "tag 43 is disabled; re-enable it before applying it",
        "Not tried: `billing`.",
    ]
    assert reply.actions[0].command == f"untag {session_id} 41"
    applied = {t for (site, s, t) in sandbox.state.tag_applications if s == session_id}
    assert applied == {41}


async def test_tags_edit_with_the_values_it_has_changes_nothing(
    run: Run, sandbox: SandboxServer
) -> None:
    reply = await run("tags edit vip --color #7C3AED --description Priority customer")

    assert reply.ok and reply.title == "Nothing to change"
    assert reply.text == (
        "The tag vip (id 41) already has the colour, description asked for. Nothing changed."
    )
    assert writes_sent(sandbox) == 0
