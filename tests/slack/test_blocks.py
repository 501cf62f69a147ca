"""Block Kit rendering: what each part of a reply looks like, and Slack's limits kept."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.slack.blocks import render_blocks, render_message
from commands.markup import channel_ref, data
from commands.reply import Action, Choice, Failure, Field, Kind, Picker, Progress, Reply, Row, Table
from tests.inert import ALL_IN_ONE, HOSTILE, mrkdwn_texts, slack_constructs, slack_findings
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


# --- text that is not the bot's: inert wherever it sits --------------------------------------


def _hostile_replies(h: str) -> list[tuple[str, Reply, set[str]]]:
    """(where, reply, construct kinds the bot itself wraps around the text there)."""
    row = Row(("s_1", h, h), (Action("Transcript", "transcript s_1"),))
    return [
        ("data in the text", Reply(title=data(h), text=f"Visitor {data(h)}: {data(h)}"), set()),
        ("data left unmarked in the text", Reply(text=f"{h}\n{h}"), {"code"}),
        ("field value", Reply(fields=(Field("Reason", h), Field("Comment", h, False))), set()),
        ("field name", Reply(fields=(Field(h, "x"),)), {"bold", "code"}),
        ("monospaced table", Reply(table=Table.of(["visitor", "reason"], [[h, h]])), set()),
        ("row with buttons", Reply(table=Table(("session", "visitor", "reason"), (row,))), set()),
        (
            "first cell of a row",
            Reply(table=Table(("a", "b"), (Row((h, h), row.actions),))),
            {"code"},
        ),
        ("column names", Reply(table=Table((h, h), (row,))), {"bold", "code"}),
        ("note", Reply(notes=(h, f"About {data(h)}")), {"code"}),
        (
            "error code and request id",
            Reply(failure=Failure.API, error_code=h, request_id=h),
            {"code"},
        ),
        ("progress label", Reply(progress=Progress(1, 2, label=h)), {"bold", "code"}),
        (
            "picker",
            Reply(text=f"Pick for {data(h)}", picker=Picker("tag s_1", "tag", (Choice(h, "v"),))),
            set(),
        ),
        ("button label", Reply(actions=(Action(h, "help"),)), set()),
    ]


@pytest.mark.parametrize("hostile", [*HOSTILE, ALL_IN_ONE], ids=range(len(HOSTILE) + 1))
def test_text_that_is_not_the_bots_renders_inert_wherever_it_sits(hostile: str) -> None:
    for where, reply, wrapped in _hostile_replies(hostile):
        message = render_message(reply, asked_by="U_ASKER")
        check_limits(message["blocks"])
        findings = slack_findings(message)
        assert findings.not_verbatim == 0, where
        live = [
            c for c in findings.hostile(allowed=[("mention", "@U_ASKER")]) if c[0] not in wrapped
        ]
        assert live == [], f"{where}: {live}"


def test_hostile_text_keeps_what_it_says_readable() -> None:
    reply = Reply(
        text=f"Visitor {data('[Reset](https://evil.example) **now** & <@U1>')}",
        fields=(Field("Email", "jane_doe@acme.com"),),
    )
    text = text_of(render_blocks(reply))
    assert "[Reset](https://evil.example) ∗∗now∗∗ &amp; &lt;@U1&gt;" in text
    assert "jane_doe@acme.com" in text, "an underscore inside a word cannot format: kept"


def test_data_inside_the_bots_inline_code_cannot_close_it() -> None:
    reply = Reply(text=f"Session `s_1` is now tagged `{data('x` **ZAP** `y')}`.")
    text = text_of(render_blocks(reply))
    assert "Session `s_1` is now tagged `xˋ **ZAP** ˋy`." in text
    assert slack_constructs(text).count(("code", "xˋ **ZAP** ˋy")) == 1


def test_a_visitors_unclosed_fence_does_not_swallow_the_rest() -> None:
    reply = Reply(text=f"{data('```')}\nstill the bot's `text`", fields=(Field("Note", "```x"),))
    text = text_of(render_blocks(reply))
    assert "```" not in text
    assert "`text`" in text


@pytest.mark.parametrize("size", [*range(1985, 2001), *range(2985, 3001)])
def test_a_cut_comes_before_the_escape_so_no_entity_is_split(size: int) -> None:
    long = "a" * (size - 7) + "&<>&" * 60
    reply = Reply(
        title="T",
        text=long,
        fields=(Field("F", long), Field("Wide", long, inline=False)),
        notes=(long,),
        table=Table(("s", "v"), (Row(("s_1", long), (Action("Open", "help"),)),)),
        failure=Failure.API,
        request_id=long[-100:],
    )
    message = render_message(reply)
    check_limits(message["blocks"])
    for node in [*mrkdwn_texts(message["blocks"]), {"text": message["text"]}]:
        assert not re.search(r"&(?!amp;|lt;|gt;)", node["text"]), node["text"][-40:]
    cut = [n["text"] for n in mrkdwn_texts(message["blocks"]) if n["text"].endswith("…")]
    assert cut, "the long parts were cut"
    assert all(not re.search(r"&[a-z]*…$", text) for text in cut)


_markup_chars = st.text(alphabet="*_~`|[]()<>#@!&;:/\\-.=^ \naZP1", max_size=400)


@settings(max_examples=150, deadline=None)
@given(value=_markup_chars, note=_markup_chars)
def test_any_text_from_outside_forms_nothing_but_the_bots_own_formatting(
    value: str, note: str
) -> None:
    reply = Reply(
        text=f"Visitor said: {data(value)}",
        fields=(Field("Reason", value), Field("Long", value, inline=False)),
        table=Table(("session", "visitor"), (Row(("s_1", value), (Action("Open", "help"),)),)),
        notes=(f"Note: {data(note)}",),
    )
    message = render_message(reply)
    check_limits(message["blocks"])
    bots_own = {
        ("bold", "Reason"),
        ("bold", "Long"),
        ("bold", "session"),
        ("bold", "visitor"),
        ("code", "s_1"),
    }
    found = slack_findings(message)
    assert found.not_verbatim == 0
    assert [c for c in found.constructs if c not in bots_own] == []


def test_a_sensitive_replys_fallback_is_its_title_and_its_secret_stays_in_the_blocks() -> None:
    secret = "whsec_live_0123456789abcdef"
    reply = Reply(
        title="Webhook 3: new secret",
        text=f"Secret: `{secret}`\nStore it now: it is not shown again.",
        request_id="req_1",
        sensitive=True,
    )
    message = render_message(reply)
    assert message["text"] == "Webhook 3: new secret (request id req_1)"
    assert secret in text_of(message["blocks"])
    # The same reply without the flag would show its first line in notifications.
    assert secret in render_message(Reply(title="x", text=reply.text))["text"]


def test_a_channel_in_a_reply_is_a_mention_and_a_table_with_one_is_not_monospaced() -> None:
    reply = Reply(
        text=f"The usage digest of {channel_ref('C1')} is paused.",
        table=Table.of(["id", "channel"], [["#1", channel_ref("C1") + " (here)"]]),
    )
    blocks = render_blocks(reply)
    text = text_of(blocks)
    assert "The usage digest of <#C1> is paused." in text
    assert "`#1` · <#C1> (here)" in text
    assert "```" not in text
