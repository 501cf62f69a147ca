"""Whether the bot can post in a Slack channel named by id, and in which workspace.

``mlc-bot exec "digest add usage --channel slack:C0123ABCD"`` asks before it saves: one
``auth.test`` (the bot token's workspace, the one the app serves) and one
``conversations.info`` (needs the ``channels:read`` / ``groups:read`` scopes).
"""

from __future__ import annotations

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from commands.ports import ChannelCheck, ChannelRef

from .errors import slack_error

__all__ = ["check_slack_channel"]

# conversations.info errors that mean: no channel by that id the bot may post in.
_MISSING = frozenset(
    {"channel_not_found", "not_in_channel", "method_not_supported_for_channel_type"}
)
# Errors of the token or the app rather than of the channel: it could not be checked.
_UNCHECKED = {
    "invalid_auth": "Slack did not accept SLACK_BOT_TOKEN",
    "not_authed": "Slack did not accept SLACK_BOT_TOKEN",
    "token_revoked": "SLACK_BOT_TOKEN was revoked",
    "account_inactive": "SLACK_BOT_TOKEN was revoked",
    "missing_scope": "the Slack app lacks the channels:read and groups:read scopes",
}


async def check_slack_channel(client: AsyncWebClient, channel_id: str) -> ChannelCheck:
    """What Slack says about ``channel_id``; never raises for Slack's answer."""
    channel = ChannelRef("slack", channel_id)
    try:
        auth = await client.auth_test()
        info = await client.conversations_info(channel=channel_id)
    except SlackApiError as exc:
        error = slack_error(exc)
        if error in _MISSING:
            return ChannelCheck(channel, found=False, detail=error)
        return ChannelCheck(channel, found=None, detail=_UNCHECKED.get(error, f"Slack: {error}"))
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        return ChannelCheck(
            channel, found=None, detail=f"Slack could not be reached ({type(exc).__name__})"
        )
    data = info.get("channel") or {}
    team = auth.get("team_id")
    placed = ChannelRef("slack", channel_id, str(team) if team else None)
    if data.get("is_im") or data.get("is_mpim"):
        return ChannelCheck(placed, found=False, detail="that is a direct message, not a channel")
    if data.get("is_archived"):
        return ChannelCheck(placed, found=False, detail="the channel is archived")
    name = data.get("name")
    return ChannelCheck(placed, found=True, name=f"#{name}" if name else None)
