"""Outbound webhook deliveries: secrets, HMAC signatures, payloads and the signed POST."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bot.sandbox.state import iso

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-MLC-Signature"
TIMESTAMP_HEADER = "X-MLC-Timestamp"
DELIVERY_TIMEOUT = 5.0


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

    url: str
    payload: dict[str, Any]
    body: bytes
    delivered: bool
    receiver_status: int | None


async def deliver(url: str, secret: str, payload: dict[str, Any]) -> DeliveryAttempt:
    """POST the signed payload once; a 2xx answer counts as delivered, no redirects followed."""
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "MyLiveChat-Webhooks/1.0 (sandbox)",
        SIGNATURE_HEADER: sign(secret, body),
        TIMESTAMP_HEADER: iso(datetime.now(UTC)) or "",
    }
    status: int | None = None
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=DELIVERY_TIMEOUT)) as session,
            session.post(url, data=body, headers=headers, allow_redirects=False) as resp,
        ):
            status = resp.status
            await resp.read()
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        # Only scheme and host: receiver URLs often embed a secret path.
        parts = urlsplit(url)
        log.info(
            "webhook delivery %s to %s://%s failed: %r",
            payload["id"],
            parts.scheme,
            parts.hostname,
            exc,
        )
    return DeliveryAttempt(
        url=url,
        payload=payload,
        body=body,
        delivered=status is not None and 200 <= status < 300,
        receiver_status=status,
    )
