"""Help and usage errors are derived from the declarations, for every command."""

from __future__ import annotations

import pytest

from bot.sandbox import SandboxServer
from commands.catalog import default_catalog
from commands.errors import UsageError
from commands.markup import plain
from commands.parser import parse, tokenize
from commands.render import render_text
from commands.reply import Failure
from commands.spec import Command

from .conftest import Run

COMMANDS = list(default_catalog())


def _id(cmd: Command) -> str:
    return cmd.name


@pytest.mark.parametrize("cmd", COMMANDS, ids=_id)
def test_every_command_has_help_an_example_and_its_cost(cmd: Command) -> None:
    assert cmd.summary and cmd.examples
    assert cmd.cost, f"{cmd.name} does not say which API calls it makes"
    assert all(p.help for p in cmd.params)


@pytest.mark.parametrize("cmd", COMMANDS, ids=_id)
def test_every_example_parses_to_its_own_command(cmd: Command) -> None:
    for example in cmd.examples:
        try:
            invocation = parse(example, default_catalog())
        except UsageError as exc:  # pragma: no cover - the message is the point
            pytest.fail(f"example {example!r} of {cmd.name!r} does not parse: {exc.message}")
        assert invocation.command is cmd, example


async def test_help_lists_every_command(run: Run) -> None:
    reply = await run("help")

    assert reply.ok and reply.table is not None
    listed = [row.cells[0] for row in reply.table.rows]
    assert listed == [f"/mlc {c.name}" for c in COMMANDS]
    assert all(row.cells[1] for row in reply.table.rows)


@pytest.mark.parametrize("cmd", COMMANDS, ids=_id)
async def test_help_for_a_command_shows_usage_examples_and_who_may_run_it(
    run: Run, cmd: Command
) -> None:
    reply = await run(f"help {cmd.name}")

    fields = {f.name: f.value for f in reply.fields}
    assert reply.ok and reply.title == f"/mlc {cmd.name}"
    assert plain(fields["Usage"]) == f"`/mlc {cmd.usage}`"
    assert f"`/mlc {cmd.examples[0]}`" in plain(fields["Examples"])
    assert fields["Who can run it"] == cmd.permission.value
    assert fields["API calls"] == cmd.cost


async def test_help_for_a_group_lists_its_commands(run: Run) -> None:
    reply = await run("help visitor")

    assert reply.table is not None
    assert [r.cells[0] for r in reply.table.rows] == ["/mlc visitor set", "/mlc visitor event"]


async def test_empty_text_shows_help(run: Run) -> None:
    reply = await run("   ")

    assert reply.ok and reply.title == "MyLiveChat bot commands"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("handofs", "There is no command `handofs`. Did you mean `handoffs`?"),
        ("transcripts --limt 5", "Did you mean `--limit`?"),
        ("usage --verbose", "`usage` has no option `--verbose`."),
        ("help tag ad", "There is no command `tag ad`. Did you mean `tags add`"),
        ('tag "s_1 vip', "unclosed quote"),
        ("handoffs --limit", "--limit needs a value, e.g. --limit N."),
        ("handoffs --limit ten", "--limit must be a whole number from 1 to 200"),
    ],
)
async def test_usage_errors_say_what_to_type_instead(run: Run, text: str, expected: str) -> None:
    reply = await run(text)

    assert reply.failure is Failure.USAGE and reply.exit_status == 2
    assert expected in reply.text
    assert "Traceback" not in reply.text


async def test_usage_error_of_a_known_command_carries_its_usage_and_example(run: Run) -> None:
    reply = await run("webhooks add https://example.com/h")

    assert "Usage: `webhooks add <url> --events handoff,feedback [--label LABEL]`" in reply.text
    assert "Example: `webhooks add https://hooks.zapier.com/" in reply.text


async def test_smart_quotes_and_dashes_from_chat_clients_are_understood(run: Run) -> None:
    reply = await run("tags add “high value” —color #16a34a")

    assert reply.ok and reply.title == "Created tag high value"


async def test_help_in_a_terminal_keeps_multi_line_values_in_their_column(run: Run) -> None:
    text = render_text(await run("help tag"))

    first = next(line for line in text.splitlines() if line.startswith("Examples:"))
    column = first.index("`/mlc tag s_8f2a91c0d4e1 vip`")
    assert " " * column + "`/mlc tag s_8f2a91c0d4e1 42`" in text.splitlines()


@pytest.mark.parametrize("cmd", COMMANDS, ids=_id)
@pytest.mark.parametrize("flag", ["--help", "-h"])
async def test_help_flag_after_any_command_shows_its_help_page(
    run: Run, sandbox: SandboxServer, cmd: Command, flag: str
) -> None:
    reply = await run(f"{cmd.name} {flag}")

    assert reply == await run(f"help {cmd.name}")
    assert reply.ok and reply.title == f"/mlc {cmd.name}"
    assert len(sandbox.requests) == 0  # shown instead of running the command


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("tags add vip --color -h", "/mlc tags add"),  # anywhere after the command
        ("tags add --HELP", "/mlc tags add"),
        ("notify slack set --help", "/mlc notify set"),  # the reordered form too
        ("visitor --help", "/mlc visitor"),  # a group without a command of its own
        ("--help", "MyLiveChat bot commands"),
        ("-h tags add", "/mlc tags add"),
    ],
)
async def test_help_flags_are_understood_wherever_they_are_typed(
    run: Run, sandbox: SandboxServer, text: str, title: str
) -> None:
    reply = await run(text)

    assert reply.ok and reply.title == title
    assert len(sandbox.requests) == 0


async def test_after_a_double_dash_h_is_a_value_not_a_help_flag(
    run: Run, sandbox: SandboxServer
) -> None:
    reply = await run("tags add -- -h")

    assert reply.ok and reply.title == "Created tag -h"
    assert any(t.name == "-h" for t in sandbox.state.tags.values())


@pytest.mark.parametrize("text", ["nope", "digests", "visitor", "visitor sett", '"unclosed'])
async def test_a_usage_error_without_a_command_points_at_help_once(run: Run, text: str) -> None:
    reply = await run(text)

    assert reply.failure is Failure.USAGE
    assert reply.text.count("`help") == 1, reply.text


def test_an_integer_may_be_typed_with_the_hash_replies_show() -> None:
    invocation = parse("digest pause #3", default_catalog())

    assert invocation.command.name == "digest pause" and invocation.args["id"] == 3
    with pytest.raises(
        UsageError, match=r"must be a whole number from 1 to 2147483647 \(digits 0-9\), not '#x'"
    ):
        parse("digest pause #x", default_catalog())


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (r"tags add win --description C:\temp\new", ["C:\\temp\\new"]),
        (r'tags add "a b" --description "C:\dir\" x', ["C:\\dir\\", "x"]),
        ("tags add vip --color #7c3aed", ["#7c3aed"]),  # "#" starts no comment
        ("tags add 'it''s' --description \"say 'hi'\"", ["say 'hi'"]),
    ],
)
def test_backslashes_and_hashes_are_kept_and_quotes_still_group(
    text: str, words: list[str]
) -> None:
    assert tokenize(text)[-len(words) :] == words
