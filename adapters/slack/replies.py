"""Getting a reply to the user: through a response URL, or as a (thread) message for mentions.

Replies are private (ephemeral) unless the reply says otherwise; a reply carrying a secret is
always private; a public reply says who asked. One HTTP session serves every delivery.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from commands.reply import Reply

from .blocks import render_message
from .errors import slack_error

__all__ = ["SlackReplies"]

log = logging.getLogger("mlc_bot.slack")

_TIMEOUT_SECONDS = 10


class SlackReplies:
    """Posts replies for the listeners, over one shared HTTP session once :meth:`open`."""

    def __init__(self) -> None:
        self.session: aiohttp.ClientSession | None = None

    async def open(self) -> aiohttp.ClientSession:
        if self.session is None or self.session.closed:
            self.session = aiohttp.ClientSession()
        return self.session

    async def aclose(self) -> None:
        if self.session is not None:
            await self.session.close()

    async def respond(
        self,
        response_url: str,
        reply: Reply,
        user_id: str,
        *,
        thread_ts: str | None = None,
        replace: bool = False,
    ) -> None:
        """Answer through a response URL: ephemeral, or in the channel with who asked."""
        public = reply.public
        message = render_message(reply, asked_by=user_id if public else None)
        response_type = "in_channel" if public else "ephemeral"
        await self.post(response_url, message, response_type, thread_ts=thread_ts, replace=replace)

    async def post(
        self,
        response_url: str,
        message: dict[str, Any],
        response_type: str,
        *,
        thread_ts: str | None = None,
        replace: bool = False,
    ) -> None:
        """Post a rendered message to a response URL (``replace`` swaps the original for it)."""
        body: dict[str, Any] = {
            **message,
            "response_type": response_type,
            "replace_original": replace,
        }
        if thread_ts:
            body["thread_ts"] = thread_ts
        webhook = AsyncWebhookClient(
            url=response_url, session=self.session, timeout=_TIMEOUT_SECONDS
        )
        response = await webhook.send_dict(body)
        if response.status_code != 200:
            # The URL is a credential for 30 minutes: log only the outcome.
            log.warning("Slack refused a reply (HTTP %s): %s", response.status_code, response.body)

    async def answer_mention(
        self,
        client: AsyncWebClient,
        reply: Reply,
        *,
        user_id: str,
        channel: str,
        ts: str | None,
        thread_ts: str | None,
    ) -> None:
        """Answer a mention in its thread: a thread reply when public, else an ephemeral one.

        Slack hides an ephemeral message aimed at a thread that does not exist yet, so a
        private answer to a mention outside any thread goes to the channel.
        """
        try:
            if reply.public:
                message = render_message(reply, asked_by=user_id)
                await client.chat_postMessage(channel=channel, thread_ts=thread_ts or ts, **message)
            else:
                await client.chat_postEphemeral(
                    channel=channel, user=user_id, thread_ts=thread_ts, **render_message(reply)
                )
        except SlackApiError as exc:
            log.warning("could not answer a mention in %s: %s", channel, slack_error(exc))
