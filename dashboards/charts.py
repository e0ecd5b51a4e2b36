"""Server-side chart geometry (inline SVG): nothing to load from a CDN, nothing to vendor."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

PALETTE: Final = ("#b3261e", "#1f6feb", "#2da44e", "#bf8700", "#8250df", "#cf222e", "#0a7ea4", "#6e7781",
                  "#e16f24", "#116329", "#953800")


@dataclass(frozen=True, slots=True)
class Bar:
    """One coloured segment of a stacked bar."""

    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass(frozen=True, slots=True)
class StackedBars:
    """A stacked bar chart laid out in a width × height box."""

    width: int
    height: int
    bars: tuple[Bar, ...]
    labels: tuple[tuple[float, str], ...]
    legend: tuple[tuple[str, str], ...]
    max_total: int


def stacked_bars(days: list[dict[str, Any]], names: dict[str, str], *, width: int = 760, height: int = 220) -> StackedBars:
    """Lay out a date_histogram whose buckets have a `category` terms sub-aggregation."""
    categories = sorted({c["key"] for d in days for c in d["category"]["buckets"]})
    colour = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(categories)}
    max_total = max((d["doc_count"] for d in days), default=0) or 1
    step = width / max(len(days), 1)
    bars, labels = [], []
    for i, day in enumerate(days):
        y = float(height)
        for c in day["category"]["buckets"]:
            h = c["doc_count"] / max_total * (height - 10)
            y -= h
            bars.append(Bar(i * step + 1, y, max(step - 2, 1), h, colour[c["key"]],
                            f"{day['key_as_string'][:10]} · {names.get(c['key'], c['key'])}: {c['doc_count']}"))
        if len(days) <= 31 or i % max(len(days) // 15, 1) == 0:
            labels.append((i * step + step / 2, day["key_as_string"][5:10]))
    legend = tuple((colour[c], names.get(c, c)) for c in categories)
    return StackedBars(width, height, tuple(bars), tuple(labels), legend, max_total)


HEAT_LEVELS: Final = 10


def heat(value: int, maximum: int) -> int:
    """The heat-map level of a cell, 0 (empty) to HEAT_LEVELS; site.css colours `.heat-N` from white to red.

    A class rather than an inline style: the Content-Security-Policy allows no inline styles.
    """
    if not value or not maximum:
        return 0
    return max(1, min(HEAT_LEVELS, round(value / maximum * HEAT_LEVELS)))
