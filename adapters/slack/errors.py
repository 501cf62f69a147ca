"""Slack's error code from a failed Web API call, whatever shape the answer had."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

__all__ = ["slack_error"]


def slack_error(exc: SlackApiError) -> str:
    """``channel_not_found``-style code; ``HTTP 503`` when Slack (or a proxy) sent no JSON."""
    response = exc.response
    data = getattr(response, "data", None)
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    status = getattr(response, "status_code", None)
    return f"HTTP {status}" if status else "unknown error"
