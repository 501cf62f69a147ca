"""``mlc-bot exec "<command>"``: one command against MLC_API_URL with MLC_API_TOKEN."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from adapters.console.exec import run_once
from commands.ports import ChannelCheck, ChannelRef

from ..compose import build_core
from ..config import Settings

if TYPE_CHECKING:
    from discord.http import HTTPClient

__all__ = ["ExecChannels", "run_exec"]


async def run_exec(
    settings: Settings, text: str, *, as_json: bool = False, wait: bool = True
) -> int:
    """Run ``text``, print the reply; exit status 0 done, 1 refused, 2 not understood.

    With ``as_json`` the reply is one JSON object on stdout, failures included.
    ``wait=False`` (``--no-wait``): a command that would wait for MyLiveChat's rate limit
    is refused at once instead (exit status 1). A missing token raises
    :class:`bot.config.ConfigError` (the CLI prints it, as JSON too with ``--json``;
    status 2). With REDIS_URL, a tag or webhook change is announced to the token's other
    processes as the core closes (a second at most, however Redis is).
    """
    core = build_core(settings)
    channels = ExecChannels(settings)
    core.channels = channels
    core.close_with(channels.aclose)
    try:
        return await run_once(core, text, as_json=as_json, wait=wait)
    finally:
        await core.aclose()


class ExecChannels:
    """The channel checker of ``mlc-bot exec``: asks Slack or Discord with the bot's token.

    Nothing is imported or connected until a command names a channel, so ``exec`` still
    starts without the chat SDKs. A platform whose token is not set is not asked.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._slack: Any = None
        self._discord: HTTPClient | None = None

    async def check(self, channel: ChannelRef) -> ChannelCheck:
        if channel.platform == "slack":
            return await self._check_slack(channel)
        if channel.platform == "discord":
            return await self._check_discord(channel)
        return ChannelCheck(
            channel, found=None, detail=f"the bot does not post to {channel.platform}"
        )

    async def _check_slack(self, channel: ChannelRef) -> ChannelCheck:
        token = self._settings.slack_bot_token
        if token is None:
            return ChannelCheck(channel, found=None, detail="SLACK_BOT_TOKEN is not set")
        from adapters.slack.channels import check_slack_channel
        from adapters.slack.client import web_client

        if self._slack is None:
            self._slack = web_client(self._settings.slack_api_url, token=token.reveal())
        return await check_slack_channel(self._slack, channel.channel_id)

    async def _check_discord(self, channel: ChannelRef) -> ChannelCheck:
        token = self._settings.discord_token
        if token is None:
            return ChannelCheck(channel, found=None, detail="DISCORD_TOKEN is not set")
        import aiohttp
        import discord

        from adapters.discord.channels import check_discord_channel
        from adapters.discord.poster import DiscordPoster

        if self._discord is None:
            try:
                self._discord = (await DiscordPoster.login(token.reveal())).http
            except discord.LoginFailure:
                return ChannelCheck(
                    channel, found=None, detail="Discord did not accept DISCORD_TOKEN"
                )
            except (discord.HTTPException, aiohttp.ClientError, OSError) as exc:
                detail = f"Discord could not be reached ({type(exc).__name__})"
                return ChannelCheck(channel, found=None, detail=detail)
        return await check_discord_channel(self._discord, channel.channel_id)

    async def aclose(self) -> None:
        """Close the Discord session a check opened (Slack's client opens one per call)."""
        self._slack = None
        if self._discord is not None:
            await self._discord.close()
            self._discord = None
