"""The Bolt app: ``/mlc``, ``@mlc-bot`` mentions and reply buttons, translated to the core.

Every listener acknowledges first and hands its work to a background task, so Slack gets its
answer before any Slack or MyLiveChat API call is made. Then the command runs through the core's
dispatcher (which checks permission) and the reply goes back as Block Kit:

- ``/mlc`` replies through the command's response URL, privately unless the command was
  asked for ``--public`` (then in the channel, with who asked).
- Mentions are answered in the thread: public replies as a thread reply, private ones as an
  ephemeral message (in the thread when the mention is in one; Slack hides ephemeral
  messages aimed at a thread that does not exist yet).
- A button's result arrives privately beside the original message, in its thread when it
  is in one; the original stays. A picker (e.g. Tag's list of tags) is replaced by the
  outcome of the choice made in it.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk.web.async_client import AsyncWebClient

from commands.context import Context
from commands.core import Core
from commands.reply import Reply

from .auth import BotAuthorization
from .blocks import CHOOSE_ACTION, MAX_OPTIONS, PICK_ACTION, RUN_ACTION
from .client import web_client
from .dedupe import KEY, SEEN_FOR, DropRepeats, SeenRequests
from .identity import Directory, SlackUser
from .mrkdwn import command_text
from .replies import SlackReplies
from .tasks import BackgroundTasks
from .workspace import OnlyHome

__all__ = ["SlackBot", "SlackCredentials"]

log = logging.getLogger("mlc_bot.slack")

SLACK_API_URL = "https://slack.com/api/"
RESPONSE_URL_LIFETIME = 30 * 60.0
"""Seconds a response URL takes posts (Slack: 30 minutes, at most five posts)."""
_ANSWER_MARGIN = 30.0
"""Kept free at the end of a reply's lifetime: the answer must be built and posted."""
BOLT_LOGGER = "mlc_bot.slack.bolt"


@dataclass(frozen=True)
class SlackCredentials:
    """What the Slack app authenticates with (the application reads them from settings)."""

    bot_token: str = field(repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    """HTTP mode: verifies each request (Socket Mode needs none)."""
    app_token: str | None = field(default=None, repr=False)
    """``xapp-...``: Socket Mode instead of HTTP."""
    app_id: str | None = None
    """When set, requests for any other app are refused."""
    api_url: str | None = None
    """The Web API's base URL (Slack's own when None)."""


class SlackBot:
    """The Bolt app and what its listeners share: caches and the reply tasks."""

    def __init__(
        self,
        core: Core,
        credentials: SlackCredentials,
        *,
        client: AsyncWebClient | None = None,
        reply_lifetime: float | None = None,
        seen: SeenRequests | None = None,
    ) -> None:
        """``seen`` shares the deliveries that ran with the other processes (none: this
        process's memory only); ``reply_lifetime`` shortens the 30 minutes a response URL
        lives (for tests)."""
        self.core = core
        self.seen = seen
        self.reply_lifetime = reply_lifetime
        self.client = client or web_client(credentials.api_url)
        self.authorization = BotAuthorization(
            self.client, credentials.bot_token, app_id=credentials.app_id
        )
        self.directory = Directory()
        self.tasks = BackgroundTasks()
        self.replies = SlackReplies()
        bolt_logger = logging.getLogger(BOLT_LOGGER)
        # Bolt warns that SLACK_BOT_TOKEN from the environment goes unused because a client is
        # given; the token does reach Slack, through `authorize`, so the warning would mislead.
        unused_token_notice = _DropMessage(warning_client_prioritized_and_token_skipped())
        bolt_logger.addFilter(unused_token_notice)
        try:
            self.app = AsyncApp(
                name="mlc-bot",
                client=self.client,
                signing_secret=credentials.signing_secret or "",
                authorize=self.authorization.for_bolt(),
                # Listeners only ack and start a task, so the ack goes out as they return.
                process_before_response=True,
                logger=bolt_logger,
            )
        finally:
            bolt_logger.removeFilter(unused_token_notice)
        self.app.use(OnlyHome(self.authorization.home))
        self.app.use(DropRepeats())
        # Any slash command of this app: the manifest declares /mlc, a team may rename it.
        self.app.command(re.compile(r"^/"))(self._listener("slack /mlc", self._on_command))
        self.app.event("app_mention")(self._listener("slack mention", self._on_mention))
        run, pick = (re.compile(rf"^{re.escape(prefix)}\.") for prefix in (RUN_ACTION, PICK_ACTION))
        self.app.action(run)(self._listener("slack button", self._on_run))
        self.app.action(pick)(self._listener("slack picker", self._on_pick))
        self.app.action(CHOOSE_ACTION)(self._listener("slack choice", self._on_choose))

    async def start(self) -> None:
        """Open the shared HTTP session and learn the bot's identity (``auth.test``), so that
        no request waits for either."""
        self.client.session = await self.replies.open()
        await self.authorization.warm()

    async def aclose(self, grace: float = 10.0) -> None:
        """Let replies in flight finish (up to ``grace`` seconds), then close the session."""
        await self.tasks.drain(grace)
        await self.replies.aclose()

    # --- listeners: ack, then hand the work to a task -----------------------------------------

    def _spawn(self, context: Any, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run ``work`` after the ack, unless another process (or this one before a
        restart) already ran this delivery."""
        key = context.get(KEY) if context is not None else None
        self.tasks.spawn(self._once(key, work), name=name)

    async def _once(self, key: str | None, work: Coroutine[Any, Any, None]) -> None:
        if key is not None and self.seen is not None:
            try:
                first = await self.seen.first_time(key, SEEN_FOR)
            except Exception as exc:  # the shared memory is down: this process's must do
                log.warning("could not check a Slack delivery against the others: %r", exc)
                first = True
            if not first:
                work.close()
                log.info("dropped a Slack delivery another process already ran")
                return
        await work

    def _listener(
        self, name: str, work: Callable[[AsyncArgs, float], Coroutine[Any, Any, None] | None]
    ) -> Callable[[AsyncArgs], Awaitable[None]]:
        """A listener that acks, then runs ``work(args, received)`` as task ``name`` (None:
        nothing to run)."""

        async def listener(args: AsyncArgs) -> None:
            received = time.monotonic()
            await args.ack()
            started = work(args, received)
            if started is not None:
                self._spawn(args.context, started, name)

        return listener

    def _on_command(self, args: AsyncArgs, received: float) -> Coroutine[Any, Any, None]:
        return self._run_command(args.body, args.client, received)

    def _on_mention(self, args: AsyncArgs, received: float) -> Coroutine[Any, Any, None]:
        team_id = args.body.get("team_id")
        return self._run_mention(args.event, team_id, args.client, received)

    def _on_run(self, args: AsyncArgs, received: float) -> Coroutine[Any, Any, None]:
        return self._run_button(args.body, str(args.action.get("value", "")), args.client, received)

    def _on_pick(self, args: AsyncArgs, received: float) -> Coroutine[Any, Any, None]:
        action = args.action
        source = str(action.get("action_id", "")).split(".")[2]
        value = str(action.get("value", ""))
        return self._offer_choices(args.body, value, source, args.client, received)

    def _on_choose(self, args: AsyncArgs, received: float) -> Coroutine[Any, Any, None] | None:
        action = args.action
        base = str(action.get("block_id", "")).removeprefix(f"{CHOOSE_ACTION}:")
        choice = (action.get("selected_option") or {}).get("value")
        if not base or not choice:
            return None
        return self._run_button(
            args.body, base, args.client, received, picked=str(choice), replace_original=True
        )

    # --- the work -----------------------------------------------------------------------------

    async def _run_command(
        self, body: dict[str, Any], client: AsyncWebClient, received: float
    ) -> None:
        user = await self.directory.lookup(client, str(body.get("user_id", "")))
        response_url = str(body["response_url"])
        ctx = self._context(
            user,
            body.get("channel_id"),
            body.get("team_id"),
            received=received,
            notify=self._notifier(response_url, user.id),
        )
        reply = await self.core.dispatcher.run_text(command_text(body.get("text") or ""), ctx)
        await self.replies.respond(response_url, reply, user.id)

    async def _run_mention(
        self, event: dict[str, Any], team_id: str | None, client: AsyncWebClient, received: float
    ) -> None:
        user_id, channel = event.get("user"), event.get("channel")
        if not user_id or not channel:
            return
        user = await self.directory.lookup(client, user_id)

        async def answer(reply: Reply) -> None:
            await self.replies.answer_mention(
                client,
                reply,
                user_id=user.id,
                channel=channel,
                ts=event.get("ts"),
                thread_ts=event.get("thread_ts"),
            )

        # Mentions are answered with the bot token, which does not expire: no deadline.
        ctx = self._context(user, channel, team_id, received=received, notify=answer, lifetime=None)
        text = command_text(event.get("text") or "", mention=self.authorization.bot_user_id)
        await answer(await self.core.dispatcher.run_text(text, ctx))

    async def _run_button(
        self,
        body: dict[str, Any],
        command: str,
        client: AsyncWebClient,
        received: float,
        *,
        picked: str | None = None,
        replace_original: bool = False,
    ) -> None:
        """Run a button's command text, completed with the ``picked`` value when given."""
        if not command:
            return
        user = await self._clicker(body, client)
        response_url = str(body["response_url"])
        ctx = self._context(
            user,
            _channel_of(body),
            _team_of(body),
            received=received,
            notify=self._notifier(response_url, user.id, thread_ts=_thread_of(body)),
        )
        dispatcher = self.core.dispatcher
        reply = await (
            dispatcher.run_text(command, ctx)
            if picked is None
            else dispatcher.run_picked(command, picked, ctx)
        )
        await self.replies.respond(
            response_url,
            reply,
            user.id,
            thread_ts=None if replace_original else _thread_of(body),
            replace=replace_original,
        )

    async def _offer_choices(
        self,
        body: dict[str, Any],
        command: str,
        source: str,
        client: AsyncWebClient,
        received: float,
    ) -> None:
        user = await self._clicker(body, client)
        ctx = self._context(user, _channel_of(body), _team_of(body), received=received)
        picker = await self.core.dispatcher.offer_pick(source, command, ctx, limit=MAX_OPTIONS)
        await self.replies.respond(
            str(body["response_url"]), picker, user.id, thread_ts=_thread_of(body)
        )

    async def _clicker(self, body: dict[str, Any], client: AsyncWebClient) -> SlackUser:
        return await self.directory.lookup(client, str((body.get("user") or {}).get("id", "")))

    def _context(
        self,
        user: SlackUser,
        channel_id: str | None,
        team_id: str | None,
        *,
        received: float,
        notify: Callable[[Reply], Awaitable[None]] | None = None,
        lifetime: float | None = RESPONSE_URL_LIFETIME,
    ) -> Context:
        """The command's context; ``lifetime``: seconds its reply channel takes answers."""
        if lifetime is not None and self.reply_lifetime is not None:
            lifetime = min(lifetime, self.reply_lifetime)
        return self.core.context(
            user.caller(),
            user.surface(channel_id=channel_id, team_id=team_id),
            received_at=received,
            reply_deadline=(
                received + lifetime - min(_ANSWER_MARGIN, lifetime / 10)
                if lifetime is not None
                else None
            ),
            notify=notify,
        )

    def _notifier(
        self, response_url: str, user_id: str, *, thread_ts: str | None = None
    ) -> Callable[[Reply], Awaitable[None]]:
        async def notify(reply: Reply) -> None:
            await self.replies.respond(response_url, reply, user_id, thread_ts=thread_ts)

        return notify


class _DropMessage(logging.Filter):
    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != self.message


# --- where a click came from ------------------------------------------------------------------


def _channel_of(body: dict[str, Any]) -> str | None:
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")


def _team_of(body: dict[str, Any]) -> str | None:
    return (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id")


def _thread_of(body: dict[str, Any]) -> str | None:
    """The thread the clicked message is in, if any."""
    message = body.get("message") or {}
    container = body.get("container") or {}
    return message.get("thread_ts") or container.get("thread_ts")
