"""The bot's own database (``DATABASE_URL``): digest subscriptions and their deliveries.

SQLAlchemy 2 (async) on SQLite or PostgreSQL; the schema is versioned with Alembic and
upgraded on start by :func:`migrate`. ``DigestStore`` is the whole schema for the scheduler;
``LazySubscriptionStore`` is the core's ``SubscriptionStore`` port on it, opened on first use.

Names are imported on first access, so building a ``LazySubscriptionStore`` (every process
does) does not import SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .digests import DEFAULT_LEASE, DeliveryRecord, DeliveryStatus, DigestStore, Lease
    from .engine import create_engine
    from .lazy import LazySubscriptionStore
    from .migrate import current_revision, head_revision, migrate
    from .urls import async_database_url, display_url

_WHERE = {
    "DEFAULT_LEASE": "digests",
    "DeliveryRecord": "digests",
    "DeliveryStatus": "digests",
    "DigestStore": "digests",
    "Lease": "digests",
    "LazySubscriptionStore": "lazy",
    "create_engine": "engine",
    "current_revision": "migrate",
    "head_revision": "migrate",
    "migrate": "migrate",
    "async_database_url": "urls",
    "display_url": "urls",
}

__all__ = [
    "DEFAULT_LEASE",
    "DeliveryRecord",
    "DeliveryStatus",
    "DigestStore",
    "LazySubscriptionStore",
    "Lease",
    "async_database_url",
    "create_engine",
    "current_revision",
    "display_url",
    "head_revision",
    "migrate",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)
