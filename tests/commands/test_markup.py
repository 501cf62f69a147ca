"""The core's neutral text: which backticks are the bot's, data shown as it is, cuts whole."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from commands.markup import Run, channel_ref, chunks, cut, data, fit, markup, parse, plain
from commands.render import render_json, render_text
from commands.reply import Field, Reply, Table


def test_ordinary_data_comes_back_unchanged_so_replies_read_as_before() -> None:
    assert data("vip") == "vip"
    assert data(None) == "None" and data(41) == "41"
    assert f"Session `s_1` is now tagged `{data('vip')}`." == "Session `s_1` is now tagged `vip`."


def test_backticks_of_data_never_open_or_close_the_bots_code() -> None:
    runs = parse(f"tagged `{data('a` **b** `c')}` by {data('`x`')}")
    assert runs == [
        Run("tagged "),
        Run("a` **b** `c", code=True),
        Run(" by `x`"),
    ]


def test_a_backtick_without_its_pair_on_its_line_is_literal() -> None:
    assert parse("one ` two\n`three`") == [Run("one ` two\n"), Run("three", code=True)]
    assert parse("``` fence") == [Run("``` fence")]


def test_cells_and_values_are_data_unless_marked_as_the_bots() -> None:
    assert parse("`x` y", data=True) == [Run("`x` y")]
    assert parse(markup("`x` y"), data=True) == [Run("x", code=True), Run(" y")]


def test_data_cannot_forge_a_mark() -> None:
    forged = "\ue001 `x` \ue004C1\ue005"  # a closing data mark, then a channel
    assert parse(f"a {data(forged)}") == [Run("a  `x` C1")]
    assert plain(data(forged)) == " `x` C1"


def test_a_channel_is_one_run_and_plain_text_shows_it_with_a_hash() -> None:
    text = f"digest of {channel_ref('C1')} (here)"
    assert parse(text) == [Run("digest of "), Run("C1", channel=True), Run(" (here)")]
    assert plain(text) == "digest of #C1 (here)"


def test_the_console_and_json_show_data_exactly_as_it_came() -> None:
    hostile = "`x` **y** <@U1>"
    reply = Reply(
        title=f"Tag {data(hostile)}",
        text=f"In {channel_ref('C1')}: {data(hostile)}",
        fields=(Field("Usage", markup("`help`")),),
        table=Table.of(["a"], [[data(hostile)]]),
        data={"tag": data(hostile)},
    )
    shown = render_text(reply)
    assert f"Tag {hostile}" in shown and f"In #C1: {hostile}" in shown
    assert "Usage: `help`" in shown and "\ue000" not in shown
    as_json = json.loads(render_json(reply))
    assert as_json["title"] == f"Tag {hostile}" and as_json["text"] == f"In #C1: {hostile}"
    assert as_json["data"]["tag"] == hostile


def test_a_cut_keeps_most_of_the_text_ends_in_an_ellipsis_and_never_splits_a_channel() -> None:
    runs = parse(f"see {channel_ref('C123456')} now")
    assert cut(runs, 8) == [Run("see"), Run("…")]
    assert cut(runs, 11) == [Run("see"), Run("…")], "a channel is shown whole or not at all"
    assert cut(runs, 14) == [Run("see "), Run("C123456", channel=True), Run("…")]


def test_fit_cuts_before_rendering_so_an_expanding_escape_is_never_split() -> None:
    def render(runs: list[Run]) -> str:
        return "".join(r.text.replace("&", "&amp;") for r in runs)

    for limit in range(5, 40):
        out = fit(parse("a" * 20 + "&" * 20), limit, render)
        assert len(out) <= limit
        assert out.replace("&amp;", "").count("&") == 0, out


_text = st.text(alphabet="ab `\n&\ue000\ue001\ue004\ue005", max_size=300)


@settings(max_examples=200, deadline=None)
@given(text=_text, size=st.integers(min_value=5, max_value=120))
def test_chunks_keep_every_character_within_their_size(text: str, size: int) -> None:
    def render(runs: list[Run]) -> str:
        return "".join(
            f"<#{r.text}>"
            if r.channel
            else f"`{r.text.replace('&', '&amp;')}`"
            if r.code
            else r.text.replace("&", "&amp;")
            for r in runs
        )

    runs = parse(text)
    pieces = chunks(runs, size, render)
    assert all(len(p.text) <= size for p in pieces)

    def seen(runs: list[Run]) -> str:
        return "".join("#" + r.text if r.channel else r.text for r in runs)

    shown = "\n".join(seen(p.runs) for p in pieces)
    original = seen(runs)
    assert shown.replace("\n", "") == original.replace("\n", "")
