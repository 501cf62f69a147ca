"""Failures as friendly replies: what happened, what to do, and the request id."""

from __future__ import annotations

from bot.mylivechat import (
    AuthError,
    BudgetExhausted,
    Conflict,
    MyLiveChatError,
    NotFound,
    RateLimited,
    ScopeError,
    ServerError,
    TransportError,
)
from bot.secrets import redact

from .budget import seconds
from .errors import CommandError, PermissionDenied, UsageError
from .reply import Failure, Kind, Reply
from .spec import Command

__all__ = ["READ_ONLY_HELP", "api_error_reply", "command_error_reply", "usage_reply"]

READ_ONLY_HELP = (
    "The bot's MyLiveChat token is read-only, so it cannot change anything. "
    "An admin can issue a read,write token at MyLiveChat's /dashboard/config_api_tokens.ascx "
    "and set it as MLC_API_TOKEN."
)


def _explain(exc: MyLiveChatError) -> tuple[str, str]:
    """(what happened, what to do) for an API error."""
    if isinstance(exc, BudgetExhausted):
        return (
            f"MyLiveChat's rate limit is spent; try again in {seconds(exc.retry_after)}.",
            "The answer could not arrive before this reply expires, so nothing was sent "
            "to MyLiveChat and nothing changed.",
        )
    if isinstance(exc, AuthError):
        return (
            "MyLiveChat did not accept the bot's API token.",
            "An admin should check MLC_API_TOKEN, or issue a new token at "
            "/dashboard/config_api_tokens.ascx.",
        )
    if isinstance(exc, ScopeError):
        return "MyLiveChat refused a change: the token lacks the write scope.", READ_ONLY_HELP
    if isinstance(exc, NotFound):
        if exc.code == "unknown_resource":
            return (
                "This MyLiveChat site does not offer that API resource.",
                "Check MLC_API_URL points at the MyLiveChat v1 API.",
            )
        return (
            f"MyLiveChat found nothing like that for this site ({exc.message}).",
            "Check the id: ids of other sites are not visible here.",
        )
    if isinstance(exc, Conflict):
        return f"That clashes with something that exists ({exc.message}).", "Pick another name."
    if isinstance(exc, RateLimited):
        wait = f"{exc.retry_after:.0f} s" if exc.retry_after else "a minute"
        return "MyLiveChat is rate limiting the bot's token.", f"Try again in {wait}."
    if isinstance(exc, ServerError):
        return (
            "MyLiveChat had an internal error.",
            "Try again shortly; if it persists, quote the request id to MyLiveChat support.",
        )
    if isinstance(exc, TransportError):
        if exc.code == "timeout":
            return "MyLiveChat did not answer in time.", "Try again in a moment."
        if exc.status:
            return (
                f"MyLiveChat (or a proxy in front of it) answered HTTP {exc.status} "
                "with something that is not the API's JSON.",
                "Try again shortly; quote the request id to support if it persists.",
            )
        return "The bot could not reach MyLiveChat.", "Check MLC_API_URL and the network."
    return (
        f"MyLiveChat did not accept the request: {exc.message}",
        "Check the values and try again.",
    )


def api_error_reply(exc: MyLiveChatError) -> Reply:
    what, todo = _explain(exc)
    kind = Kind.WARNING if isinstance(exc, RateLimited | BudgetExhausted) else Kind.ERROR
    return Reply(
        title="Rate limit spent" if isinstance(exc, BudgetExhausted) else "MyLiveChat error",
        text=f"{what}\n{todo}",
        kind=kind,
        failure=Failure.API,
        request_id=exc.request_id,
        error_code=exc.code,
    )


def usage_reply(exc: UsageError, command: Command | None) -> Reply:
    # The message may quote what was typed, and that may be a webhook URL (a secret).
    lines = [redact(exc.message)]
    if exc.hint:
        lines.append(exc.hint)
    if command is not None:
        lines.append(f"Usage: `{command.usage}`")
        lines.append(f"Example: `{command.examples[0]}`")
    elif "`help" not in exc.message + exc.hint:  # once: the message may already point there
        lines.append("Type `help` for the list of commands.")
    return Reply(
        title="That command needs a fix",
        text="\n".join(lines),
        kind=Kind.ERROR,
        failure=Failure.USAGE,
        error_code="usage",
    )


def command_error_reply(exc: CommandError) -> Reply:
    denied = isinstance(exc, PermissionDenied)
    text = exc.message + (f"\n{exc.hint}" if exc.hint else "")
    return Reply(
        title="Not allowed" if denied else "Cannot do that",
        text=text,
        kind=Kind.ERROR if not denied else Kind.WARNING,
        failure=Failure.DENIED if denied else Failure.INPUT,
        error_code="denied" if denied else "input",
    )
