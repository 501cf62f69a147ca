"""Errors a command raises to give the user a reply instead of a result.

API failures are :class:`bot.mylivechat.MyLiveChatError`; the dispatcher
turns both into friendly replies.
"""

from __future__ import annotations

from bot.mylivechat import MyLiveChatError

from .markup import data

__all__ = ["CommandError", "PermissionDenied", "UsageError", "no_database", "unknown_session"]


class CommandError(Exception):
    """A request that was understood but cannot be done, with a message safe to show.

    ``answer`` is MyLiveChat's refusal behind it, when there was one: the reply then
    carries its code and request id, as every API error does.
    """

    def __init__(
        self, message: str, *, hint: str = "", answer: MyLiveChatError | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.answer = answer


class UsageError(CommandError):
    """The text could not be understood; the reply shows the command's usage.

    ``path`` names the command the text was meant for (``("tags", "add")``), when that
    much was understood.
    """

    def __init__(
        self, message: str, *, hint: str = "", path: tuple[str, ...] | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.path = path


class PermissionDenied(CommandError):
    """The caller, or the site token, may not run this command."""


def no_database(feature: str, command: str) -> CommandError:
    """The one message for a command (``alerts``, ``digest``) that needs the bot's database
    in a process started without it."""
    return CommandError(
        f"{feature} need the bot's database, and this process was started without it.",
        hint=f"Run `{command}` commands in Slack, Discord or `mlc-bot demo`.",
    )


def unknown_session(session_id: str, answer: MyLiveChatError | None = None) -> CommandError:
    """The one message for a session id the site does not know (transcript, tag, untag);
    ``answer``: MyLiveChat's 404, when it said so itself."""
    return CommandError(
        f"There is no chat session `{data(session_id)}` on this site.",
        hint="Check the id: `handoffs` and `transcripts` list recent sessions.",
        answer=answer,
    )
