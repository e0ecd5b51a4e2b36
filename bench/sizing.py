"""Sizing a benchmark by time rather than by count (issue 16): from the rate a probe measured, how many items
fit the seconds left, so a slower CPU measures fewer items instead of running long or failing."""
from __future__ import annotations


def items_for(done: int, elapsed: float, seconds_left: float, *, least: int, most: int) -> int:
    """Items the rate so far (`done` in `elapsed` seconds) gets through in `seconds_left`, in [least, most].

    `most` (a count option kept as an upper bound) wins over `least` (the probe size) when it is smaller.
    """
    if elapsed <= 0:
        return most
    return min(most, max(least, int(done / elapsed * max(0.0, seconds_left))))
