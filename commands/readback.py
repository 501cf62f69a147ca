"""Settling a change whose answer was lost: read it back once and say what happened.

When MyLiveChat's answer to a write is lost (:class:`~bot.mylivechat.OutcomeUnknown`: a
timeout, a dropped connection, a garbled body, an internal error), the change may or may not
have been made. A handler then reads the resource back once (:func:`settle`) and judges what
it finds:

- :func:`confirmed`: the change is there; the usual reply, noting that it was read back;
- :func:`not_applied`: it is not; the command may be run again;
- :func:`~commands.failures.outcome_unknown_reply`: no read can tell (a rotated secret nobody
  saw), or the read failed too; it says how to check.

None of these says "failed" or "try again" about a change that may have been made.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.mylivechat import MyLiveChatError, OutcomeUnknown

from .failures import lost_answer, outcome_unknown_reply
from .reply import Failure, Field, Kind, Reply, Table

__all__ = ["confirmed", "not_applied", "settle"]

log = logging.getLogger("mlc_bot.commands")

T = TypeVar("T")

RUN_AGAIN = "You can run the command again."
RUN_AGAIN_SAFELY = f"{RUN_AGAIN} Running it twice changes nothing more."
"""For a write that sets a state (running it again cannot do it twice)."""


async def settle(
    lost: OutcomeUnknown,
    read: Callable[[], Awaitable[T]],
    judge: Callable[[OutcomeUnknown, T], Reply],
    *,
    what: str,
    check: str,
) -> Reply:
    """One read-back with ``read``, judged by ``judge(lost, what_was_read)``.

    If the read fails too, the outcome stays unknown: the reply says the bot cannot tell
    whether ``what`` ("the subscription was created") and to ``check`` ("Type `webhooks` ...").
    """
    log.info(
        "the answer to %s %s was lost (%s); reading it back", lost.method, lost.resource, lost.code
    )
    try:
        found = await read()
    except MyLiveChatError as exc:
        log.info("reading back after %s %s failed too: %r", lost.method, lost.resource, exc)
        return outcome_unknown_reply(lost, what=what, check=check, read_failed=True)
    return judge(lost, found)


def confirmed(lost: OutcomeUnknown, reply: Reply) -> Reply:
    """``reply`` (the usual success) for a change the read-back shows was made."""
    note = f"{lost_answer(lost)}, so the bot read it back: the change was made."
    return dataclasses.replace(reply, notes=(note, *reply.notes))


def not_applied(
    lost: OutcomeUnknown,
    title: str,
    shows: str,
    *,
    again: str = RUN_AGAIN,
    fields: tuple[Field, ...] = (),
    table: Table | None = None,
) -> Reply:
    """A change the read-back shows was not made; ``shows`` completes "reading it back shows"."""
    text = f"{lost_answer(lost)}, and reading it back shows {shows}.\n{again}"
    if lost.request_id:
        text += " If this keeps happening, quote the request id to MyLiveChat support."
    return Reply(
        title=title,
        text=text,
        fields=fields,
        table=table,
        kind=Kind.ERROR,
        failure=Failure.API,
        request_id=lost.request_id,
        error_code=lost.code,
    )
