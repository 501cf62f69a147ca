"""A token's rate-limit window kept in Redis, shared by every process that uses the token.

:class:`RedisSharedWindow` implements :class:`bot.mylivechat.SharedWindow`. Each operation
is one Lua script, so it is atomic however many processes call it at once, and every
time in it is Redis's own (``TIME``): the one clock all processes agree on.

Per token (the key is a hash of the token, never the token itself), under
``mlc-bot:budget:{<hash>}:``:

- ``slots``: a sorted set of the places held, each scored by when it is free again, in
  milliseconds of Redis time: a request in flight ``window + in_flight`` after it was
  granted (its process may die before the answer), an answered one ``window`` after the
  answer, a request someone else made (reported by the server, held by nobody) at the
  reported reset;
- ``meta``: the limit and the smallest window any process learned (kept an hour);
- ``blocked``: set while a ``Retry-After`` runs.

The keys expire by themselves when the token is idle. Any Redis failure is
:class:`bot.mylivechat.SharedWindowUnavailable`: the limiter then uses its own mirror.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Sequence
from typing import Any, Self

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from .mylivechat import Reservation, SharedWindowUnavailable

__all__ = ["RedisSharedWindow"]

IN_FLIGHT = 60.0
"""Seconds a place stays held past the window when its answer never comes."""
POLL = 0.02
"""Seconds between asks while the next free place cannot be known (a request in flight)."""
TIMEOUT = 1.0
"""Seconds to wait for Redis before using the process's own limiter."""

# Common head of every script: the time, the keys' names, and the expiry of ``slots``.
_HEAD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local slots, meta = KEYS[1], KEYS[2]
local function keep_slots()
  local last = redis.call('ZRANGE', slots, -1, -1, 'WITHSCORES')
  if last[2] then
    redis.call('PEXPIRE', slots, math.max(1, math.ceil(tonumber(last[2]) - now)))
  end
end
local function learn(limit, window)
  if limit >= 1 then redis.call('HSET', meta, 'limit', limit) end
  if window >= 0 then
    local known = tonumber(redis.call('HGET', meta, 'window'))
    if not known or window < known then redis.call('HSET', meta, 'window', window) end
  end
  if limit >= 1 or window >= 0 then redis.call('PEXPIRE', meta, 3600000) end  -- an hour
end
"""

# ARGV: slot, limit (-1: unknown), window ms (-1), in_flight ms, poll ms.
# Returns {granted 0/1, wait ms, limit, window ms} (numbers as strings: Lua would truncate).
_RESERVE = (
    _HEAD
    + """
local stored = redis.call('HMGET', meta, 'limit', 'window')
local limit = tonumber(stored[1]) or tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local known = tonumber(stored[2])
if known and (window < 0 or known < window) then window = known end
local function answer(granted, wait)
  return {granted, tostring(wait), tostring(limit), tostring(window)}
end
local blocked = redis.call('PTTL', KEYS[3])
if blocked > 0 then return answer(0, blocked) end
redis.call('ZREMRANGEBYSCORE', slots, '-inf', now)
local held = redis.call('ZCARD', slots)
-- Nobody knows the limit yet: one request at a time, across every process.
local room = (limit >= 1 and held < limit) or (limit < 1 and held == 0)
if room then
  redis.call('ZADD', slots, now + math.max(window, 0) + tonumber(ARGV[4]), ARGV[1])
  keep_slots()
  return answer(1, 0)
end
local wait = tonumber(ARGV[5])
if limit >= 1 and window >= 0 then
  local first = tonumber(redis.call('ZRANGE', slots, 0, 0, 'WITHSCORES')[2])
  -- A place freed later than a window from now is in flight: its end is not known.
  if first - now <= window then wait = first - now end
end
return answer(0, wait)
"""
)

# ARGV: slot, expires_in ms (-1: not counted, forget it), limit, window ms, used (-1),
# reset_in ms.
_RECORD = (
    _HEAD
    + """
local expires, used = tonumber(ARGV[2]), tonumber(ARGV[5])
if expires < 0 then
  redis.call('ZREM', slots, ARGV[1])
else
  redis.call('ZADD', slots, now + expires, ARGV[1])
end
learn(tonumber(ARGV[3]), tonumber(ARGV[4]))
if used >= 0 then
  redis.call('ZREMRANGEBYSCORE', slots, '-inf', now)
  local held = redis.call('ZCARD', slots)
  -- Counted by the server, held by no process of ours: someone else uses the token.
  for i = 1, used - held do
    redis.call('ZADD', slots, now + tonumber(ARGV[6]), 'other:' .. ARGV[1] .. ':' .. i)
  end
end
keep_slots()
return 1
"""
)

# ARGV: ms.
_BLOCK = """
local ms = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) < ms then redis.call('SET', KEYS[1], '1', 'PX', ms) end
return 1
"""

# ARGV: limit, window ms, in_flight ms, own count, others count, a name for this restore,
# then own (slot, expires ms or -1 in flight) pairs, then others' expires ms.
_RESTORE = (
    _HEAD
    + """
local limit, window, in_flight = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local owns, others = tonumber(ARGV[4]), tonumber(ARGV[5])
local lost = redis.call('EXISTS', meta) == 0
local function hold(member, score)
  local held = tonumber(redis.call('ZSCORE', slots, member))
  if not held or held < score then redis.call('ZADD', slots, score, member) end
end
for i = 0, owns - 1 do
  local expires = tonumber(ARGV[8 + 2 * i])
  if expires < 0 then expires = math.max(window, 0) + in_flight end
  hold(ARGV[7 + 2 * i], now + expires)
end
if lost then
  -- Redis lost the window: what this process saw of the others is all there is.
  local first = 7 + 2 * owns
  for i = 0, others - 1 do
    hold('other:' .. ARGV[6] .. ':' .. i, now + tonumber(ARGV[first + i]))
  end
end
learn(limit, window)
keep_slots()
return 1
"""
)


def _ms(seconds: float | None) -> float:
    """Seconds as milliseconds for a script; -1 for None."""
    return -1 if seconds is None else max(seconds, 0.0) * 1000


def _number(value: Any) -> float | None:
    number = float(value)
    return None if number < 0 or not math.isfinite(number) else number


class RedisSharedWindow:
    """One token's rolling window in Redis (see the module)."""

    def __init__(
        self,
        redis: Redis,
        token: str,
        *,
        name: str = "Redis",
        in_flight: float = IN_FLIGHT,
        poll: float = POLL,
    ) -> None:
        self._redis = redis
        digest = hashlib.sha256(b"mlc-bot rate budget\0" + token.encode()).hexdigest()[:32]
        base = f"mlc-bot:budget:{{{digest}}}:"  # one hash slot, for Redis Cluster
        self.keys = (base + "slots", base + "meta", base + "blocked")
        self._name = name
        self.in_flight = in_flight
        self.poll = poll
        self._reserve = redis.register_script(_RESERVE)
        self._record = redis.register_script(_RECORD)
        self._block = redis.register_script(_BLOCK)
        self._restore = redis.register_script(_RESTORE)

    @classmethod
    def from_url(cls, url: str, token: str, **options: Any) -> Self:
        """On the Redis at ``url``; fails fast (short timeouts, no backoff) so that the
        limiter falls back to its own at once when Redis is away."""
        redis = Redis.from_url(
            url,
            socket_timeout=TIMEOUT,
            socket_connect_timeout=TIMEOUT,
            # Once, at once, on a connection error: after Redis restarts, the pool's other
            # connections are stale. Every script may run twice: each is idempotent.
            retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
        )
        kwargs = redis.connection_pool.connection_kwargs
        where = kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"
        return cls(redis, token, name=f"Redis at {where}", **options)

    def __repr__(self) -> str:
        return f"<RedisSharedWindow {self._name}>"

    @property
    def name(self) -> str:
        return self._name

    async def reserve(self, slot: str, *, limit: int | None, window: float | None) -> Reservation:
        args = [slot, -1 if limit is None else limit, _ms(window), _ms(self.in_flight)]
        answer = await self._run(self._reserve, self.keys, [*args, _ms(self.poll)])
        granted, wait, known_limit, known_window = answer
        shared_limit = _number(known_limit)
        shared_window = _number(known_window)
        return Reservation(
            granted=int(granted) == 1,
            wait=float(wait) / 1000,
            limit=int(shared_limit) if shared_limit else None,
            window=None if shared_window is None else shared_window / 1000,
        )

    async def record(
        self,
        slot: str,
        *,
        expires_in: float | None,
        limit: int | None = None,
        window: float | None = None,
        used: int | None = None,
        reset_in: float | None = None,
    ) -> None:
        args = [
            slot,
            _ms(expires_in),
            -1 if limit is None else limit,
            _ms(window),
            -1 if used is None or reset_in is None else used,
            _ms(reset_in),
        ]
        await self._run(self._record, self.keys[:2], args)

    async def block(self, seconds: float) -> None:
        await self._run(self._block, self.keys[2:], [max(1, math.ceil(seconds * 1000))])

    async def restore(
        self,
        own: Sequence[tuple[str, float | None]],
        others: Sequence[float],
        *,
        limit: int | None,
        window: float | None,
    ) -> None:
        args: list[str | float] = [
            -1 if limit is None else limit,
            _ms(window),
            _ms(self.in_flight),
            len(own),
            len(others),
            f"restore-{uuid.uuid4().hex}",
        ]
        for slot, expires_in in own:
            args += [slot, _ms(expires_in)]
        args += [_ms(expires) for expires in others]
        await self._run(self._restore, self.keys[:2], args)

    async def aclose(self) -> None:
        await self._redis.aclose()

    async def _run(self, script: Any, keys: Sequence[str], args: Sequence[Any]) -> Any:
        try:
            return await script(keys=list(keys), args=list(args))
        except (RedisError, OSError, TimeoutError) as exc:
            raise SharedWindowUnavailable(str(exc) or type(exc).__name__) from exc
