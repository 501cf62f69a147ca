"""Run a command: parse or bind, check permission, call the handler, never raise."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import uuid
from collections.abc import Mapping
from typing import Any

from bot.mylivechat import MyLiveChatError, ScopeError, request_budget

from .budget import QueueNotice
from .catalog import Catalog, default_catalog
from .completion import pick_reply
from .context import Context
from .errors import CommandError, PermissionDenied, UsageError
from .failures import (
    READ_ONLY_HELP,
    api_error_reply,
    command_error_reply,
    internal_error_reply,
    usage_reply,
)
from .parser import Invocation, bind, parse, parse_words, tokenize
from .ports import CommandObserver
from .reply import Failure, Reply
from .running import RunningCommand
from .running import current as current_command
from .spec import PUBLIC_FLAG, Command, Permission

__all__ = ["UNRECOGNIZED", "Dispatcher"]

log = logging.getLogger("mlc_bot.commands")

UNRECOGNIZED = "unrecognized"
"""The command name an observer is told for text that named no command."""


class Dispatcher:
    """The one way adapters run commands. Every outcome is a :class:`Reply`.

    Each command runs as a :class:`~commands.running.RunningCommand` (its request id is on
    every log line written meanwhile), and :attr:`observer`, when set, is told its outcome.
    """

    def __init__(
        self, catalog: Catalog | None = None, *, observer: CommandObserver | None = None
    ) -> None:
        self.catalog = catalog or default_catalog()
        self.observer = observer

    async def run_text(self, text: str, ctx: Context) -> Reply:
        """Run command text as typed in Slack or the console."""
        try:
            invocation = parse(text, self.catalog)
        except UsageError as exc:
            meant = self._meant(exc)
            return self._unrun(meant, usage_reply(exc, meant, redact=ctx.secrets.redact))
        except Exception:
            return self._unrun(None, _internal_error("parsing command text"))
        return await self.execute(invocation, ctx)

    async def run_picked(self, text: str, value: str, ctx: Context) -> Reply:
        """Run ``text`` completed with a value chosen from a :class:`~.reply.Picker`.

        The value is added as one word, exactly as chosen: quotes, spaces and
        backslashes in it are not read as command syntax.
        """
        try:
            words = tokenize(text)
            # After "--" nothing is an option: a value such as "--x" stays a value.
            words += [value] if "--" in words else ["--", value]
            invocation = parse_words(words, self.catalog)
        except UsageError as exc:
            meant = self._meant(exc)
            return self._unrun(meant, usage_reply(exc, meant, redact=ctx.secrets.redact))
        except Exception:
            return self._unrun(None, _internal_error("parsing a picked value"))
        return await self.execute(invocation, ctx)

    async def offer_pick(self, source: str, text: str, ctx: Context, *, limit: int = 25) -> Reply:
        """Up to ``limit`` choices a pick button offers to complete ``text`` (``run_picked``)."""
        try:
            return await pick_reply(source, text, ctx, limit=limit)
        except Exception:
            return _internal_error(f"offering {source} choices")

    async def run(self, command: Command, raw: Mapping[str, Any], ctx: Context) -> Reply:
        """Run a command with typed values (Discord options, button payloads)."""
        try:
            invocation = Invocation(command, bind(command, raw))
        except UsageError as exc:
            return self._unrun(command, usage_reply(exc, command, redact=ctx.secrets.redact))
        except Exception:
            return self._unrun(command, _internal_error(f"binding options for {command.name!r}"))
        return await self.execute(invocation, ctx)

    async def execute(self, invocation: Invocation, ctx: Context) -> Reply:
        """Run a parsed command as one :class:`RunningCommand`, and tell the observer."""
        name = invocation.command.name
        running = RunningCommand(uuid.uuid4().hex[:16], name, time.monotonic())
        token = current_command.set(running)
        try:
            reply = await self._execute(invocation, ctx)
        except asyncio.CancelledError:
            self._observe(name, "cancelled")
            raise
        finally:
            current_command.reset(token)
        self._observe(name, _outcome(reply))
        return dataclasses.replace(reply, command=name)

    def _unrun(self, command: Command | None, reply: Reply) -> Reply:
        """``reply`` for a command that could not even be parsed: the observer is told."""
        self._observe(command.name if command else UNRECOGNIZED, _outcome(reply))
        return reply

    def _observe(self, command: str, outcome: str) -> None:
        if self.observer is None:
            return
        try:
            self.observer.command_done(command, outcome)
        except Exception:
            log.warning("the command observer failed", exc_info=True)

    async def _execute(self, invocation: Invocation, ctx: Context) -> Reply:
        command = invocation.command
        args = dict(invocation.args)
        public = bool(args.pop(PUBLIC_FLAG.name, False)) if command.public else False
        if ctx.catalog is None:
            ctx.catalog = self.catalog
        notice = QueueNotice(ctx, command.name)
        try:
            with request_budget(
                priority=ctx.received_at, deadline=ctx.reply_deadline, on_wait=notice.saw_wait
            ):
                await self._authorize(command, ctx)
                reply = await command.handler(ctx, **args)
        except UsageError as exc:
            return usage_reply(exc, self._meant(exc) or command, redact=ctx.secrets.redact)
        except CommandError as exc:
            return command_error_reply(exc)
        except ScopeError as exc:
            return dataclasses.replace(
                api_error_reply(exc), failure=Failure.DENIED, text=f"{READ_ONLY_HELP}"
            )
        except MyLiveChatError as exc:
            log.info("command %r failed: %r", command.name, exc)
            return api_error_reply(exc)
        except Exception:
            return _internal_error(command.name)
        finally:
            await notice.settled()
        if public and not reply.sensitive and reply.ok:
            reply = dataclasses.replace(reply, private=False)
        elif reply.sensitive:
            reply = dataclasses.replace(reply, private=True)
        return reply

    def _meant(self, exc: UsageError) -> Command | None:
        """The command a usage mistake was meant for, when the parser got that far."""
        return self.catalog.get(exc.path) if exc.path else None

    async def _authorize(self, command: Command, ctx: Context) -> None:
        policy, caller = ctx.policy, ctx.caller
        changes = command.writes or command.permission is not Permission.READ
        if changes and not caller.known and not policy.is_listed(caller):
            raise PermissionDenied(
                f"Could not confirm your role in this workspace, so `{command.name}` did not run "
                "and nothing was sent to MyLiveChat.",
                hint="Try again in a moment; read commands work meanwhile.",
            )
        if command.permission is Permission.ADMIN and not policy.is_admin(caller):
            raise PermissionDenied(
                f"`{command.name}` is for admins.",
                hint="Ask a workspace admin, or have your user id added to MLC_BOT_ADMINS.",
            )
        if command.permission is Permission.MEMBER_WRITE and not policy.is_member(caller):
            raise PermissionDenied(
                f"`{command.name}` changes MyLiveChat data and is for team members.",
                hint="Ask an admin to add your user id to MLC_BOT_MEMBERS.",
            )
        if command.writes:
            whoami = await ctx.site.whoami(ctx.api)
            if not whoami.can_write:
                raise PermissionDenied(f"`{command.name}` cannot run.", hint=READ_ONLY_HELP)


def _outcome(reply: Reply) -> str:
    return reply.failure.value if reply.failure is not None else "ok"


def _internal_error(what: str) -> Reply:
    return internal_error_reply(f"running {what!r}")
