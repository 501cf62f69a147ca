"""Interactions in, core replies out: defer, dispatch, follow up; and autocomplete.

Every handler acknowledges the interaction first (``defer``) with no I/O
before it, so Discord's 3-second window is met however slow MyLiveChat is;
the answer follows as a follow-up message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any

import discord
from discord import app_commands

from commands.completion import complete
from commands.context import Context
from commands.core import Core
from commands.errors import UsageError
from commands.failures import not_set_up_here_reply
from commands.reply import Reply
from commands.spec import PUBLIC_FLAG, Command, Param, ParamType

from .embeds import render_embeds
from .identity import caller_of, surface_of
from .limits import CHOICE_VALUE, CHOICES_PER_OPTION, SELECT_OPTIONS, fit
from .views import build_view

__all__ = ["InteractionHandler", "send_reply"]

log = logging.getLogger("mlc_bot.discord")

_NO_MENTIONS = discord.AllowedMentions.none()
INTERACTION_LIFETIME = 15 * 60.0
"""Seconds an interaction's token takes follow-ups (Discord: 15 minutes)."""
_ANSWER_MARGIN = 30.0
"""Kept free at the end of an interaction's lifetime: the answer must be built and sent."""
_PRIVATE_NOTE = "Answered privately: only the person who asked can see the answer."


class InteractionHandler:
    """Runs core commands for Discord interactions. Holds no state of its own.

    With ``guild_ids``, only those servers are served: an interaction from any other server
    the bot was added to is answered "not set up here" and nothing runs (anyone may add a
    public bot to their server; the bot acts with one MyLiveChat site's token).
    """

    def __init__(
        self,
        core: Core,
        *,
        guild_ids: Collection[int] = (),
        autocomplete_timeout: float = 2.0,
        reply_lifetime: float = INTERACTION_LIFETIME,
    ) -> None:
        """``reply_lifetime`` shortens the 15 minutes an interaction takes answers (tests)."""
        self.core = core
        self.guild_ids = frozenset(guild_ids)
        self.reply_lifetime = reply_lifetime
        self.autocomplete_timeout = autocomplete_timeout
        self._background: set[asyncio.Future[Any]] = set()

    def serves(self, interaction: discord.Interaction) -> bool:
        """Whether ``interaction`` comes from a server this bot is set up for."""
        return not self.guild_ids or interaction.guild_id in self.guild_ids

    async def _refused(self, interaction: discord.Interaction) -> bool:
        """Answer an interaction from a server the bot does not serve; True when refused."""
        if self.serves(interaction):
            return False
        log.warning(
            "refused a Discord interaction from server %s: the bot serves only its own",
            interaction.guild_id or "none",
        )
        reply = not_set_up_here_reply("server")
        await interaction.response.send_message(embeds=render_embeds(reply), ephemeral=True)
        return True

    def context(
        self, interaction: discord.Interaction, *, received: float | None = None
    ) -> Context:
        """The command's context; ``received`` (monotonic) is when the interaction came in."""
        lifetime = self.reply_lifetime
        return self.core.context(
            caller_of(interaction),
            surface_of(interaction),
            received_at=received,
            reply_deadline=(
                received + lifetime - min(_ANSWER_MARGIN, lifetime / 10)
                if received is not None
                else None
            ),
            notify=_interim(interaction),
        )

    # --- slash commands -----------------------------------------------------------------

    async def run_command(
        self, interaction: discord.Interaction, command: Command, options: Mapping[str, Any]
    ) -> None:
        """``/mlc ...``: defer (public only when asked and allowed), run, follow up."""
        received = time.monotonic()
        if await self._refused(interaction):
            return
        public = command.public and bool(options.get(PUBLIC_FLAG.name))
        await interaction.response.defer(ephemeral=not public, thinking=True)
        raw = {name: value for name, value in options.items() if value is not None}
        ctx = self.context(interaction, received=received)
        reply = await self.core.dispatcher.run(command, raw, ctx)
        await send_reply(interaction, reply, deferred_public=public)

    # --- buttons and menus --------------------------------------------------------------

    async def run_action(self, interaction: discord.Interaction, text: str) -> None:
        """A button or menu: run its command text for whoever used it; answer privately."""
        received = time.monotonic()
        if await self._refused(interaction):
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        ctx = self.context(interaction, received=received)
        reply = await self.core.dispatcher.run_text(text, ctx)
        await send_reply(interaction, reply, deferred_public=False)

    async def offer_pick(self, interaction: discord.Interaction, source: str, text: str) -> None:
        """A ``pick`` button: offer the source's choices; picking one runs ``text <choice>``."""
        received = time.monotonic()
        if await self._refused(interaction):
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        ctx = self.context(interaction, received=received)
        reply = await self.core.dispatcher.offer_pick(source, text, ctx, limit=SELECT_OPTIONS)
        await send_reply(interaction, reply, deferred_public=False)

    async def run_picked(self, interaction: discord.Interaction, text: str, value: str) -> None:
        """A value chosen in a pick menu: run ``text`` completed with it, exactly."""
        received = time.monotonic()
        if await self._refused(interaction):
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        ctx = self.context(interaction, received=received)
        reply = await self.core.dispatcher.run_picked(text, value, ctx)
        await send_reply(interaction, reply, deferred_public=False)

    # --- autocomplete -------------------------------------------------------------------

    async def autocomplete(
        self, interaction: discord.Interaction, command: Command, param: Param, current: str
    ) -> list[app_commands.Choice[Any]]:
        """Suggestions for ``param`` from cached data; empty rather than late."""
        if not self.serves(interaction):
            return []
        lookup = asyncio.ensure_future(self._suggest(interaction, param, current))
        # A slow first fetch keeps running (shielded) so the cache is warm for the next key.
        self._background.add(lookup)
        lookup.add_done_callback(self._settled)
        try:
            pairs = await asyncio.wait_for(asyncio.shield(lookup), self.autocomplete_timeout)
        except TimeoutError:
            log.info("autocomplete for %s %s took too long", command.name, param.name)
            return []
        except Exception:
            log.warning("autocomplete for %s %s failed", command.name, param.name, exc_info=True)
            return []
        return _choices(param, pairs)

    def _settled(self, lookup: asyncio.Future[Any]) -> None:
        self._background.discard(lookup)
        if not lookup.cancelled() and lookup.exception() is not None:
            log.debug("a late autocomplete lookup failed: %r", lookup.exception())

    async def _suggest(
        self, interaction: discord.Interaction, param: Param, current: str
    ) -> list[tuple[str, str]]:
        if param.type is ParamType.CHOICES:
            return _complete_list(param.choices, current)
        if param.complete:
            found = await complete(
                param.complete, self.context(interaction), current.strip(), CHOICES_PER_OPTION
            )
            return [(c.label, c.value) for c in found]
        typed = current.strip().lower()
        return [(c, c) for c in param.choices if typed in c]


async def send_reply(
    interaction: discord.Interaction, reply: Reply, *, deferred_public: bool
) -> None:
    """Follow up a deferred interaction with ``reply``.

    The first follow-up replaces the "thinking" message and keeps its
    visibility, so a private reply (a secret, or a failure) to a publicly
    deferred command first turns the public message into a short note, then
    goes to the caller alone.
    """
    embeds = render_embeds(reply)
    view = build_view(reply) if reply.ok else None
    private = not reply.public
    if deferred_public and private:
        await interaction.edit_original_response(
            content=_PRIVATE_NOTE, embeds=[], allowed_mentions=_NO_MENTIONS
        )
    extra: dict[str, Any] = {"view": view} if view is not None else {}
    try:
        await interaction.followup.send(
            embeds=embeds, ephemeral=private, allowed_mentions=_NO_MENTIONS, **extra
        )
    except discord.HTTPException as exc:
        log.error("Discord refused a reply to %r: %s", reply.title, exc)
        if exc.status == 400:
            await interaction.followup.send(
                content="The answer could not be shown in Discord; it was logged.",
                ephemeral=True,
                allowed_mentions=_NO_MENTIONS,
            )


def _interim(interaction: discord.Interaction) -> Callable[[Reply], Awaitable[None]]:
    """Shows an interim reply (such as "queued") in place of "thinking…" until the answer."""

    async def show(reply: Reply) -> None:
        await interaction.edit_original_response(
            embeds=render_embeds(reply), allowed_mentions=_NO_MENTIONS
        )

    return show


def _complete_list(allowed: tuple[str, ...], current: str) -> list[tuple[str, str]]:
    """Comma-separated values, completed one at a time: ``handoff,fe`` -> ``handoff,feedback``."""
    *done, last = [part.strip().lower() for part in current.split(",")]
    chosen = list(dict.fromkeys(d for d in done if d in allowed))
    if last in allowed and last not in chosen:
        chosen.append(last)
        last = ""
    head = ",".join(chosen)
    offers = [head] if head and not last else []
    rest = [v for v in allowed if v not in chosen and v.startswith(last)]
    offers += [f"{head},{v}" if head else v for v in rest]
    return [(text, text) for text in offers]


def _choices(param: Param, pairs: list[tuple[str, str]]) -> list[app_commands.Choice[Any]]:
    result: list[app_commands.Choice[Any]] = []
    for label, value in pairs:
        if param.type is ParamType.INTEGER:
            try:
                number = param.convert(value)  # ASCII digits within the option's range
            except UsageError:
                continue  # Discord would refuse the whole list for one bad value
            result.append(app_commands.Choice(name=fit(label, CHOICE_VALUE), value=number))
        elif value and len(value) <= CHOICE_VALUE:
            result.append(app_commands.Choice(name=fit(label, CHOICE_VALUE), value=value))
        if len(result) == CHOICES_PER_OPTION:
            break
    return result
