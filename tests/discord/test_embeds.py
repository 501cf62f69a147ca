"""Replies as embeds: content, colour by kind, error footers, and Discord's size limits."""

from __future__ import annotations

import re
from typing import Any

import discord
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.discord.embeds import COLOURS, render_embeds
from commands.markup import channel_ref, data
from commands.reply import Action, Failure, Field, Kind, Progress, Reply, Row, Table
from tests.inert import ALL_IN_ONE, HOSTILE, discord_constructs, discord_hostile, discord_strings


def check_limits(embeds: list[discord.Embed]) -> None:
    """Every rule Discord applies to the embeds of one message."""
    assert 1 <= len(embeds) <= 10
    assert sum(len(e) for e in embeds) <= 6000
    for embed in embeds:
        assert len(embed.title or "") <= 256
        assert len(embed.description or "") <= 4096
        assert len(embed.fields) <= 25
        assert len(embed.footer.text or "") <= 2048
        for item in embed.fields:
            assert 1 <= len(item.name or "") <= 256
            assert 1 <= len(item.value or "") <= 1024
        as_dict = embed.to_dict()
        assert (
            as_dict.get("title")
            or as_dict.get("description")
            or as_dict.get("fields")
            or (as_dict.get("footer"))
        )


def test_a_reply_becomes_one_embed_with_title_text_fields_and_notes() -> None:
    reply = Reply(
        title="Usage",
        text="Replies this cycle.",
        fields=(Field("Plan", "pro"), Field("Cycle ends", "in 3 days", inline=False)),
        progress=Progress(450, 1000, "replies"),
        notes=("Pace is fine.",),
    )
    (embed,) = render_embeds(reply)
    assert embed.title == "Usage"
    assert embed.description is not None
    assert embed.description.startswith("Replies this cycle.")
    assert "45%" in embed.description
    assert [(f.name, f.value, f.inline) for f in embed.fields] == [
        ("Plan", "pro", True),
        ("Cycle ends", "in 3 days", False),
    ]
    assert embed.footer.text == "Pace is fine."
    assert embed.colour is not None and embed.colour.value == COLOURS[Kind.INFO]


def test_colour_follows_the_kind() -> None:
    colours = {kind: render_embeds(Reply(title="x", kind=kind))[0].colour for kind in Kind}
    assert colours[Kind.ERROR] == discord.Colour(0xED4245)
    assert colours[Kind.WARNING] == discord.Colour(0xFEE75C)
    assert len({c.value for c in colours.values() if c is not None}) == len(Kind)


def test_an_api_error_is_red_with_code_and_request_id_in_the_footer() -> None:
    reply = Reply(
        title="MyLiveChat error",
        text="MyLiveChat had an internal error.",
        kind=Kind.ERROR,
        failure=Failure.API,
        error_code="internal_error",
        request_id="req_7f3a",
    )
    (embed,) = render_embeds(reply)
    assert embed.colour == discord.Colour(0xED4245)
    assert embed.footer.text == "Error code: internal_error · Request id: req_7f3a"


def test_table_rows_become_fields_named_by_their_first_cell() -> None:
    table = Table(
        ("session", "visitor", "reason"),
        (Row(("s_1", "Ann", "asked for a human"), (Action("Transcript", "transcript s_1"),)),),
    )
    (embed,) = render_embeds(Reply(title="Recent handoffs", table=table))
    assert [(f.name, f.value, f.inline) for f in embed.fields] == [
        ("s_1", "Ann · asked for a human", False)
    ]
    assert "**session** — visitor · reason" in (embed.description or "")


def test_a_huge_reply_is_split_and_truncated_within_every_limit_with_a_note() -> None:
    rows = tuple(Row((f"s_{i:04d}", "v" * 900, "r" * 300)) for i in range(300))
    reply = Reply(
        title="T" * 1000,
        text="line of transcript text\n" * 2000,
        fields=tuple(Field("F" * 400, "x" * 5000) for _ in range(30)),
        table=Table(("session", "visitor", "reason"), rows),
        notes=tuple("note " * 100 for _ in range(20)),
        kind=Kind.ERROR,
        request_id="req_big",
        error_code="internal",
    )
    embeds = render_embeds(reply)
    check_limits(embeds)
    footer = embeds[-1].footer.text or ""
    assert "characters not shown" in footer and "more rows not shown" in footer
    assert embeds[0].title is not None and embeds[0].title.endswith("…")


def test_long_text_continues_in_further_embeds_before_anything_is_dropped() -> None:
    text = "\n".join(f"{i:03d} " + "word " * 20 for i in range(50))  # ~5300 characters
    embeds = render_embeds(Reply(title="Transcript s_1", text=text))
    check_limits(embeds)
    assert len(embeds) == 2
    first, second = (e.description or "" for e in embeds)
    assert (first + "\n" + second).split() == text.split()
    assert second.startswith(("0", "1", "2", "3", "4")), "split at a line end"
    assert embeds[1].title is None and not embeds[-1].footer.text


def test_many_rows_spill_into_more_embeds_of_25_fields() -> None:
    rows = tuple(Row((f"s_{i}", "Ann")) for i in range(60))
    embeds = render_embeds(Reply(title="Sessions", table=Table(("session", "visitor"), rows)))
    check_limits(embeds)
    assert [len(e.fields) for e in embeds] == [25, 25, 10]


def test_an_empty_reply_still_renders() -> None:
    (embed,) = render_embeds(Reply())
    check_limits([embed])
    assert embed.description == "Done."


_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=3000)


@settings(max_examples=60, deadline=None)
@given(
    title=_text,
    text=st.text(max_size=20000),
    fields=st.lists(st.tuples(_text, _text, st.booleans()), max_size=40),
    rows=st.lists(st.lists(st.text(max_size=1500), min_size=1, max_size=5), max_size=120),
    notes=st.lists(st.text(max_size=800), max_size=6),
    request_id=st.none() | st.text(min_size=1, max_size=40),
    kind=st.sampled_from(list(Kind)),
)
def test_any_reply_fits_discords_limits(
    title: str,
    text: str,
    fields: list[tuple[str, str, bool]],
    rows: list[list[str]],
    notes: list[str],
    request_id: str | None,
    kind: Kind,
) -> None:
    reply = Reply(
        title=title,
        text=text,
        fields=tuple(Field(n, v, i) for n, v, i in fields),
        table=Table(("a", "b"), tuple(Row(tuple(r)) for r in rows)) if rows else None,
        notes=tuple(notes),
        request_id=request_id,
        kind=kind,
    )
    check_limits(render_embeds(reply))


# --- text that is not the bot's: inert wherever it sits --------------------------------------


def _body(reply: Reply) -> dict[str, Any]:
    embeds = render_embeds(reply)
    check_limits(embeds)
    return {"embeds": [e.to_dict() for e in embeds]}


def _hostile_replies(h: str) -> list[tuple[str, Reply, set[str]]]:
    """(where, reply, construct kinds the bot itself wraps around the text there)."""
    row = Row(("s_1", h, h), (Action("Transcript", "transcript s_1"),))
    return [
        ("data in the title and text", Reply(title=data(h), text=f"{data(h)}\n{data(h)}"), set()),
        ("data left unmarked in the text", Reply(title=h, text=f"{h}\n{h}"), {"code"}),
        ("field value", Reply(fields=(Field("Reason", h), Field("Comment", h, False))), set()),
        ("field name", Reply(fields=(Field(h, "x"),)), {"code"}),
        ("table row", Reply(table=Table(("session", "visitor", "reason"), (row,))), set()),
        ("first cell", Reply(table=Table(("a", "b"), (Row((h, h)),))), set()),
        ("column names", Reply(table=Table((h, h), (row,))), {"bold", "code"}),
    ]


@pytest.mark.parametrize("hostile", [*HOSTILE, ALL_IN_ONE], ids=range(len(HOSTILE) + 1))
def test_text_that_is_not_the_bots_renders_inert_wherever_it_sits(hostile: str) -> None:
    for where, reply, wrapped in _hostile_replies(hostile):
        live = [c for c in discord_hostile(_body(reply)) if c[1] not in wrapped]
        assert live == [], f"{where}: {live}"


def test_notes_and_ids_go_to_the_footer_as_plain_text() -> None:
    hostile = "**ZAP** [x](https://evil.example)"
    reply = Reply(notes=(f"About {data(hostile)}",), failure=Failure.API, request_id="req_`1`")
    (embed,) = render_embeds(reply)
    # A footer renders no markdown: escapes would show, so it is the text as it is.
    assert embed.footer.text == f"About {hostile}\nRequest id: req_`1`"


def test_escaped_text_still_reads_as_it_was_written() -> None:
    (embed,) = render_embeds(
        Reply(fields=(Field("Email", "jane_doe@acme.com"), Field("Say", "**hi** [x](y)")))
    )
    assert [f.value for f in embed.fields] == ["jane_doe@acme.com", r"\*\*hi\*\* \[x\](y)"]


def test_data_inside_the_bots_inline_code_cannot_close_it() -> None:
    (embed,) = render_embeds(Reply(text=f"Tagged `{data('x` **ZAP** `y')}`."))
    assert embed.description == "Tagged `xˋ **ZAP** ˋy`."


@pytest.mark.parametrize("size", range(1010, 1025))
def test_a_cut_comes_before_the_escape_so_no_escape_is_split(size: int) -> None:
    long = "a" * (size - 5) + "*_" * 40
    (embed,) = render_embeds(Reply(fields=(Field("F", long),)))
    value = embed.fields[0].value or ""
    assert len(value) <= 1024 and value.endswith("…")
    assert not re.search(r"(?<!\\)(\\\\)*\\…$", value), "a lone backslash before the cut"
    assert re.fullmatch(r"a*(\\[*_])*…", value), value


_markup_chars = st.text(alphabet="*_~`|[]()<>#@!&;:/\\-.=^ \naZP1", max_size=400)


@settings(max_examples=150, deadline=None)
@given(value=_markup_chars)
def test_any_text_from_outside_forms_nothing_but_the_bots_own_formatting(value: str) -> None:
    reply = Reply(
        title=f"Visitor {data(value)}",
        text=f"Visitor said: {data(value)}",
        fields=(Field("Reason", value), Field("Long", value, inline=False)),
        table=Table(("session", "visitor"), (Row(("s_1", value)),)),
    )
    bots_own = {("bold", "session")}
    found = [
        (where, *c)
        for where, text in discord_strings(_body(reply))
        for c in discord_constructs(text)
        if c not in bots_own
    ]
    assert found == []


def test_a_channel_is_a_mention() -> None:
    reply = Reply(
        text=f"The usage digest of {channel_ref('700000000000000002')} is paused.",
        table=Table.of(["id", "channel"], [["#1", channel_ref("700000000000000002") + " (here)"]]),
    )
    (embed,) = render_embeds(reply)
    assert embed.description is not None
    assert "The usage digest of <#700000000000000002> is paused." in embed.description
    assert embed.fields[0].value == "<#700000000000000002> (here)"
