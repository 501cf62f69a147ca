"""The alert subscription's webhook secret, encrypted at rest with ``MLC_BOT_SECRET_KEY``.

Fernet (the ``cryptography`` package): authenticated symmetric encryption, so a database
copied off the machine holds no usable secret, and a tampered row fails to decrypt.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken

from ..storage.lazy import LazyDatabase

__all__ = ["EncryptedSecrets", "new_key", "valid_key"]

log = logging.getLogger("mlc_bot.alerts")


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
    """The core's :class:`~commands.alerts.store.SecretStore`, encrypted with Fernet."""

    def __init__(self, database: LazyDatabase, key: str) -> None:
        self._database = database
        self._fernet = Fernet(key.encode())
        self._warned = False

    async def subscription_id(self) -> int | None:
        async with self._database.alert_records() as records:
            return await records.current_subscription()

    async def put(
        self, subscription_id: int, secret: str, now: datetime, *, grace: timedelta
    ) -> None:
        token = self._fernet.encrypt(secret.encode()).decode()
        async with self._database.alert_records() as records:
            await records.put_secret(subscription_id, token, now, grace=grace)

    async def valid(self, now: datetime) -> list[str]:
        secrets = []
        async with self._database.alert_records() as records:
            stored = await records.secrets(now)
        for _, token in stored:
            try:
                secrets.append(self._fernet.decrypt(token.encode()).decode())
            except InvalidToken:
                if not self._warned:  # once: a key changed under a stored secret
                    self._warned = True
                    log.error(
                        "a stored webhook secret does not decrypt with MLC_BOT_SECRET_KEY "
                        "(was the key changed?); run `alerts rotate` to store a new one"
                    )
        return secrets

    async def forget(self) -> None:
        async with self._database.alert_records() as records:
            await records.forget_secrets()
