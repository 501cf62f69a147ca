"""The Redis client the shared stores use: fail fast, so that a Redis that is away costs
a request a second at most, and never a log line of its own."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

__all__ = ["FAILURES", "TIMEOUT", "fail_fast", "where"]

TIMEOUT = 1.0
"""Seconds to wait for Redis before doing without it."""

FAILURES = (RedisError, OSError, TimeoutError)
"""What a Redis that is away, refusing or not answering raises."""


def fail_fast(url: str, *, retries: int = 1) -> Redis:
    """A client on ``url`` with short timeouts and no backoff; ``retries`` on a connection
    error, at once (after Redis restarts the pool's other connections are stale). A URL
    Redis does not accept is a ``ValueError``."""
    return Redis.from_url(
        url,
        socket_timeout=TIMEOUT,
        socket_connect_timeout=TIMEOUT,
        retry=Retry(NoBackoff(), retries, supported_errors=(RedisConnectionError,)),
    )


def where(redis: Redis) -> str:
    """``Redis at host:port`` (or its socket path), for log lines: never the password."""
    kwargs = redis.connection_pool.connection_kwargs
    place = kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"
    return f"Redis at {place}"
