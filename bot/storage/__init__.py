"""The bot's own database (``DATABASE_URL``): digest subscriptions and their deliveries.

SQLAlchemy 2 (async) on SQLite or PostgreSQL; the schema is versioned with Alembic and
upgraded on start by :func:`migrate`.
"""

from .digests import (
    DEFAULT_LEASE,
    Delivery,
    DeliveryStatus,
    DigestStore,
    Lease,
    NewSubscription,
    Subscription,
)
from .engine import create_engine
from .migrate import current_revision, head_revision, migrate
from .urls import async_database_url, display_url

__all__ = [
    "DEFAULT_LEASE",
    "Delivery",
    "DeliveryStatus",
    "DigestStore",
    "Lease",
    "NewSubscription",
    "Subscription",
    "async_database_url",
    "create_engine",
    "current_revision",
    "display_url",
    "head_revision",
    "migrate",
]
