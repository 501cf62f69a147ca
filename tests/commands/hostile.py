"""Hostile values for every declared parameter of every command, and a bench to run them on.

Everything is derived from the declarations (``default_catalog()``), so a new command or
parameter is fuzzed without touching this module. Shared by ``test_hostile_values.py`` and
``benchmarks/fuzz_commands.py``.
"""

from __future__ import annotations

import logging
import shlex
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from bot.mylivechat import MyLiveChatClient
from bot.sandbox import SandboxServer
from bot.secrets import Registry
from bot.storage import LazySubscriptionStore
from commands.cache import SiteCache
from commands.catalog import default_catalog
from commands.context import Caller, Context, Policy, Surface
from commands.digests.service import DigestService
from commands.dispatch import Dispatcher
from commands.parser import parse
from commands.render import render_json, render_text
from commands.reply import Failure, Reply
from commands.spec import Command, ParamType

CATALOG = default_catalog()
COMMANDS: tuple[Command, ...] = tuple(CATALOG)

OUT_OF_RANGE = (
    "0",
    "-1",
    "-2147483648",
    "2147483648",
    "4294967296",
    "9223372036854775808",
    "99999999999999999999",
    "9" * 400,
    "9" * 5000,  # int() refuses more than 4,300 digits
    "0" * 5000 + "1",
    "1e3",
    "1_000",
    "0x10",
    "3.0",
    "+5",
    "#3",
    "# 3",
    "NaN",
    "inf",
)
UNICODE_DIGITS = ("²", "٣", "𝟘", "³³", "１２", "১", "Ⅻ", "½", "-²", "#²", "n=²")
CONTROL = (
    "\x00",
    "a\x00b",
    "\x1b[31mred",
    "a\tb",
    "a\nb",
    "\r\n",
    "\x7f",
    "\x85",
    "a\u2028b",
    "\u200f",
    "\u202eevil",
    "\u2066x",
    "\ufeff",
    "\u200b",
    "\ud800",
    "k=\x00",
)
LONG = (
    "x" * 65,
    "x" * 129,
    "x" * 201,
    "x" * 501,
    "x" * 2049,
    "y" * 5000,
    "z" * 40_000,  # a Slack mention can carry this much
    "k=" + "v" * 600,
    " ".join(f"k{i}=v" for i in range(60)),
    "ab " * 2000,
)
SHAPES = (
    "",
    " ",
    "-",
    "--",
    "---",
    "--help",
    "-h",
    "--public",
    "--limit",
    "--=",
    "--x=",
    "'",
    '"',
    '"unclosed',
    "“smart”",
    "‘",
    "\\",
    "`",
    "a=b",
    "=",
    "a=",
    "=b",
    "é=1",
    "https://",
    "https://hooks.slack.com/",
    "http://127.0.0.1:1/x",
    "javascript:alert(1)",
    "<@U123> <!channel>",
    "${jndi:ldap://x}",
    "'; DROP TABLE digest_subscriptions; --",
    "%00%s%n",
    "\U0001f600",
    "🏳️‍🌈",
)
HOSTILE_TEXT: tuple[str, ...] = OUT_OF_RANGE + UNICODE_DIGITS + CONTROL + LONG + SHAPES
"""Every hostile value a user can type, by kind."""

HOSTILE_TYPED: tuple[Any, ...] = (
    0,
    -1,
    2**31 - 1,
    2**31,
    2**53 + 1,
    2**63,
    10**30,
    -(10**30),
    10**5000,  # str() of it raises
    True,
    False,
    1.5,
    float("nan"),
    float("inf"),
    [],
    {},
    ["a=b", "²"],
    {"k": "²"},
    {"": "x"},
    {"a": "\x00"},
    {"a=b": "c"},
)
"""Values only an adapter can send (Discord's typed options, button payloads)."""

CORE_TEXT: tuple[str, ...] = (
    "0",
    "-1",
    "2147483648",
    "99999999999999999999",
    "9" * 5000,
    "1_000",
    "²",
    "٣",
    "𝟘",
    "a\x00b",
    "a\nb",
    "\ud800",
    "\u202eevil",
    "x" * 201,
    "y" * 5000,
    "",
    "--",
    "--help",
    '"unclosed',
    "k=" + "v" * 600,
)
"""One or two of each kind above: what the normal test run sends to every parameter."""
CORE_TYPED: tuple[Any, ...] = (2**31, -(10**30), 10**5000, True, 1.5, ["²"], {"a": "\x00"})

_ANY_CHAR = st.characters(exclude_categories=[])  # every code point, surrogates included
HOSTILE_TEXT_VALUES: st.SearchStrategy[str] = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    st.text(_ANY_CHAR, max_size=40),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.text(st.characters(categories=["Nd", "No", "Nl"]), min_size=1, max_size=6),
    st.text(st.characters(categories=["Cc", "Cf", "Zl", "Zp", "Cs"]), min_size=1, max_size=4),
    st.builds(lambda c, n: c * n, _ANY_CHAR, st.integers(0, 6000)),
)
HOSTILE_VALUES: st.SearchStrategy[Any] = st.one_of(
    HOSTILE_TEXT_VALUES,
    st.sampled_from(HOSTILE_TYPED),
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(),
    st.lists(HOSTILE_TEXT_VALUES, max_size=4),
    st.dictionaries(HOSTILE_TEXT_VALUES, HOSTILE_TEXT_VALUES, max_size=4),
)


def base_raw(command: Command) -> dict[str, Any]:
    """Raw values that bind for ``command``: its first example's, as an adapter sends them."""
    args = parse(command.examples[0], CATALOG).args
    raw: dict[str, Any] = {}
    for param in command.params:
        value = args.get(param.name)
        if value is None or value is False:
            continue
        if param.type is ParamType.CHOICES:
            value = ",".join(value)
        elif param.type is ParamType.KEY_VALUES:
            value = [f"{k}={v}" for k, v in value.items()]
        raw[param.name] = value
    return raw


def as_text(command: Command, raw: Mapping[str, Any], *, quote: bool = True) -> str:
    """``raw`` as command text: positionals in order, then ``--options``.

    ``quote`` keeps each value one word (shell quotes); without it values are pasted bare,
    as a careless user would.
    """
    words = list(command.path)
    for param in command.positionals:
        if param.name in raw:
            words += _words(raw[param.name], quote)
    for param in command.options:
        if param.name not in raw:
            continue
        if param.type is ParamType.FLAG:
            words.append(param.option)
        else:
            words += [param.option, *_words(raw[param.name], quote)]
    return " ".join(words)


def _words(value: Any, quote: bool) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if isinstance(value, dict):
        items = [f"{text_of(k)}={text_of(v)}" for k, v in value.items()]
    texts = [text_of(item) for item in items]
    return [shlex.quote(t) for t in texts] if quote else texts


def text_of(value: Any) -> str:
    """``str(value)``, also for an int too long for ``str()``."""
    try:
        return str(value)
    except ValueError:  # an int too long for str()
        return "9" * 5000


class Outcome(Exception):
    """A reply that breaks the contract: an internal error, a traceback, an ERROR log line."""


class ErrorLog(logging.Handler):
    """Collects ERROR records from every logger (the bot's, the sandbox's, aiohttp's)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Bench:
    """A dispatcher, an admin's context on site A of a real sandbox, digests on SQLite."""

    sandbox: SandboxServer
    api: MyLiveChatClient
    digests: DigestService
    errors: ErrorLog
    secrets: Registry = field(default_factory=Registry)
    """The bench's own: what fuzzing registers as secrets stays out of the process's."""
    dispatcher: Dispatcher = field(default_factory=Dispatcher)
    site: SiteCache = field(default_factory=SiteCache)
    checked: int = 0

    def context(self) -> Context:
        return Context(
            api=self.api,
            caller=Caller(user_id="U_ADMIN", name="admin", platform_admin=True),
            surface=Surface(platform="slack", channel_id="C_FUZZ", workspace_id="T_FUZZ"),
            secrets=self.secrets,
            policy=Policy(),
            site=self.site,
            digests=self.digests,
        )

    async def text(self, text: str) -> Reply:
        """Run command text and check the reply."""
        return self.check(await self.dispatcher.run_text(text, self.context()), text)

    async def typed(self, command: Command, raw: Mapping[str, Any]) -> Reply:
        """Run typed values (what Discord sends) and check the reply."""
        reply = await self.dispatcher.run(command, raw, self.context())
        return self.check(reply, f"{command.name} {text_of(dict(raw))[:300]}")

    def check(self, reply: Reply, what: str) -> Reply:
        self.checked += 1
        if not isinstance(reply, Reply):
            raise Outcome(f"{what[:300]!r}: not a Reply: {reply!r}")
        if reply.failure is Failure.INTERNAL:
            raise Outcome(f"{what[:300]!r}: internal error: {reply.text}")
        shown = render_text(reply)
        render_json(reply)
        if "Traceback" in shown or 'File "' in shown:
            raise Outcome(f"{what[:300]!r}: a traceback in the reply")
        if self.errors.records:
            record = self.errors.records[0]
            self.errors.records.clear()
            raise Outcome(f"{what[:300]!r}: logged at ERROR: {record.getMessage()[:300]}")
        return reply


@asynccontextmanager
async def bench(directory: Path, database: str = "fuzz-digests.db") -> AsyncIterator[Bench]:
    """A fresh sandbox, site A's read,write client and a digest database in ``directory``."""
    errors = ErrorLog()
    root = logging.getLogger()
    root.addHandler(errors)
    store = LazySubscriptionStore(f"sqlite:///{directory / database}")
    digests = DigestService(store)
    try:
        async with (
            SandboxServer(rate_limit=100_000, window=60.0) as sandbox,
            MyLiveChatClient(
                sandbox.tokens.site_a_write, base_url=sandbox.url, backoff=0.01, timeout=5.0
            ) as api,
        ):
            yield Bench(sandbox, api, digests, errors)
    finally:
        await store.aclose()
        root.removeHandler(errors)
