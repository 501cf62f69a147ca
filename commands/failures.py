"""Failures as friendly replies: what happened, what to do, and the request id."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from bot.mylivechat import (
    APIConnectionError,
    APITimeout,
    AuthError,
    BudgetExhausted,
    Conflict,
    ConnectionFailed,
    ConnectionLost,
    MyLiveChatError,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    ScopeError,
    ServerError,
    UndecodableResponse,
)

from .errors import CommandError, PermissionDenied, UsageError
from .reply import Action, Failure, Kind, Reply
from .spec import Command
from .timefmt import seconds

__all__ = [
    "READ_ONLY_HELP",
    "api_error_reply",
    "command_error_reply",
    "internal_error_reply",
    "lost_answer",
    "outcome_unknown_reply",
    "stale_command_reply",
    "usage_reply",
]

log = logging.getLogger("mlc_bot.commands")

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
            "The command was not queued (its answer could not come in time here), so "
            "nothing was sent to MyLiveChat and nothing changed.",
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
        # One rounding for a wait, as in the "queued" notice and "try again in N s".
        wait = seconds(exc.retry_after) if exc.retry_after else "a minute"
        return "MyLiveChat is rate limiting the bot's token.", f"Try again in {wait}."
    if isinstance(exc, ServerError):
        return (
            "MyLiveChat had an internal error.",
            "Try again shortly; if it persists, quote the request id to MyLiveChat support.",
        )
    if isinstance(exc, ConnectionFailed):
        return (
            "The bot could not reach MyLiveChat, so nothing was sent.",
            "Check MLC_API_URL and the network.",
        )
    if isinstance(exc, APITimeout):
        return "MyLiveChat did not answer in time.", "Try again in a moment."
    if isinstance(exc, ConnectionLost):
        return "The connection to MyLiveChat dropped before it answered.", "Try again in a moment."
    if isinstance(exc, UndecodableResponse) and exc.status:
        return (
            f"MyLiveChat (or a proxy in front of it) answered HTTP {exc.status} "
            "with something that is not the API's JSON.",
            "Try again shortly; quote the request id to support if it persists.",
        )
    if isinstance(exc, APIConnectionError):
        return "MyLiveChat's answer could not be read.", "Try again shortly."
    return (
        f"MyLiveChat did not accept the request: {exc.message}",
        "Check the values and try again.",
    )


def api_error_reply(exc: MyLiveChatError) -> Reply:
    if isinstance(exc, OutcomeUnknown):
        return outcome_unknown_reply(exc)
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


# What each write attempts, for replies about a change whose answer was lost.
_ATTEMPTED = {
    ("POST", "tags"): "the tag was created",
    ("PATCH", "tags"): "the tag was changed",
    ("DELETE", "tags"): "the tag was deleted",
    ("POST", "apply_tag"): "the session got the tag",
    ("DELETE", "apply_tag"): "the tag was taken off the session",
    ("POST", "webhook_subscriptions"): "the subscription was created",
    ("PATCH", "webhook_subscriptions"): "the subscription was changed",
    ("DELETE", "webhook_subscriptions"): "the subscription was deleted",
    ("POST", "rotate_webhook_secret"): "the secret was rotated",
    ("POST", "test_webhook"): "the test event was sent",
    ("POST", "visitors"): "the visitor was saved",
    ("POST", "visitor_event"): "the event was recorded",
}


def lost_answer(exc: OutcomeUnknown) -> str:
    """How MyLiveChat's answer to a change was lost, as the start of a sentence."""
    cause = exc.cause
    if isinstance(cause, APITimeout):
        return "MyLiveChat did not answer in time"
    if isinstance(cause, ConnectionLost):
        return "The connection to MyLiveChat dropped before it answered"
    if isinstance(cause, UndecodableResponse):
        status = f" HTTP {cause.status}" if cause.status else ""
        return (
            f"MyLiveChat (or a proxy in front of it) answered{status} with something "
            "that is not the API's JSON"
        )
    if isinstance(cause, ServerError):
        return "MyLiveChat reported an internal error, which can happen after a change is made"
    return "MyLiveChat's answer was lost"


def outcome_unknown_reply(
    exc: OutcomeUnknown,
    *,
    what: str | None = None,
    check: str | None = None,
    title: str = "Outcome unknown",
    read_failed: bool = False,
    actions: tuple[Action, ...] = (),
) -> Reply:
    """The reply for a change that may or may not have been made: never "failed".

    ``what`` completes "the bot cannot tell whether ..."; ``check`` says how to find out
    (or what to do) before running the command again.
    """
    if what is None:
        settings = exc.resource.endswith("_settings")
        default = "the notification settings were saved" if settings else "the change was made"
        what = _ATTEMPTED.get((exc.method, exc.resource), default)
    if exc.safe_to_repeat:
        todo = "Running the same command again is safe: this change cannot be made twice."
    else:
        todo = check or "It may have been made: check before running the command again."
    how = ", and reading it back did not work either" if read_failed else ""
    return Reply(
        title=title,
        text=f"{lost_answer(exc)}{how}, so the bot cannot tell whether {what}.\n{todo}",
        kind=Kind.WARNING,
        failure=Failure.UNKNOWN,
        request_id=exc.request_id,
        error_code=exc.code,
        actions=actions,
    )


def usage_reply(
    exc: UsageError, command: Command | None, *, redact: Callable[[str], str] = str
) -> Reply:
    """What was not understood, the usage and an example. ``redact`` hides secrets in the
    message, which may quote what was typed (a webhook URL)."""
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
    if exc.answer is not None:
        answer = exc.answer
        status = f"HTTP {answer.status} " if answer.status else ""
        return Reply(
            title="Cannot do that",
            text=f"{text}\nMyLiveChat answered {status}`{answer.code}`.",
            kind=Kind.ERROR,
            failure=Failure.API,
            request_id=answer.request_id,
            error_code=answer.code,
        )
    return Reply(
        title="Not allowed" if denied else "Cannot do that",
        text=text,
        kind=Kind.ERROR if not denied else Kind.WARNING,
        failure=Failure.DENIED if denied else Failure.INPUT,
        error_code="denied" if denied else "input",
    )


def internal_error_reply(what: str, error: BaseException | None = None) -> Reply:
    """Log a bug (with its traceback, under a fresh incident id) and say so without detail.

    Call it in an ``except`` block, or pass the ``error`` caught elsewhere.
    """
    incident = uuid.uuid4().hex[:10]
    log.error("internal error %s while %s", incident, what, exc_info=error or True)
    return Reply(
        title="Something went wrong",
        text=(
            "The bot hit an unexpected error and did not finish. "
            f"It has been logged as incident {incident}; the bot is still running."
        ),
        kind=Kind.ERROR,
        failure=Failure.INTERNAL,
        error_code="internal",
    )


def stale_command_reply() -> Reply:
    """A platform ran an older version of a command than the bot declares."""
    return Reply(
        title="This command changed",
        text=(
            "Your app still shows an older version of this command. Try again in a minute; "
            "if it persists, an admin can restart the bot to sync commands."
        ),
        kind=Kind.WARNING,
        failure=Failure.USAGE,
        error_code="stale_command",
    )


def not_set_up_here_reply(place: str) -> Reply:
    """A request from a ``place`` (workspace, server) the bot does not serve: nothing ran."""
    return Reply(
        title="Not set up here",
        text=f"This MyLiveChat bot is not set up for this {place}, so nothing was run.",
        kind=Kind.WARNING,
        failure=Failure.DENIED,
        error_code="not_set_up_here",
    )
