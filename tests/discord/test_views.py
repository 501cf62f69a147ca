"""Reply actions as Discord components: buttons when they fit, menus when they do not."""

from __future__ import annotations

from typing import Any

import discord

from adapters.discord.views import build_view
from commands.markup import channel_ref, data
from commands.reply import Action, Choice, Picker, Reply, Row, Table


def layout(reply: Reply) -> list[list[dict[str, Any]]]:
    view = build_view(reply)
    assert view is not None
    return [row["components"] for row in view.to_components()]


def handoffs(count: int) -> Reply:
    rows = tuple(
        Row(
            (f"s_{i}", f"Visitor {i}", "asked for a human"),
            (Action("Transcript", f"transcript s_{i}"), Action("Tag", f"tag s_{i}", pick="tag")),
        )
        for i in range(count)
    )
    return Reply(title="Recent handoffs", table=Table(("session", "visitor", "reason"), rows))


async def test_reply_actions_are_buttons_with_their_styles() -> None:
    reply = Reply(
        title="Webhook 3 created",
        actions=(
            Action("Send a test", "webhooks test 3", style="primary"),
            Action("Delete", "webhooks delete 3", style="danger"),
            Action("Tag", "tag s_1", pick="tag"),
        ),
    )
    (row,) = layout(reply)
    assert [(b["label"], b["style"], b["custom_id"]) for b in row] == [
        ("Send a test", discord.ButtonStyle.primary.value, "mlc:run:webhooks test 3"),
        ("Delete", discord.ButtonStyle.danger.value, "mlc:run:webhooks delete 3"),
        ("Tag", discord.ButtonStyle.secondary.value, "mlc:pick:tag:tag s_1"),
    ]


async def test_up_to_five_rows_get_a_line_of_buttons_each() -> None:
    rows = layout(handoffs(5))
    assert len(rows) == 5
    assert [b["label"] for b in rows[2]] == ["Transcript s_2", "Tag s_2"]


async def test_more_rows_get_one_menu_per_action_of_at_most_25_rows() -> None:
    rows = layout(handoffs(40))
    menus = [row[0] for row in rows]
    assert [m["placeholder"] for m in menus] == ["Transcript…", "Tag…"]
    assert all(len(m["options"]) == 25 for m in menus)
    first = menus[1]["options"][0]
    assert first == {
        "label": "s_0",
        "value": "pick:tag:tag s_0",
        "description": "Visitor 0 · asked for a human",
        "default": False,
    }


async def test_a_command_too_long_for_a_custom_id_gets_no_button() -> None:
    reply = Reply(title="x", actions=(Action("Open", "transcript " + "s" * 120),))
    assert build_view(reply) is None


async def test_pick_menus_offer_at_most_25_choices() -> None:
    choices = tuple(Choice(f"tag {i}", f"t{i}") for i in range(40))
    view = build_view(Reply(text="Choose", picker=Picker("tag s_1", "tag", choices)))
    assert view is not None
    ((menu,),) = [row["components"] for row in view.to_components()]
    assert menu["custom_id"] == "mlc:chosen:tag s_1" and len(menu["options"]) == 25


async def test_labels_and_options_show_marked_text_plainly_as_it_was_written() -> None:
    # Components render no markdown: a label shows its text exactly, marks and all dropped.
    hostile = "**ZAP** `x`"
    rows = tuple(
        Row(
            (data(hostile), channel_ref("700000000000000002"), "ok"),
            (Action("Open", f"transcript s_{i}"),),
        )
        for i in range(8)
    )
    reply = Reply(title="x", table=Table(("a", "b", "c"), rows))
    (first, *_) = layout(reply)[0][0]["options"]
    assert first["label"] == hostile
    assert first["description"] == "#700000000000000002 · ok"
    few = Reply(title="x", table=Table(("a", "b"), rows[:2]))
    assert layout(few)[0][0]["label"] == f"Open {hostile}"
