"""Filled in by the command-core work."""
