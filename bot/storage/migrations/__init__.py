"""Alembic migrations of the bot's database (a package so wheels ship them)."""
