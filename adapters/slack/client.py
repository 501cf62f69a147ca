"""The Slack Web API client, built one way for the whole adapter."""

from __future__ import annotations

from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

__all__ = ["SLACK_API_URL", "web_client"]

SLACK_API_URL = "https://slack.com/api/"
_TIMEOUT_SECONDS = 10
_RATE_LIMIT_RETRIES = 3


def web_client(
    base_url: str | None = None, *, token: str | None = None, posts: bool = False
) -> AsyncWebClient:
    """A Web API client on ``base_url`` (Slack's own when None; tests use a local fake).

    A 429 is waited out (``Retry-After``) and sent again: Slack did nothing with it. A
    dropped connection is retried too, except for a client that ``posts`` messages: after
    a dropped connection the post may have been made, and a retry would show it twice.
    """
    client = AsyncWebClient(
        token=token, base_url=base_url or SLACK_API_URL, timeout=_TIMEOUT_SECONDS
    )
    handlers = [AsyncRateLimitErrorRetryHandler(max_retry_count=_RATE_LIMIT_RETRIES)]
    if not posts:
        handlers.insert(0, AsyncConnectionErrorRetryHandler())
    client.retry_handlers[:] = handlers
    return client
