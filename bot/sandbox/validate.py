"""API errors and strict field validation shared by the sandbox resource handlers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

EVENTS: tuple[str, ...] = ("handoff", "feedback")
LIMIT_DEFAULT = 50
LIMIT_MAX = 200

_COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
_DIGITS_RE = re.compile(r"^[0-9]+$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

_MISSING = object()


class ApiError(Exception):
    """An error the API answers with an `{"ok": false, "error": ...}` envelope."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def bad_request(message: str) -> ApiError:
    return ApiError(400, "bad_request", message)


def missing_field(name: str) -> ApiError:
    return ApiError(400, "missing_field", f"missing required field '{name}'")


def bad_field(message: str) -> ApiError:
    return ApiError(400, "bad_field", message)


def not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)


def _get(body: Mapping[str, Any], name: str) -> Any:
    """The field's value, or _MISSING when absent or null (null counts as not sent)."""
    value = body.get(name, _MISSING)
    return _MISSING if value is None else value


def req_str(body: Mapping[str, Any], name: str, *, max_len: int = 200) -> str:
    """A required, non-blank string field (stripped)."""
    value = _get(body, name)
    if value is _MISSING:
        raise missing_field(name)
    return _check_str(name, value, max_len=max_len)


def opt_str(body: Mapping[str, Any], name: str, *, max_len: int = 200) -> str | None:
    """An optional non-blank string field; None when absent or null."""
    value = _get(body, name)
    if value is _MISSING:
        return None
    return _check_str(name, value, max_len=max_len)


def _check_str(name: str, value: Any, *, max_len: int) -> str:
    if not isinstance(value, str):
        raise bad_field(f"'{name}' must be a string")
    value = value.strip()
    if not value:
        raise bad_field(f"'{name}' must not be empty")
    if len(value) > max_len:
        raise bad_field(f"'{name}' must be at most {max_len} characters")
    return value


def opt_text(body: Mapping[str, Any], name: str, *, max_len: int = 500) -> str | None:
    """An optional free-text field where null or "" means "clear it" (returns "")."""
    if name not in body:
        return None
    value = body[name]
    if value is None:
        return ""
    if not isinstance(value, str):
        raise bad_field(f"'{name}' must be a string")
    if len(value.strip()) > max_len:
        raise bad_field(f"'{name}' must be at most {max_len} characters")
    return value.strip()


def req_int(body: Mapping[str, Any], name: str) -> int:
    """A required JSON integer field (booleans and numeric strings are rejected)."""
    value = _get(body, name)
    if value is _MISSING:
        raise missing_field(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_field(f"'{name}' must be an integer")
    return value


def opt_bool(body: Mapping[str, Any], name: str) -> bool | None:
    value = _get(body, name)
    if value is _MISSING:
        return None
    if not isinstance(value, bool):
        raise bad_field(f"'{name}' must be true or false")
    return value


def opt_object(body: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    value = _get(body, name)
    if value is _MISSING:
        return None
    if not isinstance(value, dict):
        raise bad_field(f"'{name}' must be a JSON object")
    return value


def opt_color(body: Mapping[str, Any], name: str = "color") -> str | None:
    value = _get(body, name)
    if value is _MISSING:
        return None
    if not isinstance(value, str) or not _COLOR_RE.match(value):
        raise bad_field(f"'{name}' must be a hex color like #7c3aed")
    return value.lower()


def opt_email(body: Mapping[str, Any], name: str = "email") -> str | None:
    value = opt_str(body, name, max_len=254)
    if value is not None and not _EMAIL_RE.match(value):
        raise bad_field(f"'{name}' must be an email address")
    return value


def query_str(query: Mapping[str, str], name: str) -> str:
    """A required query-string key."""
    value = query.get(name)
    if value is None or not value.strip():
        raise missing_field(name)
    return value.strip()


def query_int(query: Mapping[str, str], name: str) -> int:
    """A required integer query-string key (digits only)."""
    value = query_str(query, name)
    if not _DIGITS_RE.match(value):
        raise bad_field(f"'{name}' must be an integer")
    return int(value)


def parse_limit(query: Mapping[str, str]) -> int:
    """The `limit` query key: default 50, an integer 1..200, anything else is bad_field."""
    raw = query.get("limit")
    if raw is None:
        return LIMIT_DEFAULT
    if not _DIGITS_RE.match(raw) or not 1 <= int(raw) <= LIMIT_MAX:
        raise bad_field(f"'limit' must be an integer from 1 to {LIMIT_MAX}")
    return int(raw)


def parse_event_name(value: str, field: str = "event") -> str:
    event = value.strip()
    if event not in EVENTS:
        raise bad_field(f"unknown event '{event}' in '{field}'; allowed: {', '.join(EVENTS)}")
    return event


def events_csv(body: Mapping[str, Any], name: str = "events") -> list[str] | None:
    """The webhook-subscription events field: a CSV string such as "handoff,feedback"."""
    value = _get(body, name)
    if value is _MISSING:
        return None
    if not isinstance(value, str):
        raise bad_field(f"'{name}' must be a comma-separated string like \"handoff,feedback\"")
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if not parts:
        raise bad_field(f"'{name}' must list at least one event: {', '.join(EVENTS)}")
    return _dedupe([parse_event_name(p, name) for p in parts])


def events_array(body: Mapping[str, Any], name: str = "events") -> list[str] | None:
    """The notifier events field: a JSON array of event names (may be empty)."""
    value = _get(body, name)
    if value is _MISSING:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_field(f"'{name}' must be a JSON array of event names: {', '.join(EVENTS)}")
    return _dedupe([parse_event_name(v, name) for v in value])


def http_url(body: Mapping[str, Any], name: str = "url") -> str | None:
    """An optional absolute http(s) URL."""
    value = opt_str(body, name, max_len=2048)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in value:
        raise bad_field(f"'{name}' must be an absolute URL starting with http:// or https://")
    return value


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
