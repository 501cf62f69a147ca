"""Accepting a signed webhook delivery: verified, fresh, parsed, and kept exactly once.

MyLiveChat signs each delivery with ``X-MLC-Signature: sha256=<hex HMAC-SHA256 of the raw
body>`` keyed with the subscription's secret, and stamps it ``X-MLC-Timestamp``. The
timestamp is not signed, so it only bounds how old a delivery may claim to be; replays are
stopped by the event id, which the alert store keeps well beyond that bound.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.mylivechat import parse_datetime

from .model import EVENT_KINDS, AlertEvent
from .store import AlertStore, SecretStore

__all__ = ["TOLERANCE", "Inbox", "Verdict", "signature_of"]

log = logging.getLogger("mlc_bot.alerts")

TOLERANCE = timedelta(minutes=5)
"""How far a delivery's timestamp may be from now."""


class Verdict(enum.StrEnum):
    """What became of a delivery; the receiver answers each with its HTTP status."""

    ACCEPTED = "accepted"  # kept: it will be alerted
    DUPLICATE = "duplicate"  # its id was received before: nothing more happens
    TEST = "test"  # a verified test delivery (webhooks test, alerts add): answered 200
    IGNORED = "ignored"  # verified but not alertable (malformed JSON, unknown event)
    FORGED = "forged"  # no signature, or none of the valid secrets made it
    STALE = "stale"  # signed, but its timestamp is too far from now


def signature_of(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Inbox:
    """The core's side of the webhook receiver."""

    def __init__(
        self,
        secrets: SecretStore,
        alerts: AlertStore,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        """``wake`` is called after an event was kept, so the alert worker posts it now."""
        self._secrets = secrets
        self._alerts = alerts
        self._clock = clock
        self._wake = wake

    async def accept(self, body: bytes, signature: str | None, timestamp: str | None) -> Verdict:
        now = self._clock()
        if not signature or not await self._signed(body, signature, now):
            return Verdict.FORGED
        sent = parse_datetime(timestamp)
        if sent is None or abs(now - sent) > TOLERANCE:
            return Verdict.STALE
        try:
            payload = json.loads(body)
            event = AlertEvent.from_payload(payload if isinstance(payload, dict) else {})
        except (ValueError, RecursionError):
            log.warning("ignored a signed webhook delivery that is not an event")
            return Verdict.IGNORED
        if event.kind == "test":
            log.info("webhook test delivery %s verified", event.event_id)
            return Verdict.TEST
        if event.kind not in EVENT_KINDS:
            log.warning("ignored webhook event %s of unknown kind", event.event_id)
            return Verdict.IGNORED
        if not await self._alerts.enqueue(event, now):
            log.info("webhook event %s was delivered before; not alerted again", event.event_id)
            return Verdict.DUPLICATE
        self._wake()
        return Verdict.ACCEPTED

    async def _signed(self, body: bytes, signature: str, now: datetime) -> bool:
        given = signature.strip().encode()
        # A recent copy of the secrets first; before refusing, the stored ones (a secret
        # issued a moment ago, by this process or another, must verify at once).
        for fresh in (False, True):
            found = False
            for secret in await self._secrets.valid(now, fresh=fresh):
                # Compare with every secret (no early exit): the time taken says nothing.
                found |= hmac.compare_digest(signature_of(secret, body).encode(), given)
            if found:
                return True
        return False
