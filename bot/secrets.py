"""Keeping secrets out of logs, errors and reprs.

:class:`Secret` wraps a value so that printing it shows nothing;
:func:`redact` scrubs text of anything that looks like a credential or a
webhook URL, and of every value registered with :func:`register_secret`.
:class:`RedactingFilter` applies it to log records.
"""

from __future__ import annotations

import logging
import re
import threading

__all__ = ["REGISTRY", "RedactingFilter", "Registry", "Secret", "redact", "register_secret"]

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bmlc_[A-Za-z0-9_\-]{6,}"), "mlc_***"),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]+"), "xox*-***"),
    (re.compile(r"\bxapp-[A-Za-z0-9\-]+"), "xapp-***"),
    (re.compile(r"https://hooks\.slack\.com/\S+"), "https://hooks.slack.com/***"),
    (
        re.compile(r"https://(?:discord|discordapp)\.com/api/webhooks/\S+"),
        "https://discord.com/api/webhooks/***",
    ),
    (
        re.compile(r"https://[\w.\-]+\.(?:webhook\.office\.com|logic\.azure\.com)\S*"),
        "https://***.webhook.office.com/***",
    ),
    (re.compile(r"\b[\w\-]{23,28}\.[\w\-]{6,7}\.[\w\-]{27,40}\b"), "***discord-token***"),
    (re.compile(r"(sha256=)[0-9a-f]{64}"), r"\1***"),
)


class Registry:
    """The process's secrets (the core's ``SecretRegistry``): registered values and the
    shapes of credentials (tokens, webhook URLs, signatures) are redacted from any text."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def register(self, value: str | None) -> None:
        if value and len(value) >= 6:
            with self._lock:
                self._values.add(value)

    def redact(self, text: str) -> str:
        with self._lock:
            values = sorted(self._values, key=len, reverse=True)
        for value in values:
            if value in text:
                text = text.replace(value, "***")
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def forget_all(self) -> None:
        """Drop every registered value (tests that register junk on purpose)."""
        with self._lock:
            self._values.clear()


REGISTRY = Registry()
"""The one registry of this process: what commands register, the log filter redacts."""


def register_secret(value: str | None) -> None:
    """Make ``value`` redacted wherever it appears from now on."""
    REGISTRY.register(value)


def redact(text: str) -> str:
    return REGISTRY.redact(text)


class Secret:
    """A string that never shows itself: ``str()`` and ``repr()`` print ``***``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        register_secret(value)

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


class RedactingFilter(logging.Filter):
    """Scrubs each record's final message (and traceback text) of secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True
