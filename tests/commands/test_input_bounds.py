"""Inputs that used to reach an internal error get a friendly usage reply before any call.

Ids and numbers have ranges (ids fit PostgreSQL's ``integer``), digits are ASCII digits,
text has a length and no control characters, and a session id is what a URL query can carry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from adapters.discord.interactions import _choices
from bot.mylivechat import Tag
from bot.sandbox import SandboxServer
from commands.catalog import default_catalog
from commands.context import Context
from commands.digests.service import DigestService
from commands.dispatch import Dispatcher
from commands.params import ID_MAX
from commands.reply import Failure, Reply
from commands.spec import Param, ParamType, command
from commands.suggest import did_you_mean
from tests.digests.conftest import Database

from .conftest import Run, writes_sent

CATALOG = default_catalog()
RunDigest = Callable[[str], Awaitable[Reply]]


def _refused(reply: Reply, *expected: str) -> None:
    """A usage reply (exit status 2) that says each of ``expected``."""
    assert reply.failure is Failure.USAGE and reply.exit_status == 2, reply.text
    for text in expected:
        assert text in reply.text, reply.text


@pytest.fixture
async def run_digest(
    database: Database, dispatcher: Dispatcher, make_context: Callable[..., Context]
) -> RunDigest:
    """Digest commands of an admin in channel C1, on SQLite or PostgreSQL, digest #1 present."""
    service = DigestService(await database.store())

    async def run(text: str) -> Reply:
        ctx = make_context(platform="slack", channel_id="C1")
        ctx.digests = service
        return await dispatcher.run_text(text, ctx)

    first = await run("digest add usage --tz UTC")
    assert first.ok and "#1" in str(first.fields)
    return run


@pytest.mark.parametrize(
    "text",
    [
        "digest remove 99999999999999999999",  # beyond SQLite's 64-bit INTEGER
        "digest pause 2147483648",  # beyond PostgreSQL's int4
        "digest resume 9223372036854775808",
        "digest remove -1",
        "digest pause 0",
        "digest remove " + "9" * 3900,  # refused by counting digits, not by converting
    ],
)
async def test_a_digest_id_out_of_range_is_refused_before_the_database(
    run_digest: RunDigest, sandbox: SandboxServer, text: str
) -> None:
    reply = await run_digest(text)

    _refused(reply, "<id> must be from 1 to 2147483647", "Usage: `digest")
    assert len(reply.text) < 400  # the digits are not echoed back
    listing = await run_digest("digest list")
    assert listing.table is not None and listing.table.rows[0].cells[-1] == "active"
    assert sandbox.count() == 0


async def test_the_largest_id_reaches_the_database_and_is_simply_not_there(
    run_digest: RunDigest,
) -> None:
    for verb in ("pause", "resume", "remove"):
        reply = await run_digest(f"digest {verb} {ID_MAX}")

        assert reply.failure is Failure.INPUT, reply.text
        assert reply.text.startswith(f"There is no digest #{ID_MAX} in this workspace.")


async def test_a_digest_time_takes_ascii_digits(run_digest: RunDigest) -> None:
    reply = await run_digest("digest add feedback --at ٠٩:٣٠")

    _refused(reply, "--at must be a 24-hour time like 09:00 or 17:30, not '٠٩:٣٠'")
    listing = await run_digest("digest list")
    assert listing.table is not None and [r.cells[1] for r in listing.table.rows] == ["usage"]


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("handoffs --limit ²", "--limit"),
        ("transcript s_1 --last ٣", "--last"),
        ("feedback --max-rating 𝟘", "--max-rating"),
        ("webhooks test ¹", "<id>"),
        ("webhooks rotate #²", "<id>"),
        ("handoffs --limit 1_000", "--limit"),
        ("handoffs --limit １０", "--limit"),  # full-width digits
        ("webhooks delete 0x10", "<id>"),
    ],
)
async def test_numbers_take_ascii_digits_only(
    run: Run, sandbox: SandboxServer, text: str, label: str
) -> None:
    reply = await run(text)

    _refused(reply, f"{label} must be a whole number from ", "(digits 0-9)")
    assert sandbox.count() == 0


async def test_a_huge_webhook_id_says_the_range_without_a_call(
    run: Run, sandbox: SandboxServer
) -> None:
    reply = await run("webhooks test 99999999999999999999")

    _refused(reply, "<id> must be from 1 to 2147483647, not 99999999999999999999")
    assert sandbox.count() == 0


async def test_a_unicode_digit_tag_ref_is_a_tag_name(
    run: Run, sandbox: SandboxServer, session_id: str
) -> None:
    created = await run("tags add ²")
    tagged = await run(f"tag {session_id} ²")
    missing = await run(f"untag {session_id} ³")

    assert created.ok and created.title == "Created tag ²"
    assert tagged.ok and tagged.text == f"Session `{session_id}` is now tagged `²`."
    assert missing.failure is Failure.INPUT and "There is no tag `³` on this site." in missing.text


async def test_unicode_digits_in_visitor_properties_stay_text(
    run: Run, sandbox: SandboxServer
) -> None:
    key = next(k for site, k in sandbox.state.visitors if site == sandbox.site_a_id)

    reply = await run(
        f"visitor event {key} upgraded n=² seats=12 arabic=٣ big=99999999999999999999"
    )

    assert reply.ok, reply.text
    properties = sandbox.state.visitor_events[-1]["properties"]
    assert properties == {"n": "²", "seats": 12, "arabic": "٣", "big": "99999999999999999999"}


async def test_visitor_attributes_with_unicode_digits_are_saved_as_text(
    run: Run, sandbox: SandboxServer
) -> None:
    reply = await run("visitor set u-777 --attr seats=²")

    assert reply.ok, reply.text
    assert sandbox.state.visitors[(sandbox.site_a_id, "u-777")].attributes == {"seats": "²"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("transcript " + "s" * 40_000, "That command is 40,011 characters long; the bot reads"),
        ("tag " + "s" * 65 + " vip", "<session_id> takes at most 64 characters, not 65"),
        ("transcript s_é1", "<session_id> must be letters, digits and punctuation"),
        ('untag "s 1" vip', "<session_id> must be letters, digits and punctuation"),
        ("@mlc-bot handoffs " + "x" * 39_990, "the bot reads at most 4,000"),
    ],
)
async def test_long_or_unsendable_session_ids_are_refused_before_any_call(
    run: Run, sandbox: SandboxServer, text: str, expected: str
) -> None:
    reply = await run(text)

    _refused(reply, expected)
    assert len(reply.text) < 600
    assert sandbox.count() == 0


async def test_typed_values_are_checked_like_text(
    dispatcher: Dispatcher, make_context: Callable[..., Context], sandbox: SandboxServer
) -> None:
    """What Discord sends: typed options, never parsed from text."""
    cases = [
        ("transcript", {"session_id": "s" * 40_000}, "at most 64 characters"),
        ("webhooks test", {"id": 2**63}, "<id> must be from 1 to 2147483647"),
        ("webhooks test", {"id": 10**5000}, "<id> must be from 1 to 2147483647"),
        ("webhooks test", {"id": True}, "<id> must be a whole number"),
        ("handoffs", {"limit": "²"}, "--limit must be a whole number"),
        ("tags add", {"name": "vip\x00"}, "cannot contain control characters"),
        ("visitor event", {"visitor_key": "u-1", "event": "e", "properties": {"n\n": "1"}}, "keys"),
    ]
    for name, raw, expected in cases:
        cmd = CATALOG.get(name)
        assert cmd is not None
        reply = await dispatcher.run(cmd, raw, make_context())

        _refused(reply, expected)
    assert sandbox.count() == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tags add vip --description 'line one\nline two'", "type it as plain text on one line"),
        ("visitor set u-1 --name 'Jane\x00Doe'", "--name cannot contain control characters"),
        ("visitor set u-1 --plan '\x1b[31mpro'", "--plan cannot contain control characters"),
        ("tags add " + "v" * 51, "<name> takes at most 50 characters, not 51"),
        ("visitor event u-1 upgraded note=" + "v" * 501, "The value of note takes at most 500"),
        (
            "visitor set u-1 " + " ".join(f"--attr k{i}=v" for i in range(51)),
            "--attr takes at most 50 key=value pairs",
        ),
        ("webhooks add https://x.example/" + "p" * 2048 + " --events handoff", "at most 2,048"),
    ],
)
async def test_text_too_long_or_with_control_characters_is_refused_before_a_write(
    run: Run, sandbox: SandboxServer, text: str, expected: str
) -> None:
    reply = await run(text)

    _refused(reply, expected)
    assert writes_sent(sandbox) == 0 and sandbox.count() == 0


async def test_a_right_to_left_mark_is_text_like_any_other(
    run: Run, sandbox: SandboxServer
) -> None:
    reply = await run("tags add \u200fשלום")

    assert reply.ok and reply.title == "Created tag \u200fשלום"


async def test_an_unknown_long_word_is_quoted_back_cut_short(run: Run) -> None:
    reply = await run("x" * 3000)

    _refused(reply, "There is no command `xxxxxxxx")
    assert len(reply.text) < 300 and "Did you mean" not in reply.text


def test_did_you_mean_still_suggests_but_compares_no_huge_word() -> None:
    names = CATALOG.top_words()

    assert did_you_mean("handofs", names) == " Did you mean `handoffs`?"
    assert did_you_mean("handoffs" * 5000, names) == ""
    assert did_you_mean("handofs", ["handoffs", "h" * 40_000]) == " Did you mean `handoffs`?"


def test_an_integer_parameter_without_a_range_fails_at_declaration() -> None:
    async def handler(ctx: Context, n: int = 1) -> Reply:
        return Reply(title="n")

    unbounded = Param("n", ParamType.INTEGER, "a number", min=1)
    with pytest.raises(TypeError, match="an INTEGER needs both min and max"):
        command("demo", help="Demo.", examples=["demo"], params=[unbounded])(handler)

    no_help = Param("n", ParamType.STRING, "a name", pattern="[a-z]+")
    with pytest.raises(TypeError, match="with pattern_help"):
        command("demo", help="Demo.", examples=["demo"], params=[no_help])(handler)

    bad_default = Param("n", ParamType.INTEGER, "a number", min=1, max=5, default=9)
    with pytest.raises(TypeError, match="the default is not a valid value"):
        command("demo", help="Demo.", examples=["demo"], params=[bad_default])(handler)


def test_every_declared_parameter_has_its_bound() -> None:
    for cmd in CATALOG:
        for param in cmd.params:
            if param.type is ParamType.INTEGER:
                assert param.min is not None and param.max is not None, (cmd.name, param.name)
                assert param.max <= ID_MAX
            if param.type in (ParamType.STRING, ParamType.TEXT, ParamType.KEY_VALUES):
                assert param.max_length is not None and param.max_length <= 2048


def test_discord_integer_choices_keep_only_values_the_option_takes() -> None:
    param = CATALOG.get("webhooks test").param("id")  # type: ignore[union-attr]
    pairs = [("²", "²"), ("huge", "99999999999"), ("three", "3"), ("neg", "-4"), ("٣", "٣")]

    choices = _choices(param, pairs)  # type: ignore[arg-type]

    assert [(c.name, c.value) for c in choices] == [("three", 3)]


def test_numbers_the_api_sends_as_text_are_ascii_digits_only() -> None:
    assert Tag.from_api({"id": "42", "name": "vip"}).id == 42
    assert Tag.from_api({"id": "²", "name": "vip"}).id is None
    assert Tag.from_api({"id": "٣", "name": "vip"}).id is None
    assert Tag.from_api({"id": "9" * 5000, "name": "vip"}).id is None
