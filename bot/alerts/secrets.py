"""The alert subscription's webhook secret, encrypted at rest with ``MLC_BOT_SECRET_KEY``.

Fernet (the ``cryptography`` package): authenticated symmetric encryption, so a database
copied off the machine holds no usable secret, and a tampered row fails to decrypt.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken

from ..storage.lazy import LazyDatabase

__all__ = ["RECENT", "EncryptedSecrets", "new_key", "valid_key"]

log = logging.getLogger("mlc_bot.alerts")

RECENT = timedelta(seconds=5)
"""How long decrypted secrets are reused before the database is read again. A secret
another process retired is still accepted here this much longer than its window."""


def new_key() -> str:
    """A fresh key for MLC_BOT_SECRET_KEY."""
    return Fernet.generate_key().decode()


def valid_key(key: str) -> bool:
    try:
        Fernet(key.encode())
    except (ValueError, TypeError):
        return False
    return True


class EncryptedSecrets:
    """The core's :class:`~commands.alerts.store.SecretStore`, encrypted with Fernet.

    Every delivery is verified against the secrets, so the decrypted ones are kept for a
    few seconds (:data:`RECENT`); each keeps its own end of validity, so a rotation's grace
    window ends on time. A new secret (another process's rotation) is found by a ``fresh``
    read, which the inbox makes before it refuses a delivery.
    """

    def __init__(
        self, database: LazyDatabase, key: str, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._database = database
        self._fernet = Fernet(key.encode())
        self._clock = clock
        self._warned = False
        self._recent: tuple[float, list[tuple[str, datetime | None]]] | None = None

    async def subscription_id(self) -> int | None:
        async with self._database.alert_records() as records:
            return await records.current_subscription()

    async def put(
        self, subscription_id: int, secret: str, now: datetime, *, grace: timedelta
    ) -> None:
        token = self._fernet.encrypt(secret.encode()).decode()
        self._recent = None
        async with self._database.alert_records() as records:
            await records.put_secret(subscription_id, token, now, grace=grace)

    async def valid(self, now: datetime, *, fresh: bool = False) -> list[str]:
        recent = self._recent
        if fresh or recent is None or self._clock() - recent[0] > RECENT.total_seconds():
            async with self._database.alert_records() as records:
                stored = await records.secrets(now)
            recent = self._recent = (self._clock(), self._decrypted(stored))
        return [secret for secret, until in recent[1] if until is None or until >= now]

    def _decrypted(
        self, stored: list[tuple[str, datetime | None]]
    ) -> list[tuple[str, datetime | None]]:
        secrets = []
        for token, until in stored:
            try:
                secrets.append((self._fernet.decrypt(token.encode()).decode(), until))
            except InvalidToken:
                if not self._warned:  # once: a key changed under a stored secret
                    self._warned = True
                    log.error(
                        "a stored webhook secret does not decrypt with MLC_BOT_SECRET_KEY "
                        "(was the key changed?); run `alerts rotate` to store a new one"
                    )
        return secrets

    async def forget(self) -> None:
        self._recent = None
        async with self._database.alert_records() as records:
            await records.forget_secrets()
