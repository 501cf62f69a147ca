"""Block Kit rendering: what each part of a reply looks like, and Slack's limits kept."""

from __future__ import annotations

import re

from adapters.slack.blocks import render_blocks, render_message
from commands.reply import Action, Choice, Failure, Field, Kind, Picker, Progress, Reply, Row, Table
from tests.slack.views import buttons_of, check_limits, selects_of, text_of


def test_header_text_fields_and_usage_bar() -> None:
    reply = Reply(
        title="AI usage: pro plan",
        text="1,200 of 2,000 included replies used (60%).",
        progress=Progress(1200, 2000, label="This cycle"),
        fields=(Field("Plan", "pro"), Field("Cycle", "1 May to 31 May", inline=False)),
        kind=Kind.WARNING,
    )
    blocks = render_blocks(reply)
    check_limits(blocks)
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": ":warning: AI usage: pro plan", "emoji": True},
    }
    text = text_of(blocks)
    assert "1,200 of 2,000 included replies used (60%)." in text
    assert "`████████████░░░░░░░░` 60% (1,200 of 2,000)" in text
    assert "*Plan*\npro" in text and "*Cycle*\n1 May to 31 May" in text


def test_many_fields_are_split_ten_to_a_section() -> None:
    fields = tuple(Field(f"name {i}", f"value {i}") for i in range(23))
    blocks = render_blocks(Reply(title="Lots", fields=fields))
    check_limits(blocks)
    sections = [b for b in blocks if "fields" in b]
    assert [len(s["fields"]) for s in sections] == [10, 10, 3]
    assert "value 22" in text_of(blocks)


def test_error_shows_its_code_and_request_id_in_a_context_line() -> None:
    reply = Reply(
        title="MyLiveChat error",
        text="MyLiveChat had an internal error.\nTry again shortly.",
        kind=Kind.ERROR,
        failure=Failure.API,
        request_id="req_7f3a",
        error_code="internal_error",
    )
    message = render_message(reply)
    assert message["blocks"][-1] == {
        "type": "context",
        "elements": [
            {
                "type": "mrkdwn",
                "text": "Error `internal_error` · Request id `req_7f3a`",
                "verbatim": True,
            }
        ],
    }
    assert message["blocks"][0]["text"]["text"].startswith(":x: ")
    assert message["text"] == (
        "MyLiveChat error: MyLiveChat had an internal error. (request id req_7f3a)"
    )


def test_table_is_monospaced_and_markup_in_data_is_escaped() -> None:
    table = Table.of(["name", "note"], [["vip", "<b>big</b> & co"], ["churn-risk", "watch"]])
    blocks = render_blocks(Reply(title="Tags", table=table))
    check_limits(blocks)
    code = blocks[1]["text"]["text"]
    assert code.startswith("```\n") and code.endswith("\n```")
    assert "&lt;b&gt;big&lt;/b&gt; &amp; co" in code
    lines = code.splitlines()
    assert lines[1].split() == ["name", "note"]
    assert lines[3].startswith("vip ") and lines[4].startswith("churn-risk")


def test_a_long_table_is_cut_to_fit_and_says_how_much_was_left_out() -> None:
    rows = [[f"s_{i:04d}", "visitor " + "x" * 40, "reason " * 5] for i in range(3000)]
    blocks = render_blocks(Reply(title="Transcripts", table=Table.of(["a", "b", "c"], rows)))
    check_limits(blocks)
    shown = sum(b["text"]["text"].count("\ns_") for b in blocks if b["type"] == "section")
    note = text_of(blocks[-1:])
    match = re.search(r"Showing (\d+) of 3000 rows; (\d+) left out", note)
    assert match, note
    assert int(match.group(1)) == shown and shown + int(match.group(2)) == 3000
    assert "s_0000" in text_of(blocks) and f"s_{shown - 1:04d}" in text_of(blocks)
    assert f"s_{shown:04d}" not in text_of(blocks)
    assert "`--limit`" in note


def test_rows_with_actions_get_buttons_and_the_cut_keeps_pairs_whole() -> None:
    rows = tuple(
        Row(
            (f"s_{i}", f"Visitor {i}", "billing"),
            (Action("Transcript", f"transcript s_{i}"), Action("Tag", f"tag s_{i}", pick="tag")),
        )
        for i in range(40)
    )
    reply = Reply(title="Recent handoffs", table=Table(("session", "visitor", "reason"), rows))
    blocks = render_blocks(reply)
    check_limits(blocks)
    buttons = buttons_of(blocks)
    assert buttons["Transcript"]["value"] == "transcript s_0"
    assert buttons["Transcript"]["action_id"].startswith("mlc.run.")
    assert buttons["Tag"]["value"] == "tag s_0"
    assert buttons["Tag"]["action_id"].startswith("mlc.pick.tag.")
    shown = sum(1 for label in buttons if label.startswith("Transcript"))
    assert shown == sum(1 for label in buttons if label.startswith("Tag"))
    assert f"Showing {shown} of 40 rows; {40 - shown} left out" in text_of(blocks[-1:])
    assert "`s_0` · Visitor 0 · billing" in text_of(blocks)


def test_text_too_long_for_one_message_is_cut_with_an_exact_count() -> None:
    line = "y" * 2999
    blocks = render_blocks(Reply(title="Transcript", text="\n".join([line] * 100)))
    check_limits(blocks)
    kept = sum(1 for b in blocks if b["type"] == "section")
    assert len(blocks) == 50
    left_out = (100 - kept) * 2999
    assert f"{left_out:,} characters of text left out" in text_of(blocks[-1:])


def test_asked_by_line_and_reply_buttons() -> None:
    reply = Reply(
        title="Tagged",
        kind=Kind.SUCCESS,
        actions=(Action("Undo", "untag s_1 42", style="danger"),),
        notes=("Tip: `tags` lists them.",),
    )
    blocks = render_blocks(reply, asked_by="U123")
    check_limits(blocks)
    assert blocks[0]["text"]["text"] == ":white_check_mark: Tagged"
    undo = buttons_of(blocks)["Undo"]
    assert undo["style"] == "danger" and undo["value"] == "untag s_1 42"
    assert text_of(blocks[-2:]) == "Tip: `tags` lists them.\nAsked by <@U123>"


def _picker(command: str, source: str, choices: list[tuple[str, str]]) -> Reply:
    found = tuple(Choice(label, value) for label, value in choices)
    return Reply(text=f"Choose a {source} for `{command}`:", picker=Picker(command, source, found))


def test_picker_offers_the_choices_and_carries_the_command() -> None:
    message = render_message(
        _picker("tag s_1", "tag", [("vip · Priority", "vip"), ("churn-risk", "churn-risk")])
    )
    check_limits(message["blocks"])
    (select,) = selects_of(message["blocks"])
    assert select["action_id"] == "mlc.choose"
    assert select["_block_id"] == "mlc.choose:tag s_1"
    assert [o["value"] for o in select["options"]] == ["vip", "churn-risk"]
    assert "Choose a tag for `tag s_1`" in text_of(message["blocks"])


def test_picker_with_more_than_a_hundred_choices_says_how_to_use_the_rest() -> None:
    choices = [(f"tag-{i}", f"tag-{i}") for i in range(130)]
    blocks = render_message(_picker("tag s_1", "tag", choices))["blocks"]
    check_limits(blocks)
    assert len(selects_of(blocks)[0]["options"]) == 100
    assert "100 of 130 shown. For another, type `/mlc tag s_1 &lt;tag&gt;`." in text_of(blocks)
