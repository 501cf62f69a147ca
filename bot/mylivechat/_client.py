"""The async MyLiveChat API client."""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import json
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Self, TypeVar

import httpx

from ._budget import current_budget
from ._errors import (
    APIConnectionError,
    APITimeout,
    BudgetExhausted,
    ConnectionFailed,
    ConnectionLost,
    MyLiveChatError,
    OutcomeUnknown,
    RateLimited,
    ServerError,
    UndecodableResponse,
    error_for_status,
)
from ._models import (
    AppliedTag,
    ConversationStarter,
    DeletedSubscription,
    Feedback,
    Handoff,
    NotifierSettings,
    Ping,
    Platform,
    RemovedTag,
    RotatedSecret,
    Tag,
    Transcript,
    Usage,
    Visitor,
    VisitorEvent,
    WebhookSubscription,
    WebhookTestResult,
    WhoAmI,
    _Model,
    parse_list,
)
from ._observer import RequestObserver
from ._ratelimit import RateLimiter, limiter_for_token
from ._send_order import SendOrder
from ._shared import SharedWindow

__all__ = ["DEFAULT_API_URL", "MyLiveChatClient", "last_request_id"]

log = logging.getLogger("mlc_bot.api")

DEFAULT_API_URL = "https://www.mylivechat.com/v1/api.ashx"
DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)

ModelT = TypeVar("ModelT", bound=_Model)

# Writes the reference calls idempotent: repeating one cannot do anything twice.
_IDEMPOTENT_WRITES = frozenset(
    {("POST", "tags"), ("DELETE", "tags"), ("POST", "apply_tag"), ("DELETE", "apply_tag")}
)
_MAX_RATE_LIMIT_RETRIES = 5
# The HTTP exchange time of the current task's latest request (rate-limit waits excluded).
_round_trip: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "mlc_round_trip", default=None
)
# The X-MLC-Request-Id of the current task's latest answer, and when (time.monotonic()).
_last_answer: contextvars.ContextVar[tuple[str, float] | None] = contextvars.ContextVar(
    "mlc_last_answer", default=None
)


def last_request_id(since: float | None = None) -> str | None:
    """The request id MyLiveChat gave the current task's latest answer (for log lines), if
    that answer came at or after ``since`` (``time.monotonic()``)."""
    last = _last_answer.get()
    if last is None or (since is not None and last[1] < since):
        return None
    return last[0]


# httpx errors raised before any byte of the request left: nothing can have been applied.
_NOT_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
)


def _is_safe_to_repeat(method: str, resource: str) -> bool:
    return method in ("GET", "HEAD") or (method, resource) in _IDEMPOTENT_WRITES


def _answer_lost(exc: MyLiveChatError) -> bool:
    """Whether the request may have reached the API and no answer says what became of it."""
    if isinstance(exc, ServerError):
        return True  # the vendor does not promise a server-side error rolled anything back
    if isinstance(exc, UndecodableResponse):
        # A redirect or a proxy's 4xx page means the API was not given the request.
        return exc.status is None or not 300 <= exc.status < 500
    return isinstance(exc, APIConnectionError) and not isinstance(exc, ConnectionFailed)


class MyLiveChatClient:
    """One site's view of the MyLiveChat API, authenticated by one token.

    Every method makes exactly one logical request (retries aside) and returns
    typed results. Failures raise :class:`~bot.mylivechat.MyLiveChatError`
    subclasses that carry the code, HTTP status and request id.
    """

    def __init__(
        self,
        token: str,
        *,
        base_url: str = DEFAULT_API_URL,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        backoff: float = 0.5,
        transport: httpx.AsyncBaseTransport | None = None,
        limiter: RateLimiter | None = None,
        shared_window: SharedWindow | None = None,
        observer: RequestObserver | None = None,
    ) -> None:
        """``shared_window``: the token's rate-limit window shared with other processes,
        used by the token's limiter (not by a ``limiter`` given); the client closes it."""
        if not token:
            raise ValueError("a MyLiveChat API token is required")
        self._token = token
        self.base_url = base_url
        self.max_retries = max_retries
        self.backoff = backoff
        self._limiter = limiter
        self._shared_window = shared_window
        self.observer = observer
        """Told about every attempt (the application's metrics); may be set later."""
        self._send_order = SendOrder()
        self._http = httpx.AsyncClient(
            timeout=timeout,
            transport=transport,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "User-Agent": "mlc-bot/0.1",
            },
        )

    def __repr__(self) -> str:
        return f"<MyLiveChatClient {self.base_url} token=***>"

    @property
    def limiter(self) -> RateLimiter:
        if self._limiter is None:
            self._limiter = limiter_for_token(self._token, shared=self._shared_window)
        return self._limiter

    async def aclose(self) -> None:
        try:
            await self._http.aclose()
        finally:
            if self._shared_window is not None:
                await self._shared_window.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- transport -------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        resource: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Any:
        """Send one request and return the envelope's ``data``.

        Waits for the rate limit instead of being refused, retries a 429 after
        ``Retry-After`` (the server did not process it), retries a request that was
        never sent, and retries timeouts, dropped connections and 5xx only when
        repeating the request is safe. A write that was sent and whose answer was lost
        raises :class:`OutcomeUnknown`.
        """
        method = method.upper()
        query = {"resource": resource}
        query.update({k: str(v) for k, v in (params or {}).items() if v is not None})
        safe = _is_safe_to_repeat(method, resource)
        writes = method not in ("GET", "HEAD")
        unsettled: MyLiveChatError | None = None  # the first attempt whose answer was lost
        failures = 0
        refusals = 0
        while True:
            try:
                return await self._send_once(method, query, body)
            except BudgetExhausted:
                if unsettled is None:
                    raise  # nothing was sent
                raise _outcome(unsettled, unsettled, method, resource, safe) from unsettled
            except RateLimited as exc:
                refusals += 1
                if refusals > _MAX_RATE_LIMIT_RETRIES:
                    final = _outcome(exc, unsettled, method, resource, safe)
                    if final is exc:
                        raise
                    raise final from unsettled
                # INFO: the caller is told by the budget's on_wait (a "queued" notice).
                log.info(
                    "rate limited on %s %s; retrying in %.1fs",
                    method,
                    resource,
                    exc.retry_after or 1.0,
                )
            except (ServerError, APIConnectionError) as exc:
                if writes and unsettled is None and _answer_lost(exc):
                    unsettled = exc
                failures += 1
                # A request that never left can always be sent again; others only if safe.
                repeatable = safe or isinstance(exc, ConnectionFailed)
                if not repeatable or failures > self.max_retries:
                    final = _outcome(exc, unsettled, method, resource, safe)
                    if final is exc:
                        raise
                    raise final from unsettled
                delay = self.backoff * 2 ** (failures - 1) * (0.5 + random.random())
                # A timeout or a refused connection never reached the server: no request id.
                where = f" (request id {exc.request_id})" if exc.request_id else ""
                log.warning(
                    "%s on %s %s%s; retry %d in %.2fs",
                    exc.code,
                    method,
                    resource,
                    where,
                    failures,
                    delay,
                )
                await asyncio.sleep(delay)

    async def _send_once(
        self, method: str, query: Mapping[str, str], body: Mapping[str, Any] | None
    ) -> Any:
        limiter = self.limiter
        budget = current_budget()
        resource = query["resource"]
        asked_at = time.perf_counter()
        slot = await limiter.acquire(
            priority=budget.priority, deadline=budget.deadline, on_wait=budget.on_wait
        )
        turn = self._send_order.take()
        sent_at = time.perf_counter()
        self._observe(lambda observer: observer.budget_waited(sent_at - asked_at))
        try:
            response = await self._http.request(
                method,
                self.base_url,
                params=query,
                json=dict(body) if body is not None else None,
                extensions={"trace": turn.trace},
            )
        except BaseException as exc:
            turn.close()
            await limiter.abandon(slot)
            error = _transport_error(exc)
            if error is None:
                raise
            seconds = _since(sent_at)
            self._observe(lambda o: o.request_done(method, resource, error.code, seconds))
            raise error from exc
        turn.close()
        round_trip = _since(sent_at)
        _round_trip.set(round_trip)
        request_id = response.headers.get("X-MLC-Request-Id")
        if request_id:
            _last_answer.set((request_id, time.monotonic()))
        status = str(response.status_code)
        self._observe(lambda o: o.request_done(method, resource, status, round_trip))
        refused = response.status_code == 429
        await limiter.release(slot, response.headers, refused=refused)
        if refused:
            retry_after = _retry_after(response)
            await limiter.block_for(retry_after)
        log.debug("%s %s -> %s (%s)", method, resource, response.status_code, request_id)
        return self._unwrap(method, response)

    def _observe(self, tell: Callable[[RequestObserver], None]) -> None:
        """Tell the observer something; its failure is logged, never the request's."""
        if self.observer is None:
            return
        try:
            tell(self.observer)
        except Exception:
            log.warning("the request observer failed", exc_info=True)

    @staticmethod
    def _unwrap(method: str, response: httpx.Response) -> Any:
        status = response.status_code
        header_request_id = response.headers.get("X-MLC-Request-Id")
        if method == "HEAD":
            if status >= 400:
                cls = error_for_status(status)
                raise cls(
                    f"HEAD answered HTTP {status}", status=status, request_id=header_request_id
                )
            return None
        try:
            payload = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            kind = response.headers.get("Content-Type", "unknown content").split(";")[0]
            raise UndecodableResponse(
                f"MyLiveChat answered HTTP {status} with {kind}, not JSON",
                code="bad_response" if status < 500 else "bad_gateway",
                status=status,
                request_id=header_request_id,
            ) from None
        if not isinstance(payload, dict):
            payload = {"ok": status < 400, "data": payload}
        if status < 400 and payload.get("ok", True) is not False:
            return payload.get("data")
        error = payload.get("error") if isinstance(payload.get("error"), dict) else {}
        if status >= 500 and not error:
            # JSON, but not the API's envelope: a load balancer or gateway answered.
            raise UndecodableResponse(
                f"MyLiveChat answered HTTP {status} without the API's error envelope",
                code="bad_gateway",
                status=status,
                request_id=header_request_id,
            )
        code = error.get("code") if isinstance(error.get("code"), str) else None
        message = error.get("message") if isinstance(error.get("message"), str) else None
        request_id = error.get("request_id") or payload.get("request_id") or header_request_id
        cls = error_for_status(status if status >= 400 else 400)
        kwargs: dict[str, Any] = {"code": code, "status": status, "request_id": request_id}
        if cls is RateLimited:
            kwargs["retry_after"] = _retry_after(response)
        raise cls(message or f"MyLiveChat answered HTTP {status}", **kwargs)

    async def _get_list(self, model: type[ModelT], resource: str, **params: Any) -> list[ModelT]:
        return parse_list(model, await self.request("GET", resource, params=params))

    async def _call(
        self,
        model: type[ModelT],
        method: str,
        resource: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> ModelT:
        return model.from_api(await self.request(method, resource, params=params, body=body))

    # -- read resources ---------------------------------------------------------------------

    async def head(self, resource: str = "ping") -> None:
        """HEAD a resource: checks the token and the resource without a body."""
        await self.request("HEAD", resource)

    async def ping(self) -> Ping:
        """Ping, with the round trip of the answered request (rate-limit waits excluded)."""
        pong = await self._call(Ping, "GET", "ping")
        return dataclasses.replace(pong, round_trip=_round_trip.get())

    async def whoami(self) -> WhoAmI:
        return await self._call(WhoAmI, "GET", "whoami")

    async def list_tags(self) -> list[Tag]:
        return await self._get_list(Tag, "tags")

    async def list_conversation_starters(self) -> list[ConversationStarter]:
        return await self._get_list(ConversationStarter, "conversation_starters")

    async def list_handoffs(self, limit: int | None = None) -> list[Handoff]:
        return await self._get_list(Handoff, "handoffs", limit=limit)

    async def list_transcripts(
        self, limit: int | None = None, session_id: str | None = None
    ) -> list[Transcript]:
        return await self._get_list(Transcript, "transcripts", limit=limit, session_id=session_id)

    async def get_usage(self) -> Usage:
        return await self._call(Usage, "GET", "usage")

    async def list_feedback(self, limit: int | None = None) -> list[Feedback]:
        return await self._get_list(Feedback, "feedback", limit=limit)

    async def list_webhook_subscriptions(
        self, event: str | None = None
    ) -> list[WebhookSubscription]:
        return await self._get_list(WebhookSubscription, "webhook_subscriptions", event=event)

    async def list_visitors(self, limit: int | None = None) -> list[Visitor]:
        return await self._get_list(Visitor, "visitors", limit=limit)

    async def get_notifier_settings(self, platform: Platform) -> NotifierSettings:
        return await self._call(NotifierSettings, "GET", f"{platform}_settings")

    # -- write resources --------------------------------------------------------------------

    async def create_tag(
        self, name: str, *, color: str | None = None, description: str | None = None
    ) -> Tag:
        """Create a tag; an existing name returns that tag with ``created=False``."""
        body = _present(name=name, color=color, description=description)
        return await self._call(Tag, "POST", "tags", body=body)

    async def update_tag(
        self,
        tag_id: int,
        *,
        name: str | None = None,
        color: str | None = None,
        description: str | None = None,
    ) -> Tag:
        body = _present(id=tag_id, name=name, color=color, description=description)
        return await self._call(Tag, "PATCH", "tags", body=body)

    async def delete_tag(self, tag_id: int) -> Tag:
        """Soft-delete a tag (it stays, disabled, for history)."""
        return await self._call(Tag, "DELETE", "tags", params={"id": tag_id})

    async def apply_tag(self, session_id: str, tag_id: int) -> AppliedTag:
        body = {"session_id": session_id, "tag_id": tag_id}
        return await self._call(AppliedTag, "POST", "apply_tag", body=body)

    async def remove_tag(self, session_id: str, tag_id: int) -> RemovedTag:
        params = {"session_id": session_id, "tag_id": tag_id}
        return await self._call(RemovedTag, "DELETE", "apply_tag", params=params)

    async def create_webhook_subscription(
        self, *, url: str, events: Sequence[str] | str, label: str
    ) -> WebhookSubscription:
        """Subscribe ``url``; the answer holds the full secret, this once."""
        body = {"label": label, "url": url, "events": _csv(events)}
        return await self._call(WebhookSubscription, "POST", "webhook_subscriptions", body=body)

    async def update_webhook_subscription(
        self,
        subscription_id: int,
        *,
        label: str | None = None,
        url: str | None = None,
        events: Sequence[str] | str | None = None,
        enabled: bool | None = None,
    ) -> WebhookSubscription:
        body = _present(
            id=subscription_id,
            label=label,
            url=url,
            events=_csv(events) if events is not None else None,
            enabled=enabled,
        )
        return await self._call(WebhookSubscription, "PATCH", "webhook_subscriptions", body=body)

    async def delete_webhook_subscription(self, subscription_id: int) -> DeletedSubscription:
        return await self._call(
            DeletedSubscription, "DELETE", "webhook_subscriptions", params={"id": subscription_id}
        )

    async def rotate_webhook_secret(self, subscription_id: int) -> RotatedSecret:
        return await self._call(
            RotatedSecret, "POST", "rotate_webhook_secret", body={"id": subscription_id}
        )

    async def test_webhook(self, subscription_id: int) -> WebhookTestResult:
        return await self._call(
            WebhookTestResult, "POST", "test_webhook", body={"id": subscription_id}
        )

    async def update_notifier_settings(
        self,
        platform: Platform,
        *,
        webhook_url: str | None = None,
        events: Sequence[str] | None = None,
    ) -> NotifierSettings:
        body = _present(
            webhook_url=webhook_url, events=list(events) if events is not None else None
        )
        return await self._call(NotifierSettings, "PATCH", f"{platform}_settings", body=body)

    async def upsert_visitor(
        self,
        visitor_key: str,
        *,
        email: str | None = None,
        name: str | None = None,
        plan: str | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> Visitor:
        body = _present(
            visitor_key=visitor_key,
            email=email,
            name=name,
            plan=plan,
            attributes=dict(attributes) if attributes else None,
        )
        return await self._call(Visitor, "POST", "visitors", body=body)

    async def track_visitor_event(
        self, visitor_key: str, event: str, properties: Mapping[str, Any] | None = None
    ) -> VisitorEvent:
        body = _present(
            visitor_key=visitor_key,
            event=event,
            properties=dict(properties) if properties else None,
        )
        return await self._call(VisitorEvent, "POST", "visitor_event", body=body)


def _since(start: float) -> float:
    return time.perf_counter() - start


def _transport_error(exc: BaseException) -> APIConnectionError | None:
    """What an httpx failure means for the request; None for anything else (re-raised)."""
    name = type(exc).__name__
    if isinstance(exc, _NOT_SENT):
        return ConnectionFailed(f"could not reach MyLiveChat ({name})")
    if isinstance(exc, httpx.TimeoutException):
        return APITimeout(f"MyLiveChat did not answer in time ({name})")
    if isinstance(exc, httpx.TransportError):
        return ConnectionLost(f"the connection to MyLiveChat dropped before it answered ({name})")
    if isinstance(exc, httpx.DecodingError):
        return UndecodableResponse(f"MyLiveChat's answer could not be decoded ({name})")
    return None


def _outcome(
    exc: MyLiveChatError,
    unsettled: MyLiveChatError | None,
    method: str,
    resource: str,
    safe: bool,
) -> MyLiveChatError:
    """The error to raise for a request's last failure ``exc``.

    A write that an attempt may have applied (``unsettled``) is an :class:`OutcomeUnknown`,
    unless the last answer was an API error that says where things stand (e.g. 404).
    """
    settles = not (_answer_lost(exc) or isinstance(exc, ConnectionFailed | RateLimited))
    if unsettled is None or settles:
        return exc
    return OutcomeUnknown(unsettled, method=method, resource=resource, safe_to_repeat=safe)


def _present(**fields: Any) -> dict[str, Any]:
    """The fields that were given (PATCH updates only what is present)."""
    return {k: v for k, v in fields.items() if v is not None}


def _csv(events: Sequence[str] | str) -> str:
    return events if isinstance(events, str) else ",".join(events)


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(float(response.headers.get("Retry-After", "1")), 0.0)
    except ValueError:
        return 1.0
