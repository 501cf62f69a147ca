"""Fixtures of the shared-store tests: the digests' database per test (a SQLite file, or a
PostgreSQL schema), and Redis (the machine's, or a ``redis-server`` of the test's own)."""

from __future__ import annotations

from tests.digests.conftest import Database, database  # noqa: F401

__all__ = ["Database"]
