"""One way to round a figure for people, so a figure shown twice reads the same twice."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

__all__ = ["percent"]


def percent(value: float | None) -> str:
    """A percentage (``50.5`` for half and a bit) as people round it: ``"51%"``.

    Halves round up, as on paper (Python's own rounding would show 50.5 as 50 and
    0.505 as 51%). Short of 100 never shows as 100%: 99.7% used is "99%", not full.
    """
    if value is None:
        return "n/a"
    shown = Decimal(repr(float(value))).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    if shown >= 100 > value:
        shown = Decimal(99)
    return f"{shown:,}%"
