"""Hostile text, and readers that find what Slack and Discord would render live in a message.

The readers do not share code with the renderers: they look at the rendered strings the way
the platforms read them (mrkdwn's and Discord's markdown rules, loosely and so more eagerly
than the platforms) and list every construct found: links, mentions, broadcasts, code,
emphasis, quotes, headings, lists, fences, broken entities. A test compares that list with
the constructs the bot itself put there.

Every hostile string carries the word ``ZAP``: a construct whose content holds it was formed
by the hostile text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.mylivechat import MyLiveChatClient
from bot.sandbox import SandboxServer
from bot.sandbox.state import Feedback, Handoff, Message, Starter, Transcript

MARK = "ZAP"

HOSTILE: tuple[str, ...] = (
    "[Reset your password ZAP](https://evil.example/login)",
    "[a [ZAP](https://evil.example/x)",
    "<https://evil.example/login|ZAP click>",
    "**ZAP bold**",
    "__ZAP underline__",
    "*ZAP star*",
    "_ZAP italic_",
    "~ZAP strike~",
    "~~ZAP struck~~",
    "||ZAP spoiler||",
    "# ZAP heading",
    "### ZAP heading",
    "-# ZAP subtext",
    "> ZAP quote",
    ">>> ZAP quote",
    "1. ZAP list",
    "- ZAP item",
    "`ZAP tick`",
    "```\nZAP fence never closed",
    "``ZAP`` double",
    "@everyone ZAP",
    "@here ZAP",
    "@channel ZAP",
    "<!channel> ZAP",
    "<!here|here> ZAP",
    "<@U1> ZAP",
    "<@123456789012345678> ZAP",
    "<@&123456789012345678> ZAP",
    "<#C1> ZAP",
    "<#123456789012345678> ZAP",
    "</ZAP:123456789012345678>",
    "<t:0:R> ZAP",
    "<:ZAP:123456789012345678>",
    "<!subteam^S1> ZAP",
    "https://evil.example/ZAP",
    "ZAP &amp; &lt;b&gt; & <b>",
    "ZAP \\*not\\* escaped",
)
"""One per kind of markup; joined, they make a single worst-case text."""

ALL_IN_ONE = " ".join(h.replace("\n", " ") for h in HOSTILE)


# --- Slack -------------------------------------------------------------------------------------


def mrkdwn_texts(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every mrkdwn text object of the blocks."""
    found: list[dict[str, Any]] = []

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(node)
                return
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    visit(blocks)
    return found


_SLACK_OPEN = r"(?<![^\s(\[{>\"'])"  # at the start, or after a space or an opening mark
_SLACK_CLOSE = r"(?![^\s.,;:!?)\]}'\"<])"
_SLACK_EMPHASIS = {
    marker: re.compile(rf"{_SLACK_OPEN}\{marker}(?=\S)(.+?)(?<=\S)\{marker}{_SLACK_CLOSE}", re.M)
    for marker in "*_~"
}
_SLACK_NAMES = {"*": "bold", "_": "italic", "~": "strike"}


def slack_constructs(text: str) -> list[tuple[str, str]]:
    """What Slack would render live in one mrkdwn text: (kind, content) pairs."""
    found: list[tuple[str, str]] = []
    block = text.startswith("```\n") and text.endswith("\n```")
    if block:  # the bot's monospaced table: nothing formats inside, but it must stay closed
        found.append(("code block", ""))
        text = text[4:-4]
    if "```" in text:
        found.append(("fence", text))
    for match in re.finditer(r"&(?!amp;|lt;|gt;)", text):
        found.append(("broken entity", text[max(match.start() - 10, 0) : match.end() + 10]))
    for match in re.finditer(r"<([^>\n]*)>", text):
        content = match[1]
        kind = "link" if re.match(r"(https?|mailto):", content) else "mention"
        found.append((kind, content))
    for match in re.finditer(r"(?<![\w\u200b])@(here|channel|everyone)\b", text, re.I):
        found.append(("broadcast", match[0]))
    if block:
        return found
    rest = text
    for match in re.finditer(r"`([^`\n]+)`", text):
        found.append(("code", match[1]))
        rest = rest.replace(match[0], " " * len(match[0]), 1)
    for marker, pattern in _SLACK_EMPHASIS.items():
        for match in pattern.finditer(rest):
            found.append((_SLACK_NAMES[marker], match[1]))
    for match in re.finditer(r"^[ \t]*(?:&gt;|>)(.*)$", rest, re.M):
        found.append(("quote", match[1]))
    return found


@dataclass
class SlackFindings:
    constructs: list[tuple[str, str]] = field(default_factory=list)
    not_verbatim: int = 0

    def hostile(self, *, allowed: Iterable[tuple[str, str]] = ()) -> list[tuple[str, str]]:
        """Constructs the hostile text formed: anything holding the mark, any link, mention
        or broadcast, any fence or broken entity, except those in ``allowed``."""
        ok = set(allowed)
        always = ("link", "mention", "broadcast", "fence", "broken entity")
        return [
            c
            for c in self.constructs
            if c not in ok and (MARK in c[1] or c[0] in always) and c[0] != "code block"
        ]


def slack_findings(message: dict[str, Any] | list[dict[str, Any]]) -> SlackFindings:
    """The constructs of every mrkdwn text in a message (or its blocks), and its fallback."""
    blocks = message["blocks"] if isinstance(message, dict) else message
    findings = SlackFindings()
    for node in mrkdwn_texts(blocks):
        findings.constructs.extend(slack_constructs(node["text"]))
        findings.not_verbatim += node.get("verbatim") is not True
    if isinstance(message, dict) and message.get("text"):
        findings.constructs.extend(slack_constructs(message["text"]))
    return findings


# --- Discord -----------------------------------------------------------------------------------

_ESCAPED = "\x01"  # stands for a character a backslash made literal


def _unescaped_view(text: str) -> str:
    """``text`` with each backslash escape replaced by one inert character."""
    return re.sub(r"\\[^0-9A-Za-z\s]", _ESCAPED, text)


_DISCORD_SPANS = {
    "bold": re.compile(r"\*\*(.+?)\*\*", re.S),
    "underline": re.compile(r"__(.+?)__", re.S),
    "strike": re.compile(r"~~(.+?)~~", re.S),
    "spoiler": re.compile(r"\|\|(.+?)\|\|", re.S),
    "italic": re.compile(r"(?<![*\w])\*(?![*\s])(.+?)(?<=[^\s*])\*(?!\*)|\b_(.+?)_\b", re.S),
}
_DISCORD_LINES = {
    "heading": re.compile(r"^[ \t]*#{1,3}[ \t](.*)$", re.M),
    "subtext": re.compile(r"^[ \t]*-#[ \t](.*)$", re.M),
    "quote": re.compile(r"^[ \t]*>{1,3}[ \t](.*)$", re.M),
    "list": re.compile(r"^[ \t]*(?:[-*+]|[0-9]+\.)[ \t](.*)$", re.M),
}


def discord_constructs(text: str) -> list[tuple[str, str]]:
    """What Discord would render live in one markdown string: (kind, content) pairs."""
    view = _unescaped_view(text)
    found: list[tuple[str, str]] = []
    for match in re.finditer(r"(`+)(.+?)\1", view, re.S):
        found.append(("code", match[2]))
        view = view.replace(match[0], " " * len(match[0]), 1)
    for match in re.finditer(r"\[([^\[\]]*)\]\(", view):
        found.append(("link", match[1]))
    for match in re.finditer(r"(?:https?|steam)://\S*", view):
        found.append(("link", match[0]))
    for match in re.finditer(r"<(?:@|#|:|a:|t:|/|https?:)[^>]*>", view):
        found.append(("mention", match[0]))
    for match in re.finditer(r"@(everyone|here)\b", view):
        found.append(("broadcast", match[0]))
    for kind, pattern in _DISCORD_SPANS.items():
        for match in pattern.finditer(view):
            found.append((kind, match[1] or match[match.lastindex or 1] or ""))
    for kind, pattern in _DISCORD_LINES.items():
        for match in pattern.finditer(view):
            found.append((kind, match[1]))
    return found


def discord_strings(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, text) of every string of a message body's embeds that renders markdown."""
    out: list[tuple[str, str]] = []
    for embed in body.get("embeds") or []:
        for key in ("title", "description"):
            if embed.get(key):
                out.append((key, embed[key]))
        for item in embed.get("fields") or []:
            out.append(("field name", item["name"]))
            out.append(("field value", item["value"]))
    return out


def discord_hostile(
    body: dict[str, Any], *, allowed: Iterable[tuple[str, str]] = ()
) -> list[tuple[str, str, str]]:
    """(where, kind, content) of every construct the hostile text formed in the embeds."""
    ok = set(allowed)
    always = ("link", "mention", "broadcast")
    return [
        (where, *c)
        for where, text in discord_strings(body)
        for c in discord_constructs(text)
        if c not in ok and (MARK in c[1] or c[0] in always)
    ]


# --- a sandbox full of hostile text ------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    session_id: str
    """The newest handoff's session: its visitor, reason and transcript are hostile."""


def seed_hostile(sandbox: SandboxServer) -> Seeded:
    """Visitor-written text everywhere a visitor writes: the newest handoff (name and reason),
    its transcript (every message and author), feedback comments and starters."""
    state = sandbox.state
    site = sandbox.site_a_id
    now = state.now()
    session = "s_hostile0001"
    state.add_session(site, session)
    state.handoffs.append(
        Handoff(
            id=state.next_id("handoff"),
            site_id=site,
            session_id=session,
            visitor_key="v-hostile",
            visitor_name=ALL_IN_ONE[:180],
            reason=ALL_IN_ONE,
            assigned_to=None,
            created_utc=now - timedelta(seconds=30),
        )
    )
    messages = [
        Message(
            role="visitor",
            author=f"ZAP **{i}**",
            text=text,
            at_utc=now - timedelta(minutes=40) + timedelta(seconds=i),
        )
        for i, text in enumerate(HOSTILE)
    ]
    state.transcripts[session] = Transcript(
        site_id=site,
        session_id=session,
        visitor_key="v-hostile",
        started_utc=now - timedelta(minutes=41),
        ended_utc=None,
        messages=messages,
    )
    for i, text in enumerate(HOSTILE):
        state.feedback.append(
            Feedback(
                id=state.next_id("feedback"),
                site_id=site,
                session_id=session,
                rating=1 + i % 5,
                comment=text,
                created_utc=now - timedelta(seconds=20 - i % 20),
            )
        )
    for i, text in enumerate(HOSTILE[:8]):
        state.starters.append(
            Starter(
                id=state.next_id("starter"), site_id=site, text=text, enabled=True, sort_order=i
            )
        )
    return Seeded(session)


async def seed_hostile_via_api(api: MyLiveChatClient, sandbox: SandboxServer, plan: str) -> Seeded:
    """:func:`seed_hostile`, and through the API tags (names and descriptions) and a
    visitor (name, and ``plan``: a platform's own mention syntax) of hostile text."""
    seeded = seed_hostile(sandbox)
    for text in HOSTILE:
        if len(text) <= 50:  # the API's bound on a tag name
            await api.create_tag(text, description=ALL_IN_ONE[:500])
    await api.upsert_visitor("v-hostile", name=ALL_IN_ONE[:200], plan=plan)
    return seeded
