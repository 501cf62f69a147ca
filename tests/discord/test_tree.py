"""The generated ``/mlc`` tree: every core command, typed options, and Discord's naming rules."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from discord import app_commands
from typing_extensions import TypedDict

from adapters.discord.bot import MlcBot
from adapters.discord.limits import fit_description, is_valid_name
from adapters.discord.tree import discord_paths, option_spec
from commands.catalog import Catalog, default_catalog
from commands.context import Context
from commands.reply import Reply
from commands.spec import Command, Param, ParamType, Permission, command

OPTION_TYPE = {
    ParamType.STRING: 3,
    ParamType.TEXT: 3,
    ParamType.COLOR: 3,
    ParamType.KEY_VALUES: 3,
    ParamType.CHOICE: 3,
    ParamType.CHOICES: 3,
    ParamType.INTEGER: 4,
    ParamType.FLAG: 5,
}


class _Unused:
    async def run_command(self, *args: object) -> None:
        raise AssertionError("not called")

    autocomplete = run_action = offer_pick = run_picked = run_command


def payload_of(catalog: Catalog) -> list[dict[str, Any]]:
    return MlcBot(_Unused(), catalog, sync=False).command_payloads()  # type: ignore[arg-type]


def find(root: dict[str, Any], words: tuple[str, ...]) -> dict[str, Any]:
    node = root
    for word in words:
        node = next(o for o in node["options"] if o["name"] == word and o["type"] in (1, 2))
    return node


class _NoData(TypedDict):
    pass


def declared(name: str, *params: Param, **kwargs: Any) -> Command:
    async def handler(ctx: Context, **values: Any) -> Reply:
        return Reply(title=name)

    handler.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, default=None) for p in params]
    )
    decorated = command(
        name, help=f"Do {name}.", examples=[name], params=params, data=_NoData, **kwargs
    )
    return decorated(handler).__mlc_command__  # type: ignore[attr-defined]


def check_discord_rules(node: dict[str, Any], where: str = "") -> None:
    """Names, descriptions, sizes and option order as Discord requires, recursively."""
    here = f"{where} {node['name']}".strip()
    assert is_valid_name(node["name"]), here
    assert 1 <= len(node["description"]) <= 100, (here, node["description"])
    options = node.get("options") or []
    assert len(options) <= 25, here
    assert len({o["name"] for o in options}) == len(options), f"duplicate names in {here}"
    required = [o.get("required", False) for o in options if o["type"] > 2]
    assert required == sorted(required, reverse=True), f"optional before required in {here}"
    for option in options:
        if option["type"] in (1, 2):
            check_discord_rules(option, here)
        else:
            assert is_valid_name(option["name"]) and 1 <= len(option["description"]) <= 100
            assert len(option.get("choices", [])) <= 25
            assert not (option.get("choices") and option.get("autocomplete")), here


def test_every_core_command_is_under_mlc_with_its_options() -> None:
    catalog = default_catalog()
    (root,) = payload_of(catalog)
    assert root["name"] == "mlc" and root["type"] == 1
    for words, cmd in discord_paths(catalog):
        node = find(root, words)
        assert node["type"] == 1, cmd.name
        assert node["description"] == fit_description(
            ("(admin) " if cmd.permission is Permission.ADMIN else "") + cmd.summary
        )
        options = {o["name"]: o for o in node["options"]}
        # Options for the terminal only (`mlc-bot exec --channel`) are not offered here.
        offered = [p for p in cmd.params if not p.console_only]
        assert set(options) == {p.name for p in offered}, cmd.name
        for param in offered:
            option = options[param.name]
            assert option["type"] == OPTION_TYPE[param.type], (cmd.name, param.name)
            assert option["required"] == param.required
            if param.type is ParamType.INTEGER:
                assert option.get("min_value") == param.min
                assert option.get("max_value") == param.max
            if param.type is ParamType.CHOICE and len(param.choices) <= 25 and not param.complete:
                assert [c["value"] for c in option["choices"]] == list(param.choices)
            if param.complete or param.type is ParamType.CHOICES:
                assert option.get("autocomplete") is True, (cmd.name, param.name)


def test_the_generated_tree_obeys_discords_rules() -> None:
    (root,) = payload_of(default_catalog())
    check_discord_rules(root)
    assert root["contexts"] == [0], "guild only: /mlc acts for a server's team"
    assert root["dm_permission"] is False
    assert root["default_member_permissions"] is None


def test_a_command_added_to_the_core_appears_with_no_discord_edit() -> None:
    extra = declared(
        "refunds audit",
        Param("since", ParamType.STRING, "how far back", positional=True, required=True),
        Param("limit", ParamType.INTEGER, "rows", min=1, max=50),
        Param("status", ParamType.CHOICE, "state", choices=("open", "closed")),
        permission=Permission.ADMIN,
        public=True,
    )
    catalog = Catalog([*default_catalog(), extra])
    (root,) = payload_of(catalog)
    node = find(root, ("refunds", "audit"))
    assert node["description"] == "(admin) Do refunds audit."
    assert [(o["name"], o["type"], o["required"]) for o in node["options"]] == [
        ("since", 3, True),
        ("limit", 4, False),
        ("status", 3, False),
        ("public", 5, False),
    ]
    assert node["options"][1]["min_value"] == 1 and node["options"][1]["max_value"] == 50
    assert node["options"][2]["choices"] == [
        {"name": "open", "value": "open"},
        {"name": "closed", "value": "closed"},
    ]
    check_discord_rules(root)


def test_a_command_that_is_also_a_group_becomes_its_list_subcommand() -> None:
    catalog = Catalog(
        [declared("notify", list_name="show"), declared("notify set"), declared("a b c")]
    )
    paths = {words: cmd.name for words, cmd in discord_paths(catalog)}
    assert paths == {
        ("notify", "show"): "notify",
        ("notify", "set"): "notify set",
        ("a", "b-c"): "a b c",
    }


def test_a_declaration_that_would_break_discord_fails_the_build() -> None:
    clash = Catalog([declared("tags"), declared("tags list"), declared("tags add")])
    with pytest.raises(ValueError, match="tags list"):
        discord_paths(clash)
    with pytest.raises(ValueError, match="not a valid Discord name"):
        discord_paths(Catalog([declared("Tags")]))
    with pytest.raises(ValueError, match="not a valid Discord name"):
        discord_paths(Catalog([declared("x" * 33)]))
    crowded = Catalog([declared(f"many c{i}") for i in range(26)])
    with pytest.raises(ValueError, match="/mlc many would have 26 subcommands"):
        discord_paths(crowded)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Short and sweet.", "Short and sweet."),
        ("  spread\nover   lines ", "spread over lines"),
        ("", "…"),
    ],
)
def test_fit_description_keeps_short_text(text: str, expected: str) -> None:
    assert fit_description(text) == expected


def test_fit_description_cuts_long_text_at_a_word_with_an_ellipsis() -> None:
    text = "Show the recent handoffs " * 10
    fitted = fit_description(text)
    assert len(fitted) <= 100 and fitted.endswith("…")
    assert text.startswith(fitted[:-1]) and fitted[-2] != " "
    assert fitted[:-1].split()[-1] in {"Show", "the", "recent", "handoffs"}


def test_parameters_map_to_discord_option_types() -> None:
    events = Param("events", ParamType.CHOICES, "which events", choices=("handoff", "feedback"))
    spec = option_spec(events)
    assert spec.annotation is str and spec.autocomplete
    assert spec.description == "which events (one or more of handoff, feedback)"
    assert option_spec(Param("all", ParamType.FLAG, "include all")).annotation is bool
    attrs = option_spec(Param("attr", ParamType.KEY_VALUES, "attributes"))
    assert attrs.annotation is str and "key=value" in attrs.description
    assert "#rrggbb" in option_spec(Param("color", ParamType.COLOR, "colour")).description
    many = Param("zone", ParamType.CHOICE, "zone", choices=tuple(f"z{i}" for i in range(30)))
    assert option_spec(many).autocomplete and not option_spec(many).choices
    limit = option_spec(Param("limit", ParamType.INTEGER, "rows", min=1, max=200))
    assert isinstance(limit.annotation, app_commands.transformers.RangeTransformer)


def test_long_parameter_help_keeps_its_hint_within_100_characters() -> None:
    wordy = Param("events", ParamType.CHOICES, "which events to send " * 8, choices=("a", "b"))
    description = option_spec(wordy).description
    assert len(description) <= 100 and description.endswith("(one or more of a, b)")
