"""Only the workspace (and app) the bot was set up for gets served.

A request signed with our signing secret can still come from another workspace or an
Enterprise Grid org the app was installed in, or name another app: Slack signs requests
per app, and one app can be installed many times. The bot serves the one workspace its
bot token belongs to (``auth.test``) and, when ``SLACK_APP_ID`` is set, only that app;
anything else is answered at once and nothing runs.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from commands.failures import not_set_up_here_reply

__all__ = ["NOT_SET_UP_HERE", "Home", "OnlyHome", "refusal_reason"]

log = logging.getLogger("mlc_bot.slack")

NOT_SET_UP_HERE = not_set_up_here_reply("workspace").text


@dataclass(frozen=True, slots=True)
class Home:
    """Where the bot belongs: its workspace, the workspace's org (Grid), and its app."""

    team_id: str | None
    enterprise_id: str | None = None
    app_id: str | None = None
    """Checked only when set (``SLACK_APP_ID``)."""


def refusal_reason(home: Home | None, req: AsyncBoltRequest) -> str | None:
    """Why ``req`` is not for the bot's home, or None when it is."""
    if home is None or not home.team_id:
        return "the bot's own workspace is not known yet"
    context, body = req.context, req.body
    if context.is_enterprise_install:
        return "an org-wide (Enterprise Grid) install"
    if context.team_id != home.team_id:
        return f"workspace {context.team_id or 'unknown'}"
    if (context.enterprise_id or None) != (home.enterprise_id or None):
        return f"enterprise {context.enterprise_id or 'none'}"
    if home.app_id is not None and body.get("api_app_id") != home.app_id:
        return f"app {body.get('api_app_id') or 'unknown'}"
    return None


class OnlyHome(AsyncMiddleware):
    """Bolt middleware: answer requests for another workspace, org or app, and run nothing.

    A slash command gets a private line saying so; events and clicks an empty 200 (with
    ``x-slack-no-retry``), so Slack does not deliver them again.
    """

    def __init__(self, home: Callable[[], Home | None]) -> None:
        self._home = home

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        reason = refusal_reason(self._home(), req)
        if reason is None:
            return await next()
        kind = "slash command" if "command" in req.body else req.body.get("type") or "request"
        log.warning("refused a Slack %s from %s: the bot serves only its own", kind, reason)
        body = NOT_SET_UP_HERE if "command" in req.body else ""
        return BoltResponse(status=200, body=body, headers={"x-slack-no-retry": "1"})
