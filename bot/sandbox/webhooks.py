"""Outbound webhook deliveries: secrets, HMAC signatures, payloads and the signed POST."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bot.sandbox.state import iso

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-MLC-Signature"
TIMESTAMP_HEADER = "X-MLC-Timestamp"
DELIVERY_TIMEOUT = 5.0
USER_AGENT = "MyLiveChat-Webhooks/1.0 (sandbox)"


def new_secret() -> str:
    """A fresh 24-byte secret, base64url without padding (32 characters)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(24)).rstrip(b"=").decode("ascii")


def sign(secret: str, body: bytes) -> str:
    """The X-MLC-Signature value: `sha256=` + hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def build_payload(event: str, site_id: int, data: dict[str, Any]) -> dict[str, Any]:
    # Wall-clock time, not the sandbox clock: receivers reject stale timestamps by their own clock.
    return {
        "id": f"evt_{secrets.token_hex(12)}",
        "event": event,
        "site_id": site_id,
        "occurred_utc": iso(datetime.now(UTC)),
        "data": data,
    }


@dataclass(frozen=True)
class DeliveryAttempt:
    """What happened when one payload was POSTed to a receiver."""

    url: str = field(repr=False)  # receiver URLs often embed a secret path
    payload: dict[str, Any]
    body: bytes = field(repr=False)
    delivered: bool
    receiver_status: int | None


@dataclass(frozen=True)
class PostResult:
    """The receiver's HTTP status, or why there was none (`error`: "timeout", a class name)."""

    status: int | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def encode(payload: dict[str, Any]) -> bytes:
    """The raw body that is signed and sent: compact JSON, UTF-8."""
    return json.dumps(payload, separators=(",", ":")).encode("utf-8")


def receiver_host(url: str) -> str:
    """The only part of a receiver URL that may be shown: its host."""
    return urlsplit(url).hostname or "?"


async def post_signed(
    session: aiohttp.ClientSession,
    url: str,
    secret: str,
    body: bytes,
    *,
    answer_within: float = DELIVERY_TIMEOUT,
) -> PostResult:
    """POST `body` once, signed with `secret` and stamped now; no redirects followed.

    No answer within `answer_within` seconds is the error "timeout".
    """
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: sign(secret, body),
        TIMESTAMP_HEADER: iso(datetime.now(UTC)) or "",
    }
    try:
        async with session.post(
            url,
            data=body,
            headers=headers,
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=answer_within),
        ) as resp:
            await resp.read()
            return PostResult(resp.status, None)
    except TimeoutError:
        return PostResult(None, "timeout")
    except (aiohttp.ClientError, OSError) as exc:
        # The class name only: some exceptions' text holds the full URL.
        return PostResult(None, type(exc).__name__)


async def deliver(url: str, secret: str, payload: dict[str, Any]) -> DeliveryAttempt:
    """POST the signed payload once (test_webhook); a 2xx answer counts as delivered."""
    body = encode(payload)
    async with aiohttp.ClientSession() as session:
        result = await post_signed(session, url, secret, body)
    if result.error is not None:
        log.info(
            "webhook delivery %s to %s failed: %s", payload["id"], receiver_host(url), result.error
        )
    return DeliveryAttempt(
        url=url,
        payload=payload,
        body=body,
        delivered=result.delivered,
        receiver_status=result.status,
    )
