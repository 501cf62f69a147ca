"""The bot's own identity, asked of Slack once (``auth.test``) instead of on each request.

Bolt's single-workspace authorization calls ``auth.test`` on the first request, which
would put a Slack API round trip in front of that request's ack. This authorizer is
warmed when the server starts; after that, authorizing a request does no I/O.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web.async_client import AsyncWebClient

from commands.cache import CachedValue

from .workspace import Home

__all__ = ["BotAuthorization"]


class BotAuthorization:
    """Bolt's ``authorize`` for one workspace and one bot token, cached for the process."""

    def __init__(
        self, client: AsyncWebClient, bot_token: str, *, app_id: str | None = None
    ) -> None:
        self._client = client
        self._bot_token = bot_token
        self._app_id = app_id
        self._result: CachedValue[AuthorizeResult] = CachedValue(ttl=float("inf"))

    async def warm(self) -> AuthorizeResult:
        """Call ``auth.test`` now; raises ``SlackApiError`` when Slack refuses the token."""
        return await self._result.get(self._auth_test)

    def for_bolt(self) -> Callable[[], Awaitable[AuthorizeResult]]:
        """The ``authorize`` function for ``AsyncApp`` (Bolt reads its parameter names)."""

        async def authorize() -> AuthorizeResult:
            return await self._result.get(self._auth_test)

        return authorize

    def home(self) -> Home | None:
        """The workspace the token belongs to (None until :meth:`warm` succeeded)."""
        result = self._result.peek()
        if result is None:
            return None
        return Home(result.team_id, result.enterprise_id, self._app_id)

    @property
    def bot_user_id(self) -> str | None:
        result = self._result.peek()
        return result.bot_user_id if result is not None else None

    async def _auth_test(self) -> AuthorizeResult:
        response = await self._client.auth_test(token=self._bot_token)
        return AuthorizeResult.from_auth_test_response(
            auth_test_response=response,
            bot_token=self._bot_token,
            bot_scopes=response.headers.get("x-oauth-scopes"),
        )
